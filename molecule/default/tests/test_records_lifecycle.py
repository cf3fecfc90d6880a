"""A depositor's whole journey through the REST API of the deployed site, with a personal token:
draft, a 10 MB file up and down, publish, find, edit, new version, delete a draft. Each step a
later one builds on is a fixture, taken once whatever test asks first (conftest.py: the draft,
its file, the published record; here: an edited record and its new version); a test of a step
checks the answer its fixture kept. The edit and the new version work on a record of their own,
so the first one keeps its title and stays the latest version whatever runs before."""
import hashlib

import pytest

import rdm_site
from records import FILE_KEY, FILE_SIZE, TITLE, draft_body, eventually, ok, search_ids, upload

NEW_TITLE = 'Lake temperatures (revised), rdmops acceptance test'


@pytest.fixture(scope='module')
def edited(depositor, payload):
    """A second published record with the file, then edited to NEW_TITLE and published again:
    its id and the answer to the second publish."""
    draft = ok(depositor.post(f'{rdm_site.API_URL}/records', json=draft_body(TITLE)), 201)
    upload(depositor, rdm_site.API_URL, draft['id'], payload)
    record = f"{rdm_site.API_URL}/records/{draft['id']}"
    ok(depositor.post(f'{record}/draft/actions/publish'), 202)
    ok(depositor.post(f'{record}/draft'), 201)
    body = draft_body(NEW_TITLE)
    body['files'] = {'enabled': True}
    ok(depositor.put(f'{record}/draft', json=body), 200)
    return {'id': draft['id'], 'published': ok(depositor.post(f'{record}/draft/actions/publish'), 202)}


@pytest.fixture(scope='module')
def new_version(depositor, edited):
    """A new version of the edited record, its file imported, published: the answers of each step."""
    version = ok(depositor.post(f"{rdm_site.API_URL}/records/{edited['id']}/versions"), 201)
    draft = f"{rdm_site.API_URL}/records/{version['id']}/draft"
    imported = ok(depositor.post(f'{draft}/actions/files-import'), 201)
    ok(depositor.put(draft, json=draft_body(NEW_TITLE + ', version 2')), 200)
    return {'version': version, 'imported': imported, 'published': ok(depositor.post(f'{draft}/actions/publish'), 202)}


def test_a_draft_is_created_with_metadata(draft):
    assert draft['metadata']['title'] == TITLE
    assert draft['is_published'] is False


def test_a_10_mb_file_is_uploaded_and_read_back_unchanged(uploaded, payload):
    committed = uploaded['committed']
    assert committed['size'] == FILE_SIZE
    assert committed['checksum'] == 'md5:' + hashlib.md5(payload).hexdigest()
    assert uploaded['read_back'] == hashlib.sha256(payload).hexdigest()


def test_the_draft_is_published(published):
    assert published['is_published'] is True
    assert published['metadata']['title'] == TITLE


def test_the_published_file_downloads_with_the_same_checksum(anonymous, payload, published):
    content = ok(anonymous.get(f"{rdm_site.API_URL}/records/{published['id']}/files/{FILE_KEY}/content"), 200)
    assert hashlib.sha256(content.content).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_the_landing_page_shows_the_title(anonymous, published):
    page = ok(anonymous.get(f"{rdm_site.SITE_URL}/records/{published['id']}"), 200)
    assert TITLE in page.text


def test_the_search_api_finds_the_record(anonymous, published):
    def hits():
        return search_ids(anonymous, rdm_site.API_URL, f'"{TITLE}"')
    assert published['id'] in eventually(lambda: published['id'] in hits() and hits()), 'the published record never appeared in search'


def test_an_edit_is_republished_with_the_new_title(anonymous, edited):
    record = f"{rdm_site.API_URL}/records/{edited['id']}"
    assert edited['published']['metadata']['title'] == NEW_TITLE
    assert ok(anonymous.get(record), 200)['metadata']['title'] == NEW_TITLE
    assert NEW_TITLE in ok(anonymous.get(f"{rdm_site.SITE_URL}/records/{edited['id']}"), 200).text


def test_a_new_version_imports_the_files_and_is_published(api, payload, edited, new_version):
    version = new_version['version']
    assert version['id'] != edited['id']
    assert [entry['key'] for entry in new_version['imported']['entries']] == [FILE_KEY]
    assert new_version['published']['versions']['index'] == 2
    content = ok(api.get(f"{rdm_site.API_URL}/records/{version['id']}/files/{FILE_KEY}/content"), 200)
    assert hashlib.sha256(content.content).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_the_versions_api_lists_both_versions(anonymous, edited, new_version):
    first, second = edited['id'], new_version['version']['id']

    def versions():
        found = ok(anonymous.get(f"{rdm_site.API_URL}/records/{first}/versions"), 200)
        return sorted(hit['id'] for hit in found['hits']['hits'])
    expected = sorted([first, second])
    assert eventually(lambda: versions() == expected and versions()) == expected
    latest = anonymous.get(f"{rdm_site.API_URL}/records/{first}/versions/latest", allow_redirects=False)
    assert latest.status_code in (301, 302) and latest.headers['Location'] == f"{rdm_site.API_URL}/records/{second}"


def test_an_unpublished_draft_is_deleted(api):
    draft = ok(api.post(f'{rdm_site.API_URL}/records', json=draft_body('A draft that is discarded')), 201)
    url = f"{rdm_site.API_URL}/records/{draft['id']}/draft"
    ok(api.get(url), 200)
    ok(api.delete(url), 204)
    ok(api.get(url), 404)
