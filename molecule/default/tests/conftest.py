"""Fixtures of the all-in-one site's tests: how they reach the site, and the published record
with a file that several test files look at (made once, by whichever test asks first)."""
import hashlib
import os

import pytest

import rdm_site
from records import FILE_KEY, FILE_SIZE, TITLE, draft_body, ok, upload


@pytest.fixture(scope='session')
def site_certificate(tmp_path_factory):
    """The site's self-signed certificate, fetched from the web host, to verify TLS against."""
    path = tmp_path_factory.mktemp('tls') / 'site.crt'
    path.write_text(rdm_site.aio().file('/etc/nginx/tls/server.crt').content_string, encoding='utf-8')
    return str(path)


@pytest.fixture(scope='session')
def admin_token():
    """A personal access token of the administrator, made with the admin command."""
    out = rdm_site.admin_command('tokens', 'create', '--name', 'rdmops-tests', '--user', rdm_site.ADMIN_EMAIL)
    token = out.strip().splitlines()[-1].strip()
    assert len(token) >= 20, out
    return token


@pytest.fixture
def api(site_certificate, admin_token):
    return rdm_site.session(site_certificate, admin_token)


@pytest.fixture
def anonymous(site_certificate):
    return rdm_site.session(site_certificate)


@pytest.fixture(scope='session')
def depositor(site_certificate, admin_token):
    """The administrator's session, for fixtures that outlive one test."""
    return rdm_site.session(site_certificate, admin_token)


@pytest.fixture(scope='session')
def payload():
    return os.urandom(FILE_SIZE)


@pytest.fixture(scope='session')
def draft(depositor):
    """A draft with metadata: the API's answer to its creation."""
    return ok(depositor.post(f'{rdm_site.API_URL}/records', json=draft_body(TITLE)), 201)


@pytest.fixture(scope='session')
def uploaded(depositor, draft, payload):
    """The draft's file uploaded and committed: the commit's answer and the digest of what reads back."""
    committed = upload(depositor, rdm_site.API_URL, draft['id'], payload)
    back = ok(depositor.get(f"{rdm_site.API_URL}/records/{draft['id']}/draft/files/{FILE_KEY}/content"), 200)
    return {'committed': committed, 'read_back': hashlib.sha256(back.content).hexdigest()}


@pytest.fixture(scope='session')
def published(depositor, draft, uploaded):
    """The draft published, with its file: the API's answer to the publish action."""
    return ok(depositor.post(f"{rdm_site.API_URL}/records/{draft['id']}/draft/actions/publish"), 202)
