"""The all-in-one site under test, as its users reach it: the site URL on this machine's
loopback (published by the container), the administrator, and the secrets of the controller's
store."""
import functools
import os
import pathlib
import ssl
import subprocess

import requests
import requests.adapters
import testinfra

INVENTORY = os.environ['MOLECULE_INVENTORY_FILE']
HOST = 'default-aio'
SITE_URL = f"https://localhost:{os.environ['RDMOPS_SITE_PORT']}"
API_URL = f'{SITE_URL}/api'
CREDENTIALS = pathlib.Path(os.environ['RDMOPS_CREDENTIALS'])
ARTIFACTS = pathlib.Path(os.environ.get('ARTIFACTS', 'artifacts'))
ADMIN_EMAIL = 'rdm-admin@example.org'
# where the scenario's inventory keeps releases (molecule/shared/all-in-one/group_vars)
RELEASE_STORE = pathlib.Path(os.environ['RDMOPS_CACHE']) / 'releases'


@functools.cache
def aio():
    return testinfra.get_host(f'ansible://{HOST}', ansible_inventory=INVENTORY)


def secrets():
    """Every site secret of the controller's store, by name."""
    return {path.name: path.read_text(encoding='utf-8').strip() for path in CREDENTIALS.iterdir() if path.is_file()}


def admin_password():
    return secrets()['invenio_admin_password']


class PinnedCertificate(requests.adapters.HTTPAdapter):
    """Trusts exactly the given self-signed certificate (it is no CA, so OpenSSL needs the
    partial-chain flag to accept it as its own trust anchor)."""

    def __init__(self, certificate):
        self.context = ssl.create_default_context(cafile=certificate)
        self.context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs['ssl_context'] = self.context
        return super().init_poolmanager(*args, **kwargs)


def session(certificate, token=None):
    """A requests session to the site that verifies its certificate and, given a token, sends it."""
    http = requests.Session()
    http.mount(SITE_URL, PinnedCertificate(certificate))
    if token:
        http.headers['Authorization'] = f'Bearer {token}'
    return http


def admin_command(*args):
    """`invenio-rdm ARGS` on the application host, as an administrator runs it."""
    result = aio().run('invenio-rdm ' + ' '.join(args))
    assert result.rc == 0, result.stderr
    return result.stdout


def docker(*args, **kwargs):
    return subprocess.run(['docker', *args], capture_output=True, check=True, timeout=600, **kwargs).stdout
