"""A throwaway web site on 127.0.0.1 for the browser harness tests, and browsers to load it with.

The site (http.server, one thread per request) has pages that load cleanly, a page with a missing
asset, a page whose scripts log errors and throw, a page with loads that are refused or blocked,
pages that render or hang after load, and a login form with a session cookie. Every request it
answers is logged, so tests can compare what the browser reported with what the server saw.
Chromium and ChromeDriver must be installed (scripts/harness/host-bootstrap.sh): without them the tests
fail, they do not skip.
"""

import datetime
import http.server
import os
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import zlib

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from support.browser import Browser, BrowserError  # noqa: E402

REPO = os.path.dirname(TESTS)
ARTIFACTS = os.path.join(os.environ.get('ARTIFACTS') or os.path.join(REPO, 'artifacts'), 'browser-harness')
USER, PASSWORD = 'alice', 'correct horse'
RENDER_DELAY_MS = 300     # late.html asks its API this long after the load event...
API_DELAY_S = 0.5         # ...and the API takes this long to answer
HANG_S = 8                # /api/hang answers this late


def png(width, height, rgb):
    """A solid-colour PNG, built by hand so the site needs no image files."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    rows = b''.join(b'\x00' + bytes(rgb) * width for _ in range(height))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def html(title, body, head=''):
    return ('<!doctype html><html><head><meta charset="utf-8"><title>%s</title>%s</head><body>%s</body></html>'
            % (title, head, body)).encode()


class Site:
    """Pages that refer to other origins get them from `refused` (a port that refuses connections)."""

    def __init__(self, refused_port):
        self.refused_port = refused_port
        self.requests = []          # (method, path) in the order the server answered them
        self.sessions = set()
        self.csrf = secrets.token_hex(8)
        self.files = {
            '/favicon.ico': ('image/png', png(16, 16, (0, 0, 128))),
            '/img/dot.png': ('image/png', png(4, 4, (0, 160, 0))),
            '/css/site.css': ('text/css', b'body { font-family: sans-serif; }\n'),
            '/js/app.js': ('text/javascript', b'document.getElementById("out").textContent = "script ran";\n'
                                              b'console.log("app.js loaded");\n'),
            '/js/throws.js': ('text/javascript', b'console.warn("a warning is not an error");\n'
                                                 b'console.error("deliberate console error");\n'
                                                 b'Promise.reject(new Error("deliberate rejection"));\n'
                                                 b'throw new Error("deliberate uncaught exception");\n'),
            '/api/records.json': ('application/json', b'{"hits": 42}'),
            '/good.html': ('text/html', html('Good', '<p id="out">script did not run</p><img src="/img/dot.png" alt="">'
                                                     '<script src="/js/app.js"></script>',
                                             '<link rel="stylesheet" href="/css/site.css">')),
            '/missing.html': ('text/html', html('Missing', '<img src="/img/dot.png" alt=""><img src="/img/missing.png" alt="">')),
            '/errors.html': ('text/html', html('Errors', '<p>errors</p><script src="/js/throws.js"></script>')),
            '/failing.html': ('text/html', html(
                'Failing', '<img src="http://127.0.0.1:%d/img/dot.png" alt=""><script src="%s"></script>'
                % (refused_port, 'http://localhost:{port}/js/app.js'),
                '<meta http-equiv="Content-Security-Policy" content="script-src \'self\'">')),
            '/late.html': ('text/html', html('Late', '<div id="app">loading</div><script>'
                                             'addEventListener("load", function () { setTimeout(function () {'
                                             ' fetch("/api/records.json?delay=1").then(function (r) { return r.json(); })'
                                             '.then(function (d) { document.getElementById("app").textContent ='
                                             ' "rendered " + d.hits + " records"; }); }, %d); });</script>'
                                             % RENDER_DELAY_MS)),
            '/hanging.html': ('text/html', html('Hanging', '<p>hanging</p><script>fetch("/api/hang");</script>')),
            '/hanging-image.html': ('text/html', html('Hanging image', '<p>hanging</p><img src="/api/hang" alt="">')),
            '/colours.html': ('text/html', html('Colours', '<div style="width:200px;height:200px;background:#0000ff"></div>',
                                                '<style>html, body { margin: 0; background: #ff0000; }</style>')),
        }

    def render(self, path, port):
        kind, body = self.files[path]
        return kind, body.replace(b'{port}', str(port).encode())


class Handler(http.server.BaseHTTPRequestHandler):
    site = None

    def log_message(self, *args):
        pass

    def reply(self, status, body=b'', kind='text/html', headers=()):
        self.send_response(status)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def session_user(self):
        for part in self.headers.get('Cookie', '').split(';'):
            name, _, value = part.strip().partition('=')
            if name == 'session' and value in self.site.sessions:
                return USER
        return None

    def login_form(self, message=''):
        return html('Log in', '<p>%s</p><form method="post" action="/login"><input name="username">'
                              '<input id="password" name="password" type="password">'
                              '<input type="hidden" name="csrf" value="%s"><button id="go" type="submit">Log in</button>'
                              '</form>' % (message, self.site.csrf))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self.site.requests.append(('GET', url.path))
        if url.path == '/api/hang':
            time.sleep(HANG_S)
        if 'delay=1' in url.query:
            time.sleep(API_DELAY_S)
        if url.path == '/login':
            self.reply(200, self.login_form())
        elif url.path == '/private':
            user = self.session_user()
            if user:
                self.reply(200, html('Private', '<p>Welcome, %s</p>' % user))
            else:
                self.reply(403, html('Forbidden', '<p>Log in first</p>'))
        elif url.path in self.site.files:
            kind, body = self.site.render(url.path, self.server.server_address[1])
            # assets are cacheable for an hour, as a real site's static files are
            cache = [('Cache-Control', 'public, max-age=3600')] if not url.path.endswith('.html') else []
            self.reply(200, body, kind, cache)
        else:
            self.reply(404, html('Not found', '<p>no such page</p>'))

    def do_POST(self):
        self.site.requests.append(('POST', self.path))
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get('Content-Length', 0))).decode())
        given = {key: values[0] for key, values in form.items()}
        if self.path == '/login' and given == {'username': USER, 'password': PASSWORD, 'csrf': self.site.csrf}:
            token = secrets.token_urlsafe(16)
            self.site.sessions.add(token)
            self.reply(303, headers=[('Location', '/private'), ('Set-Cookie', 'session=%s; Path=/; HttpOnly' % token)])
        else:
            self.reply(200, self.login_form('Wrong user name or password'))


class Server:
    def __init__(self, site, tls=None):
        handler = type('SiteHandler', (Handler,), {'site': site})
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.httpd.daemon_threads = True
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.site = site
        self.user, self.password = USER, PASSWORD
        self.late_render_s = RENDER_DELAY_MS / 1000 + API_DELAY_S   # late.html cannot be complete sooner
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path, host='127.0.0.1', scheme='http'):
        return '%s://%s:%d%s' % (scheme, host, self.port, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope='session')
def refused_port():
    """A loopback port that is bound but never listens: connecting to it is refused."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope='session')
def site(refused_port):
    server = Server(Site(refused_port))
    yield server
    server.close()


def self_signed(directory, name, host):
    """A key and a self-signed certificate for host, written as <name>.key and <name>.crt."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, keyfile = os.path.join(directory, name + '.crt'), os.path.join(directory, name + '.key')
    with open(crt, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyfile, 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return crt, keyfile


@pytest.fixture(scope='session')
def tls_site(refused_port, tmp_path_factory):
    """The same site over HTTPS with a self-signed certificate for rdm.test, plus a second
    certificate (for the same name) that the server does not use."""
    directory = str(tmp_path_factory.mktemp('tls'))
    crt, key = self_signed(directory, 'site', 'rdm.test')
    other, _ = self_signed(directory, 'other', 'rdm.test')
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    server = Server(Site(refused_port), tls=context)
    server.cert, server.other_cert = crt, other
    yield server
    server.close()


def start_browser(**kwargs):
    kwargs.setdefault('artifacts_dir', ARTIFACTS)
    browser = Browser(**kwargs)
    try:
        browser.start()
    except BrowserError as exc:
        pytest.fail(str(exc))
    return browser


@pytest.fixture(scope='module')
def browser():
    """One browser shared by a module's page tests (no login happens in it)."""
    browser = start_browser()
    yield browser
    browser.close()


@pytest.fixture
def new_browser():
    """Start browsers with given options; each is closed at the end of the test."""
    started = []

    def start(**kwargs):
        started.append(start_browser(**kwargs))
        return started[-1]
    yield start
    for browser in started:
        browser.close()
