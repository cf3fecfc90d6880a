"""No site secret leaks out of the credential path: not in process command lines, not in any
process or unit environment, not in the journal, not in world-readable files, not in the
Ansible output of the converge runs. Values are searched for literally, as read from the
controller's store; they never travel into the host for the search."""
import io
import os
import tarfile
import time

import pytest

import rdm_site

# World-readable files are read from these trees (the code's venv and the built assets hold
# only what pip and npm downloaded).
SCANNED_TREES = ['/etc', '/run', '/var/lib', '/var/log', '/usr/local', '/opt/invenio-rdm/bin', '/opt/opensearch/current/config']
SKIPPED = ['*/node_modules/*', '/var/lib/invenio-rdm/instance/static/*', '/var/lib/opensearch/*', '/var/lib/postgresql/*',
           '/var/lib/rabbitmq/mnesia/*', '/var/lib/apt/*', '/var/lib/dpkg/*']


@pytest.fixture(scope='module')
def site_secrets():
    values = rdm_site.secrets()
    # the application's own secrets and every service password must be in the store
    for name in ('invenio_secret_key', 'invenio_admin_password', 'postgresql_invenio_password', 'redis_password',
                 'rabbitmq_invenio_password', 'opensearch_invenio_password', 'opensearch_admin_password'):
        assert len(values.get(name, '')) >= 16, name
    return values


@pytest.fixture
def requests_served(anonymous):
    """The application has answered a request to the records API, so its journal logged one."""
    since = rdm_site.aio().check_output('date +%s')
    assert anonymous.get(f'{rdm_site.API_URL}/records').status_code == 200
    for _ in range(30):
        if ' GET /api/records' in rdm_site.aio().check_output(f'journalctl --no-pager --output=cat --since @{since}'):
            return
        time.sleep(1)


def leaks(text, site_secrets):
    return sorted(name for name, value in site_secrets.items() if value in text)


def test_no_secret_is_on_a_process_command_line(site_secrets):
    cmdlines = rdm_site.aio().check_output(
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done")
    assert 'uwsgi' in cmdlines and 'celery' in cmdlines and 'opensearch' in cmdlines
    assert leaks(cmdlines, site_secrets) == []


def test_no_secret_is_in_a_process_or_unit_environment(site_secrets):
    environments = rdm_site.aio().check_output(
        "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f 2>/dev/null; done")
    assert 'CREDENTIALS_DIRECTORY=' in environments and 'INVENIO_INSTANCE_PATH=' in environments
    units = rdm_site.aio().check_output("systemctl show --property=Environment,EnvironmentFiles '*'")
    assert leaks(environments + units, site_secrets) == []


def test_no_secret_is_in_the_journal(site_secrets, requests_served):
    journal = rdm_site.aio().check_output('journalctl --no-pager --output=cat --all')
    # the application logged requests and tasks, so the search looked at something
    assert ' GET /api/records' in journal and 'Task invenio_' in journal, journal[-2000:]
    assert leaks(journal, site_secrets) == []


def test_no_secret_is_in_a_world_readable_file(site_secrets):
    excluded = ' '.join(f"-not -path '{pattern}'" for pattern in SKIPPED)
    archive = rdm_site.docker(
        'exec', rdm_site.HOST, 'sh', '-c',
        f"find {' '.join(SCANNED_TREES)} -xdev -type f -perm -o=r -size -4M {excluded} -print0 2>/dev/null"
        " | tar --null --files-from=- --create --file=- 2>/dev/null")
    scanned = []
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar:
            content = tar.extractfile(member).read().decode('utf-8', 'replace')
            scanned.append(member.name)
            assert leaks(content, site_secrets) == [], member.name
    assert 'var/lib/invenio-rdm/instance/invenio.cfg' not in scanned, 'invenio.cfg must not be world-readable'
    assert any(name.startswith('etc/nginx/') for name in scanned) and len(scanned) > 200


@pytest.mark.parametrize('step', ['converge', 'idempotence'])
def test_no_secret_is_in_the_ansible_output(site_secrets, step):
    log = rdm_site.ARTIFACTS / 'molecule' / f'default-{step}.log'
    assert log.is_file(), f'{log} is missing: run the scenario through scripts/harness/molecule-scenario.sh, which keeps it'
    output = log.read_text(encoding='utf-8', errors='replace')
    assert 'PLAY RECAP' in output and 'rdmops.invenio.invenio_rdm' in output
    assert leaks(output, site_secrets) == []


def test_the_unit_reads_its_secrets_from_the_credentials_directory():
    pid = rdm_site.aio().check_output('systemctl show --property=MainPID --value invenio-rdm-api')
    environ = rdm_site.aio().check_output(f"tr '\\0' '\\n' < /proc/{pid}/environ")
    directory = [line.split('=', 1)[1] for line in environ.splitlines() if line.startswith('CREDENTIALS_DIRECTORY=')]
    assert directory, environ
    names = rdm_site.aio().check_output(f'ls {directory[0]}').split()
    assert {'invenio_secret_key', 'postgresql_invenio_password', 'opensearch_invenio_password'} <= set(names)
    assert 'invenio_admin_password' not in names, 'only initialisation reads the administrator password'
    stat = rdm_site.aio().check_output(f"stat -c '%U %a' {directory[0]}/invenio_secret_key")
    assert stat.split()[1] in ('400', '440'), stat
    assert os.path.basename(directory[0]) == 'invenio-rdm-api.service'
