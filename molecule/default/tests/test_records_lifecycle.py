"""A depositor's whole journey through the REST API of the deployed site, with a personal token:
draft, a 10 MB file up and down, publish, find, edit, new version, delete a draft. The tests
run in file order; each builds on the record of the one before."""
import hashlib
import os

import pytest

import rdm_site
from records import draft_body, eventually, ok, search_ids

FILE_KEY = 'measurements.bin'
FILE_SIZE = 10 * 1024 * 1024 + 17
TITLE = 'Lake temperatures, rdmops acceptance test'
NEW_TITLE = 'Lake temperatures (revised), rdmops acceptance test'

# What the tests share, in the order they create it.
state = {}


@pytest.fixture(scope='module')
def payload():
    return os.urandom(FILE_SIZE)


def test_a_draft_is_created_with_metadata(api):
    draft = ok(api.post(f'{rdm_site.API_URL}/records', json=draft_body(TITLE)), 201)
    assert draft['metadata']['title'] == TITLE
    assert draft['is_published'] is False
    state['id'] = draft['id']


def test_a_10_mb_file_is_uploaded_and_read_back_unchanged(api, payload):
    files = f"{rdm_site.API_URL}/records/{state['id']}/draft/files"
    ok(api.post(files, json=[{'key': FILE_KEY}]), 201)
    ok(api.put(f'{files}/{FILE_KEY}/content', data=payload, headers={'Content-Type': 'application/octet-stream'}), 200)
    committed = ok(api.post(f'{files}/{FILE_KEY}/commit'), 200)
    assert committed['size'] == FILE_SIZE
    assert committed['checksum'] == 'md5:' + hashlib.md5(payload).hexdigest()
    back = ok(api.get(f'{files}/{FILE_KEY}/content'), 200)
    assert hashlib.sha256(back.content).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_the_draft_is_published(api):
    record = ok(api.post(f"{rdm_site.API_URL}/records/{state['id']}/draft/actions/publish"), 202)
    assert record['is_published'] is True
    assert record['metadata']['title'] == TITLE


def test_the_published_file_downloads_with_the_same_checksum(anonymous, payload):
    content = ok(anonymous.get(f"{rdm_site.API_URL}/records/{state['id']}/files/{FILE_KEY}/content"), 200)
    assert hashlib.sha256(content.content).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_the_landing_page_shows_the_title(anonymous):
    page = ok(anonymous.get(f"{rdm_site.SITE_URL}/records/{state['id']}"), 200)
    assert TITLE in page.text


def test_the_search_api_finds_the_record(anonymous):
    def hits():
        return search_ids(anonymous, rdm_site.API_URL, f'"{TITLE}"')
    assert state['id'] in eventually(lambda: state['id'] in hits() and hits()), 'the published record never appeared in search'


def test_an_edit_is_republished_with_the_new_title(api, anonymous):
    record = f"{rdm_site.API_URL}/records/{state['id']}"
    ok(api.post(f'{record}/draft'), 201)
    body = draft_body(NEW_TITLE)
    body['files'] = {'enabled': True}
    ok(api.put(f'{record}/draft', json=body), 200)
    published = ok(api.post(f'{record}/draft/actions/publish'), 202)
    assert published['metadata']['title'] == NEW_TITLE
    assert ok(anonymous.get(record), 200)['metadata']['title'] == NEW_TITLE
    assert NEW_TITLE in ok(anonymous.get(f"{rdm_site.SITE_URL}/records/{state['id']}"), 200).text


def test_a_new_version_imports_the_files_and_is_published(api, payload):
    version = ok(api.post(f"{rdm_site.API_URL}/records/{state['id']}/versions"), 201)
    state['v2'] = version['id']
    assert version['id'] != state['id']
    draft = f"{rdm_site.API_URL}/records/{version['id']}/draft"
    imported = ok(api.post(f'{draft}/actions/files-import'), 201)
    assert [entry['key'] for entry in imported['entries']] == [FILE_KEY]
    ok(api.put(draft, json=draft_body(NEW_TITLE + ', version 2')), 200)
    published = ok(api.post(f'{draft}/actions/publish'), 202)
    assert published['versions']['index'] == 2
    content = ok(api.get(f"{rdm_site.API_URL}/records/{version['id']}/files/{FILE_KEY}/content"), 200)
    assert hashlib.sha256(content.content).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_the_versions_api_lists_both_versions(anonymous):
    def versions():
        found = ok(anonymous.get(f"{rdm_site.API_URL}/records/{state['id']}/versions"), 200)
        return sorted(hit['id'] for hit in found['hits']['hits'])
    expected = sorted([state['id'], state['v2']])
    assert eventually(lambda: versions() == expected and versions()) == expected
    latest = anonymous.get(f"{rdm_site.API_URL}/records/{state['id']}/versions/latest", allow_redirects=False)
    assert latest.status_code in (301, 302) and latest.headers['Location'] == f"{rdm_site.API_URL}/records/{state['v2']}"


def test_an_unpublished_draft_is_deleted(api):
    draft = ok(api.post(f'{rdm_site.API_URL}/records', json=draft_body('A draft that is discarded')), 201)
    url = f"{rdm_site.API_URL}/records/{draft['id']}/draft"
    ok(api.get(url), 200)
    ok(api.delete(url), 204)
    ok(api.get(url), 404)
