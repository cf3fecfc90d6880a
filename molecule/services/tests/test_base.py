"""The base role: every server has the base packages, trusts the listed CAs, keeps a persistent
journal, synchronises time and installs Debian security updates (and only those) unattended."""
import os

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("all")

BASE_PACKAGES = ["acl", "ca-certificates", "curl", "gnupg", "iproute2", "procps", "python3-apt",
                 "systemd-timesyncd", "unattended-upgrades"]
CA_MANIFEST = "/var/lib/rdmops/base/extra-ca-certificates"


@pytest.mark.parametrize("name", BASE_PACKAGES)
def test_base_package_is_installed(host, name):
    assert host.package(name).is_installed


def test_listed_ca_certificates_are_in_the_system_bundle(host):
    listed = host.ansible.get_variables()["base_extra_ca_certificates"]
    assert listed, "the scenario must list a CA certificate for this test to check anything"
    bundle = host.file("/etc/ssl/certs/ca-certificates.crt").content_string.replace("\n", "")
    recorded = host.file(CA_MANIFEST).content_string.splitlines()
    for certificate in listed:
        body = "".join(line for line in certificate["pem"].splitlines() if not line.startswith("-----"))
        assert body in bundle, certificate["name"]
        assert certificate["name"] in recorded


def test_service_users_have_no_password_and_no_shell(host):
    users = host.ansible.get_variables()["base_service_users"]
    assert users, "the scenario must define service users for this test to check anything"
    for user in users:
        account = host.user(user["name"])
        assert account.exists
        assert account.shell == "/usr/sbin/nologin"
        assert account.password in ("!", "!*", "*")
        assert account.uid < 1000


def test_journal_is_persistent(host):
    assert host.file("/var/log/journal").is_directory
    config = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    # Later files win: the last assignment of each key is the one journald uses.
    effective = dict(line.split("=", 1) for line in config.splitlines() if "=" in line and not line.startswith("#"))
    assert effective["Storage"] == "persistent"
    assert effective["SystemMaxUse"] == host.ansible.get_variables().get("base_journald_max_use", "1G")
    # journald really writes there, not to the volatile /run/log/journal.
    assert "File path: /var/log/journal/" in host.check_output("journalctl --header")


def test_unattended_upgrades_allow_debian_security_only(host):
    dump = host.check_output("apt-config dump Unattended-Upgrade::Origins-Pattern")
    patterns = [line.split(" ", 1)[1].strip('";') for line in dump.splitlines() if "::Origins-Pattern::" in line]
    assert patterns, dump
    assert all("label=Debian-Security" in pattern for pattern in patterns), patterns
    # The tool itself agrees, and keeps the main archive (point releases) out.
    out = host.check_output("timeout 120 unattended-upgrade --dry-run --debug 2>&1 | grep -m1 '^Allowed origins are:'")
    assert "label=Debian-Security" in out
    assert "label=Debian," not in out and "-updates" not in out


def test_unattended_upgrades_run_daily_without_reboot(host):
    dump = host.check_output("apt-config dump APT::Periodic Unattended-Upgrade::Automatic-Reboot")
    assert 'APT::Periodic::Update-Package-Lists "1";' in dump
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in dump
    assert host.service("apt-daily-upgrade.timer").is_enabled


def test_time_synchronisation_is_enabled(host):
    assert host.service("systemd-timesyncd").is_enabled
    assert "NTP=" in host.check_output("systemd-analyze cat-config systemd/timesyncd.conf")
    state = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show -p ActiveState -p ConditionResult systemd-timesyncd").splitlines())
    if state["ActiveState"] != "active":
        # The unit has ConditionVirtualization=!container: in a container the host keeps the
        # clock and systemd skips timesyncd by design. Accept that only when it is the reason.
        assert state["ConditionResult"] == "no"
        assert host.run("systemd-detect-virt --container").rc == 0
