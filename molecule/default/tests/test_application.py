"""The application tier on the all-in-one host: every unit runs unprivileged under its
sandbox, the admin command works without a secret in sight, and the site answers over HTTPS."""
import hashlib
import json
import os

import pytest

import rdm_site

APPLICATION_UNITS = ['invenio-rdm-ui', 'invenio-rdm-api', 'invenio-rdm-worker', 'invenio-rdm-beat', 'invenio-rdm-jobs-beat']
DATA_TIER_UNITS = ['postgresql@15-main', 'opensearch', 'redis-server', 'rabbitmq-server', 'nginx']


def invenio_shell(code):
    """Python run by `invenio-rdm shell` in the application's context; returns its last line."""
    return rdm_site.admin_command('shell', '-c', f'"{code}"').strip().splitlines()[-1]


@pytest.mark.parametrize('unit', APPLICATION_UNITS + DATA_TIER_UNITS)
def test_every_service_runs_and_starts_at_boot(unit):
    service = rdm_site.aio().service(unit)
    assert service.is_running and service.is_enabled


@pytest.mark.parametrize('unit', APPLICATION_UNITS)
def test_application_units_run_as_the_service_user_under_a_sandbox(unit, systemd_exposure):
    host = rdm_site.aio()
    pid = host.check_output(f'systemctl show --property=MainPID --value {unit}')
    assert host.check_output(f'ps -o user= -p {pid}').strip() == 'invenio'
    assert host.check_output(f'systemctl show --property=Restart --value {unit}') == 'on-failure'
    assert systemd_exposure(host, f'{unit}.service') <= 1.3


def test_exactly_one_beat_and_one_jobs_scheduler_run():
    processes = rdm_site.aio().check_output('ps -eo args')
    beats = [line for line in processes.splitlines() if 'celery' in line and ' beat ' in line]
    assert len([line for line in beats if 'RunScheduler' in line]) == 1, beats
    assert len([line for line in beats if 'RunScheduler' not in line]) == 1, beats


def test_the_admin_command_runs_the_invenio_cli_as_the_service_user():
    assert rdm_site.admin_command('--exec', 'id', '-un').strip() == 'invenio'
    active = invenio_shell(f"from invenio_accounts.models import User; print(User.query.filter_by(email='{rdm_site.ADMIN_EMAIL}').one().active)")
    assert active == 'True'


def test_the_administrator_has_the_admin_role():
    roles = invenio_shell("from invenio_accounts.models import User; "
                          f"print(sorted(r.name for r in User.query.filter_by(email='{rdm_site.ADMIN_EMAIL}').one().roles))")
    assert "'admin'" in roles


def test_the_host_runs_a_release_unpacked_from_the_store_archive_it_was_checked_against():
    host = rdm_site.aio()
    release = host.file('/opt/invenio-rdm/current').linked_to
    name = os.path.basename(release)
    assert host.file(f'{release}/.rdmops-complete').exists
    stored = json.loads((rdm_site.RELEASE_STORE / f'{name}.json').read_text(encoding='utf-8'))
    archive = rdm_site.RELEASE_STORE / stored['archive']
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == stored['archive_sha256']
    assert json.loads(host.file(f'{release}/manifest.json').content_string)['name'] == name
    # code is root's: the service cannot change what it runs
    assert host.file(release).user == 'root'
    assert host.run(f'setpriv --reuid=invenio --regid=invenio --clear-groups test -w {release}/venv/bin/python').rc != 0
    manifest = host.file('/var/lib/invenio-rdm/instance/static/dist/manifest.json')
    assert manifest.exists and manifest.mode & 0o004, 'nginx must be able to read the built assets'


def test_the_build_account_holds_no_credential_and_cannot_see_the_record_files():
    host = rdm_site.aio()
    account = host.user('invenio-build')
    assert account.shell == '/usr/sbin/nologin' and 'invenio' not in account.groups
    unit = host.check_output('systemctl cat invenio-rdm-build@.service')
    assert 'User=invenio-build' in unit
    hidden = host.check_output('systemctl show -p InaccessiblePaths --value invenio-rdm-build@probe.service')
    for path in ('/var/lib/invenio-rdm/data', '/var/lib/invenio-rdm/instance', '/etc/credstore.encrypted', '/etc/invenio-rdm'):
        assert path in hidden
    assert 'LoadCredential' not in unit
    assert host.run('setpriv --reuid=invenio-build --regid=invenio-build --clear-groups ls /var/lib/invenio-rdm/data').rc != 0


def test_http_redirects_to_https_and_the_api_answers(anonymous):
    records = anonymous.get(f'{rdm_site.API_URL}/records')
    assert records.status_code == 200 and 'hits' in records.json()
    assert 'max-age=' in records.headers['Strict-Transport-Security']
    http = rdm_site.aio().check_output("curl --silent --output /dev/null --write-out '%{http_code} %{redirect_url}' http://localhost/records")
    assert http == f'301 {rdm_site.SITE_URL}/records'


def test_the_vocabularies_are_loaded(anonymous):
    dataset = anonymous.get(f'{rdm_site.API_URL}/vocabularies/resourcetypes/dataset')
    assert dataset.status_code == 200, dataset.text
    languages = anonymous.get(f'{rdm_site.API_URL}/vocabularies/languages', params={'q': 'id:eng'})
    assert languages.json()['hits']['total'] == 1
