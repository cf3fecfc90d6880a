"""Bad input stops a role at validation, before any task touches the host, with a message that
names the variable. Each case runs the role in check mode against the controller itself: a role
that validated wrongly would still change nothing."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

SECRET = "input-test-password-0123456789"
# The controller's secret store each run gets: the secrets the roles read, and one too short.
STORE = {"postgresql_invenio_password": SECRET, "rabbitmq_invenio_password": SECRET, "opensearch_admin_password": SECRET,
         "opensearch_invenio_password": SECRET, "opensearch_snapshot_password": SECRET, "short_secret": "short"}
BASE = {
    # any existing file passes the local-archive check, so later checks are reached
    "invenio_rdm": {"invenio_rdm_site_url": "https://data.example.org", "invenio_rdm_admin_email": "rdm-admin@example.org"},
    "opensearch": {"opensearch_install_method": "local", "opensearch_archive_local_path": os.path.abspath(__file__)},
}

CASES = [
    ("invenio_rdm", {"invenio_rdm_site_url": "http://data.example.org"}, ["invenio_rdm_site_url", "https", "http://data.example.org"]),
    ("invenio_rdm", {"invenio_rdm_site_url": "https://data.example.org/rdm"}, ["invenio_rdm_site_url", "without a path"]),
    ("invenio_rdm", {"invenio_rdm_admin_email": None}, ["invenio_rdm_admin_email"]),
    ("invenio_rdm", {"invenio_rdm_admin_email": "admin"}, ["invenio_rdm_admin_email", "'admin'"]),
    ("invenio_rdm", {"invenio_rdm_version": "14.0.5"}, ["invenio_rdm_version 14.0.5 is not supported", "13.x"]),
    ("invenio_rdm", {"invenio_rdm_version": "13.0.8"}, ["No hash-locked requirements for invenio-app-rdm 13.0.8", "invenio_rdm_requirements_file"]),
    ("invenio_rdm", {"invenio_rdm_npm_lock_file": "/nonexistent/package-lock.json"},
     ["No npm lock for invenio-app-rdm 13.1.2 at /nonexistent/package-lock.json", "invenio_rdm_npm_lock_file"]),
    ("invenio_rdm", {"invenio_rdm_site_packages": ["/nonexistent/site-package", "/nonexistent/site-1.0-py3-none-any.whl"]},
     ["Not found on the controller: /nonexistent/site-1.0-py3-none-any.whl, /nonexistent/site-package"]),
    ("invenio_rdm", {"invenio_rdm_site_templates_dir": "/nonexistent/templates"}, ["Not found on the controller: /nonexistent/templates"]),
    ("invenio_rdm", {"invenio_rdm_site_packages": ["/tmp", "/var/tmp/"]}, ["two packages with the same file or directory name"]),
    ("postgresql", {"postgresql_port": "five-four-three-two"}, ["postgresql_port"]),
    ("postgresql", {"postgresql_allowed_clients": ["10.0.0.300/33"]}, ["postgresql_allowed_clients", "10.0.0.300/33"]),
    ("postgresql", {"postgresql_invenio_password_credential": "no_such_secret"}, ["no_such_secret", "missing from"]),
    ("redis", {"redis_port": "not-a-port"}, ["redis_port"]),
    ("rabbitmq", {"rabbitmq_invenio_password_credential": "short_secret"}, ["short_secret", "shorter than 16 characters"]),
    ("nginx", {"nginx_tls_mode": "letsencrypt"}, ["nginx_tls_mode", "selfsigned"]),
    ("nginx", {"nginx_tls_mode": "provided"}, ["nginx_tls_certificate"]),
    ("base", {"base_extra_ca_certificates": [{"name": "site-ca", "pem": "not a certificate"}]},
     ["base_extra_ca_certificates", "site-ca"]),
    ("credentials", {"credentials_secrets": [{"name": "bad name!", "groups": ["invenio_app"]}]},
     ["credentials_secrets", "bad name!"]),
    ("opensearch", {"opensearch_install_method": "ftp"}, ["opensearch_install_method", "url, local", "ftp"]),
    ("opensearch", {"opensearch_install_method": "url", "opensearch_archive_local_path": None},
     ["opensearch_archive_checksum", "opensearch_install_method is url", "got 'nothing'"]),
    ("opensearch", {"opensearch_install_method": "url", "opensearch_archive_checksum": "abc123", "opensearch_archive_local_path": None},
     ["opensearch_archive_checksum", "<algorithm>:<hex digest>"]),
    ("opensearch", {"opensearch_archive_local_path": None}, ["opensearch_archive_local_path", "opensearch_install_method is local"]),
    ("opensearch", {"opensearch_archive_local_path": "/nonexistent/os.tar.gz"},
     ["opensearch_archive_local_path", "/nonexistent/os.tar.gz", "not a file on the controller"]),
    ("opensearch", {"opensearch_http_port": "ninety-two-hundred"}, ["opensearch_http_port"]),
    ("opensearch", {"opensearch_admin_password_credential": "no_such_secret"}, ["no_such_secret", "missing from"]),
    ("opensearch", {"opensearch_invenio_password_credential": "short_secret"}, ["short_secret", "shorter than 12 characters"]),
    ("opensearch", {"opensearch_heap_size": "2GB"}, ["opensearch_heap_size", "2GB", "number followed by m or g"]),
    ("opensearch", {"opensearch_heap_size": "512"}, ["opensearch_heap_size", "number followed by m or g"]),
    ("opensearch", {"opensearch_heap_size": "100000g"}, ["opensearch_heap_size", "100000g", "MB of RAM"]),
]


def run_role(tmp_path, role, role_vars):
    store = tmp_path / "credentials"
    store.mkdir()
    for name, value in STORE.items():
        (store / name).write_text(value)
    role_vars = {k: v for k, v in {"credentials_store_dir": str(store), **BASE.get(role, {}), **role_vars}.items() if v is not None}
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: true
          roles:
            - role: rdmops.invenio.{role}
              vars: {json.dumps(role_vars)}
        """))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="0")
    inventory = tmp_path / "hosts"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return subprocess.run(["ansible-playbook", "--check", "-i", str(inventory), str(playbook)],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("role, role_vars, expected", CASES,
                         ids=[f"{role}-{'-'.join(v)}-{i}" for i, (role, v, _) in enumerate(CASES)])
def test_bad_input_fails_early_naming_the_variable(tmp_path, role, role_vars, expected):
    result = run_role(tmp_path, role, role_vars)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for text in expected:
        assert text in output, output
    assert "changed:" not in output, output
    # nothing past validation ran: the only role tasks reported are the argument check, validate.yml
    # and the credentials role's check of the secrets the role reads
    ran = [line for line in output.splitlines() if line.startswith("TASK [rdmops.invenio.")]
    assert all("Validating arguments" in line or role_task_is_validation(role, line) or role_task_is_validation("credentials", line, "require.yml")
               for line in ran), ran
    assert SECRET not in output


def role_task_is_validation(role, task_line, tasks_file="validate.yml"):
    if not task_line.startswith(f"TASK [rdmops.invenio.{role} : "):
        return False
    name = task_line.split(" : ", 1)[-1].rstrip("* ]").strip()
    path = os.path.join(os.path.dirname(__file__), "..", "..", "roles", role, "tasks", tasks_file)
    with open(path, encoding="utf-8") as handle:
        return name in handle.read()
