"""The upgrade a site runs, proven on the all-in-one site: prepare.yml deployed invenio-app-rdm
13.0.9 with schema 0.9.0 of the example site package and published records with files;
converge.yml ran playbooks/upgrade.yml to 13.1.2 and schema 1.0.0. The records, their files and
search are what they were, the site serves the new release, the version's recipe ran, a new
version of an old record carries the new schema version, and the code rolls back and forth.
Bad input to the upgrade stops it before anything stops."""
import hashlib
import json
import os
import sys

import pytest

import rdm_site
from records import draft_body, eventually, ok, search_ids

sys.path.insert(0, os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd()), 'tests'))
from support.playbooks import playbook  # noqa: E402 (the harness lives with the project's tests)

SEEDED = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'seeded.json')
UNITS = ['invenio-rdm-ui', 'invenio-rdm-api', 'invenio-rdm-worker', 'invenio-rdm-beat', 'invenio-rdm-jobs-beat']
FIELD = 'rdmops:schema_version'


@pytest.fixture(scope='module')
def seeded():
    with open(SEEDED, encoding='utf-8') as handle:
        return json.load(handle)['records']


def running_manifest():
    return json.loads(rdm_site.aio().file('/opt/invenio-rdm/current/manifest.json').content_string)


def invocations():
    return {unit: rdm_site.aio().check_output(f'systemctl show -p InvocationID --value {unit}.service') for unit in UNITS}


def footer(anonymous):
    return ok(anonymous.get(rdm_site.SITE_URL + '/'), 200).text


def test_records_files_and_search_survive_the_upgrade(seeded, anonymous):
    for item in seeded:
        record = ok(anonymous.get(f"{rdm_site.API_URL}/records/{item['id']}"), 200)
        assert record['metadata']['title'] == item['title']
        content = ok(anonymous.get(f"{rdm_site.API_URL}/records/{item['id']}/files/{item['file_key']}/content"), 200)
        assert hashlib.sha256(content.content).hexdigest() == item['sha256']
        # Every version: another test makes a new version of a seeded record, after which the
        # seeded one is no longer the latest that a plain search shows.
        assert eventually(lambda: item['id'] in search_ids(anonymous, rdm_site.API_URL, f'"{item["title"]}"', allversions=True), 60)


def test_the_site_serves_the_new_release(anonymous):
    manifest = running_manifest()
    assert manifest['version'] == '13.1.2'
    shown = rdm_site.aio().check_output('/opt/invenio-rdm/current/venv/bin/pip show invenio-app-rdm')
    assert 'Version: 13.1.2' in shown
    assert 'Schema version 1.0.0' in footer(anonymous)


def test_the_upgrade_ran_its_recipe_and_is_recorded_for_rollback():
    record = json.loads(rdm_site.aio().file('/opt/invenio-rdm/upgrade-last.json').content_string)
    assert (record['from_version'], record['to_version'], record['recipes']) == ('13.0.9', '13.1.2', ['13.0 -> 13.1'])
    assert record['database_migration'] is False
    assert not rdm_site.aio().file('/opt/invenio-rdm/upgrade.json').exists
    # The recipe's mapping update: requests gained `reviewers` in 13.1.
    password = rdm_site.secrets()['opensearch_admin_password']
    mapping = rdm_site.aio().check_output(
        "curl -sf --cacert /etc/opensearch/tls/ca.pem -u admin:%s https://127.0.0.1:9200/rdm-requests-request-v1.0.0/_mapping", password)
    assert 'reviewers' in mapping


def test_old_records_keep_their_schema_version_and_a_new_version_carries_the_current_one(seeded, api):
    old = seeded[0]
    assert old['schema_version'] == '0.9.0'
    record = ok(api.get(f"{rdm_site.API_URL}/records/{old['id']}"), 200)
    assert record['custom_fields'][FIELD] == '0.9.0'
    version = ok(api.post(f"{rdm_site.API_URL}/records/{old['id']}/versions"), 201)
    assert version['custom_fields'][FIELD] == '1.0.0'
    draft = f"{rdm_site.API_URL}/records/{version['id']}/draft"
    ok(api.post(f'{draft}/actions/files-import'), 201)
    body = draft_body(old['title'] + ', version 2')
    body['custom_fields'] = {FIELD: '0.0.1'}  # a client cannot set it
    ok(api.put(draft, json=body), 200)
    published = ok(api.post(f'{draft}/actions/publish'), 202)
    assert published['custom_fields'][FIELD] == '1.0.0'
    assert ok(api.get(f"{rdm_site.API_URL}/records/{old['id']}"), 200)['custom_fields'][FIELD] == '0.9.0'


@pytest.mark.parametrize('extra, refusal', [
    (['-e', 'invenio_rdm_version=13.0.9'], 'is older. An upgrade never goes back'),
    (['-e', 'invenio_rdm_version=13.1.1'], 'No hash-locked requirements for invenio-app-rdm 13.1.1'),
    (['-e', 'invenio_rdm_site_templates_dir=/nonexistent/templates'], 'Not found on the controller: /nonexistent/templates'),
    (['-e', 'invenio_rdm_release_store=/proc/rdmops-releases'], 'is not a directory the controller can write'),
    ([], 'Refusing to upgrade'),
], ids=['older-version', 'no-lock', 'missing-customisation', 'store-not-writable', 'not-confirmed'])
def test_bad_upgrade_input_stops_before_anything_stops(extra, refusal):
    before = invocations()
    confirm = ['-e', 'upgrade_confirm=true', '-e', 'upgrade_without_restore_point=true'] if extra else []
    result = playbook('upgrade.yml', *confirm, *extra)
    assert result.returncode != 0
    assert refusal in result.output, result.output[-3000:]
    assert 'Nothing has been changed' in result.output
    assert invocations() == before


def test_the_code_rolls_back_and_forward(seeded, anonymous):
    """rollback.yml returns to the release that ran before; run again, it returns to the one it
    left (the upgrade migrated no database, so the code alone goes back and forth)."""
    result = playbook('rollback.yml', '-e', 'rollback_confirm=true')
    try:
        assert result.returncode == 0, result.output[-3000:]
        assert running_manifest()['version'] == '13.0.9'
        assert 'Schema version 0.9.0' in footer(anonymous)
        item = seeded[1]
        content = ok(anonymous.get(f"{rdm_site.API_URL}/records/{item['id']}/files/{item['file_key']}/content"), 200)
        assert hashlib.sha256(content.content).hexdigest() == item['sha256']
    finally:
        forward = playbook('rollback.yml', '-e', 'rollback_confirm=true')
    assert forward.returncode == 0, forward.output[-3000:]
    assert running_manifest()['version'] == '13.1.2'
    assert 'Schema version 1.0.0' in footer(anonymous)
