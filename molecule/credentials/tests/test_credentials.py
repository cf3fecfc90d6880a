"""The credentials role: each host holds exactly the secrets its groups need, encrypted, and
a unit reads the plain value from $CREDENTIALS_DIRECTORY without it reaching its environment."""
import os
import pathlib

import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
STORE = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "credentials"
testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("all")


def secret(name):
    return (STORE / name).read_text()


def test_controller_store_is_private():
    assert STORE.stat().st_mode & 0o777 == 0o700
    for path in STORE.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
        assert len(path.read_text()) >= 16, path


APP_SECRETS = {
    "postgresql_invenio_password", "redis_password", "rabbitmq_invenio_password", "opensearch_invenio_password",
    "invenio_secret_key",
    "invenio_security_login_salt", "invenio_security_password_salt", "invenio_admin_password",
}
EXPECTED = {"invenio_app": APP_SECRETS, "invenio_cache": {"redis_password"},
            "invenio_search": {"opensearch_admin_password"}}


def test_host_holds_exactly_the_secrets_its_groups_need(host):
    groups = host.ansible.get_variables()["group_names"]
    expected = set().union(*(EXPECTED.get(group, set()) for group in groups))
    assert set(host.file("/etc/credstore.encrypted").listdir()) == expected
    for name in expected:
        credential = host.file(f"/etc/credstore.encrypted/{name}")
        assert credential.user == "root" and credential.mode == 0o600


def test_credential_is_encrypted_at_rest(host):
    for name in host.file("/etc/credstore.encrypted").listdir():
        assert secret(name) not in host.file(f"/etc/credstore.encrypted/{name}").content_string


def test_unit_reads_the_value_but_its_environment_does_not_hold_it(host):
    name = "redis_password"
    value = secret(name)
    read = host.run(
        "systemd-run --quiet --wait --pipe --collect -p DynamicUser=yes -p LoadCredentialEncrypted=%s "
        "/bin/sh -c 'cat \"$CREDENTIALS_DIRECTORY/%s\"; echo; env'", name, name)
    assert read.rc == 0, read.stderr
    first, _, environment = read.stdout.partition("\n")
    assert first == value
    assert value not in environment
    assert "CREDENTIALS_DIRECTORY=" in environment
