"""Fixtures of the all-in-one site's tests."""
import pytest

import rdm_site


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
