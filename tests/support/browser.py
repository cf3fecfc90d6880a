"""Load pages of a site in Debian's headless Chromium and report what happened.

    with Browser(trust_certs=['site.crt']) as browser:
        page = browser.open('https://localhost:8443/', screenshot='home.png')
        assert not page.problems(), page.problems()

For every page load, a `Page` lists the HTTP responses (redirects included), the loads that got no
response (network errors, requests blocked by the browser), the browser console messages, and what
the page finally showed. `open` returns once the page has settled: document complete and no request
in flight for `idle` seconds, or `timeout` reached (then `page.settled` is False). A screenshot
(the viewport) is saved with a JSON copy of the report beside it. Chromium asks for a site's
/favicon.ico (type Other) on the first page of that site only: it keeps the icon in the profile.

Debian's /usr/bin/chromium and /usr/bin/chromedriver are used (RDMOPS_CHROMIUM, RDMOPS_CHROMEDRIVER
override them); naming the driver makes Selenium skip selenium-manager, so nothing is downloaded.
Network events come from ChromeDriver's performance log, console messages from its browser log.
The HTTP cache is disabled, so every page load fetches (and reports) every asset.

A self-signed site is trusted by certificate: `trust_certs` takes PEM files, whose public keys are
passed to --ignore-certificate-errors-spki-list. Certificate errors are ignored only for servers
presenting one of those keys; any other certificate still fails.
"""

import base64
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = os.environ.get('RDMOPS_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('RDMOPS_CHROMEDRIVER', '/usr/bin/chromedriver')

# Headless, as root, on a machine whose network is closed: no sandbox (root), no GPU, and none of
# Chromium's own background connections (update checks, sync, QUIC probes), which would fail here.
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--no-proxy-server')


class BrowserError(Exception):
    """The browser could not be started or did not do what was asked."""


@dataclasses.dataclass(frozen=True, order=True)
class Response:
    url: str
    status: int
    type: str       # Chromium's resource type: Document, Stylesheet, Image, Script, Font, XHR, Fetch, Other...
    method: str
    mime_type: str


@dataclasses.dataclass(frozen=True, order=True)
class Failure:
    url: str
    type: str
    error: str      # net::ERR_..., or "blocked:<reason>" when the browser refused to send it
    canceled: bool  # aborted by the page or by navigating away, not a network error


@dataclasses.dataclass(frozen=True, order=True)
class ConsoleMessage:
    level: str      # SEVERE, WARNING, INFO, DEBUG
    source: str     # console-api (console.*), javascript (uncaught), security (CSP...), network, ...
    message: str


@dataclasses.dataclass
class Page:
    url: str
    title: str
    text: str
    responses: list
    failed: list
    console: list
    settled: bool
    pending: list               # URLs still in flight when the timeout ended the wait
    screenshot: str = None

    @property
    def console_errors(self):
        """SEVERE console messages but those of source "network": a 404 or a refused connection is
        already in `responses` or `failed`."""
        return [m for m in self.console if m.level == 'SEVERE' and m.source != 'network']

    def problems(self):
        """One line per HTTP status >= 400, failed load (but canceled ones), console error, and
        unsettled wait: empty for a clean page."""
        lines = ['HTTP %d %s %s' % (r.status, r.type, r.url) for r in self.responses if r.status >= 400]
        lines += ['failed %s %s: %s' % (f.type, f.url, f.error) for f in self.failed if not f.canceled]
        lines += ['console %s: %s' % (m.source, m.message) for m in self.console_errors]
        if not self.settled:
            lines.append('not settled before the timeout; in flight: %s' % ', '.join(self.pending))
        return lines

    def to_dict(self):
        return dataclasses.asdict(self)


def spki_hashes(pem_path):
    """base64(sha256(SubjectPublicKeyInfo)) of every certificate in a PEM file: Chromium's pin format."""
    with open(pem_path, 'rb') as handle:
        certs = x509.load_pem_x509_certificates(handle.read())
    spki = (c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            for c in certs)
    return [base64.b64encode(hashlib.sha256(der).digest()).decode('ascii') for der in spki]


def _is_web(url):
    return url.startswith(('http://', 'https://'))


class _Network:
    """Folds ChromeDriver performance-log events into responses, failures and requests in flight."""

    def __init__(self):
        self.requests = {}      # requestId -> (url, type, method) of the latest hop
        self.in_flight = set()
        self.responses = []
        self.failed = []

    def feed(self, method, params):
        rid = params.get('requestId')
        if method == 'Network.requestWillBeSent':
            redirect = params.get('redirectResponse')
            if redirect and rid in self.requests:
                self._response(rid, redirect)
            request = params['request']
            self.requests[rid] = (request['url'], params.get('type', 'Other'), request['method'])
            self.in_flight.add(rid)
        elif rid not in self.requests:
            return      # began before this page load
        elif method == 'Network.responseReceived':
            self._response(rid, params['response'])
        elif method == 'Network.loadingFinished':
            self.in_flight.discard(rid)
        elif method == 'Network.loadingFailed':
            self.in_flight.discard(rid)
            url, kind, _ = self.requests[rid]
            blocked = params.get('blockedReason')
            error = 'blocked:%s' % blocked if blocked else params.get('errorText', '')
            if _is_web(url):
                self.failed.append(Failure(url, kind, error, bool(params.get('canceled'))))

    def _response(self, rid, response):
        url, kind, method = self.requests[rid]
        if _is_web(response['url']):
            self.responses.append(Response(response['url'], int(response['status']), kind, method,
                                           response.get('mimeType', '')))

    def pending(self):
        return sorted(self.requests[rid][0] for rid in self.in_flight)


class Browser:
    """One headless Chromium with a fresh profile; cookies persist between pages until `close`."""

    def __init__(self, artifacts_dir=None, trust_certs=(), host_rules=None, window=(1280, 1024),
                 timeout=30.0, idle=0.5, chromium=CHROMIUM, chromedriver=CHROMEDRIVER):
        """artifacts_dir: where relative screenshot paths go (default $ARTIFACTS, else ./artifacts).
        trust_certs: PEM files whose certificates' keys are trusted despite certificate errors.
        host_rules: {'rdm.test': '127.0.0.1'}: resolve these names to these addresses.
        timeout: seconds a page load may take, waiting included; idle: quiet seconds that settle it."""
        self.artifacts_dir = os.path.abspath(artifacts_dir or os.environ.get('ARTIFACTS') or 'artifacts')
        self.trust_certs = list(trust_certs)
        self.host_rules = dict(host_rules or {})
        self.window = window
        self.timeout = timeout
        self.idle = idle
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.driver = None
        self._profile = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def arguments(self):
        """The Chromium command-line flags this browser starts with (the profile directory aside)."""
        args = list(FLAGS) + ['--window-size=%d,%d' % self.window]
        if self.host_rules:
            args.append('--host-resolver-rules=' + ', '.join('MAP %s %s' % kv for kv in self.host_rules.items()))
        pins = [pin for path in self.trust_certs for pin in spki_hashes(path)]
        if pins:
            args.append('--ignore-certificate-errors-spki-list=' + ','.join(pins))
        return args

    def start(self):
        for path, package in ((self.chromium, 'chromium'), (self.chromedriver, 'chromium-driver')):
            if not os.access(path, os.X_OK):
                raise BrowserError('%s is missing or not executable: install Debian package %s '
                                   '(scripts/harness/host-bootstrap.sh does)' % (path, package))
        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for arg in self.arguments():
            options.add_argument(arg)
        self._profile = tempfile.mkdtemp(prefix='rdmops-chromium-')
        options.add_argument('--user-data-dir=' + self._profile)
        # get() returns at DOMContentLoaded; waiting for the rest is _settle's job, so a slow asset is
        # reported in flight instead of being stopped by ChromeDriver's page load timeout.
        options.page_load_strategy = 'eager'
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
        options.add_experimental_option('perfLoggingPrefs', {'enableNetwork': True, 'enablePage': False})
        try:
            # Naming the driver is what keeps selenium-manager (and its downloads) out of the way.
            self.driver = webdriver.Chrome(options=options, service=Service(executable_path=self.chromedriver))
            self.driver.execute_cdp_cmd('Network.setCacheDisabled', {'cacheDisabled': True})
            self.driver.get('about:blank')
            self._drain()
        except WebDriverException as exc:
            self.close()
            raise BrowserError('Chromium did not start through %s: %s' % (self.chromedriver, exc)) from exc

    def close(self):
        if self.driver is not None:
            self.driver.quit()
            self.driver = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    @property
    def versions(self):
        """{'browser': '156.0...', 'driver': '156.0...'} as the running session reports them."""
        caps = self.driver.capabilities
        return {'browser': caps.get('browserVersion', ''),
                'driver': caps.get('chrome', {}).get('chromedriverVersion', '').split(' ')[0]}

    # -- pages -------------------------------------------------------------------------------
    def open(self, url, screenshot=None, timeout=None, idle=None):
        """Load url, wait until it settles, and report it (screenshot: PNG path, relative to artifacts_dir)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._drain()
        self.driver.set_page_load_timeout(max(1.0, deadline - time.monotonic()))
        stopped = []
        try:
            self.driver.get(url)
        except TimeoutException:
            stopped = [url]     # ChromeDriver stopped a document that did not arrive in time
        return self._settle(deadline, self.idle if idle is None else idle, screenshot, stopped)

    def submit_form(self, fields, submit=None, screenshot=None, timeout=None, idle=None):
        """Fill the current page's form and submit it; return the page it leads to.

        fields: {key: value}; a key is an input's name, or else a CSS selector.
        submit: CSS selector of the button to click; default: submit the last field's form."""
        deadline = time.monotonic() + (timeout or self.timeout)
        element = None
        for key, value in fields.items():
            element = self._element(key, by_name=True)
            element.clear()
            element.send_keys(value)
        self.driver.execute_script('window.__rdmopsBeforeSubmit = true;')
        self._drain()
        if submit:
            self._element(submit).click()
        elif element is not None:
            element.submit()
        else:
            raise BrowserError('nothing to submit: give fields or a submit selector')
        while not self._script('return window.__rdmopsBeforeSubmit === undefined;'):
            if time.monotonic() >= deadline:
                raise BrowserError('submitting the form on %s loaded no new page' % self.driver.current_url)
            time.sleep(0.1)
        return self._settle(deadline, self.idle if idle is None else idle, screenshot)

    def login(self, url, fields, submit=None, screenshot=None, timeout=None):
        """Open a login form, fill and submit it; the session cookie stays for later pages."""
        self.open(url, timeout=timeout)
        return self.submit_form(fields, submit, screenshot=screenshot, timeout=timeout)

    # -- internals ---------------------------------------------------------------------------
    def _element(self, key, by_name=False):
        if by_name:
            found = self.driver.find_elements(By.NAME, key)
            if found:
                return found[0]
        found = self.driver.find_elements(By.CSS_SELECTOR, key)
        if not found:
            raise BrowserError('no element %r on %s' % (key, self.driver.current_url))
        return found[0]

    def _script(self, source):
        try:
            return self.driver.execute_script(source)
        except WebDriverException:
            return None     # between documents

    def _drain(self):
        self.driver.get_log('performance')
        self.driver.get_log('browser')

    def _network_events(self):
        for entry in self.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            if message['method'].startswith('Network.'):
                yield message['method'], message.get('params', {})

    def _settle(self, deadline, idle, screenshot, stopped=()):
        network = _Network()
        quiet_since = time.monotonic()
        while True:
            events = list(self._network_events())
            for method, params in events:
                network.feed(method, params)
            now = time.monotonic()
            if events:
                quiet_since = now
            complete = self._script('return document.readyState;') == 'complete'
            settled = complete and not stopped and not network.in_flight and now - quiet_since >= idle
            if settled or now >= deadline:
                break
            time.sleep(0.1)
        console = [ConsoleMessage(e['level'], e.get('source', ''), e['message']) for e in self.driver.get_log('browser')]
        page = Page(url=self.driver.current_url, title=self.driver.title,
                    text=self._script('return document.body ? document.body.innerText : "";') or '',
                    responses=network.responses, failed=network.failed, console=console,
                    settled=settled, pending=list(stopped) + network.pending())
        if screenshot:
            page.screenshot = self._save(screenshot, page)
        return page

    def _save(self, name, page):
        path = os.path.join(self.artifacts_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as handle:
            handle.write(self.driver.get_screenshot_as_png())
        page.screenshot = path
        with open(os.path.splitext(path)[0] + '.json', 'w') as handle:
            json.dump(page.to_dict(), handle, indent=1)
        return path
