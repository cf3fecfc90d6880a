"""tests/support/browser.py against real Chromium and a throwaway site on 127.0.0.1 (see conftest.py).

Each page is built to produce one kind of trouble; each test asserts that the harness reports
exactly that trouble and nothing else, and cross-checks with what the server saw.
"""

import json
import os
import struct
import subprocess
import tempfile
import time
import zlib

import pytest

from support.browser import FLAGS, Browser, BrowserError, Failure


GOOD_PAGE = [('/css/site.css', 200, 'Stylesheet'), ('/good.html', 200, 'Document'), ('/img/dot.png', 200, 'Image'),
             ('/js/app.js', 200, 'Script')]


def seen(page, base):
    """(path, status, type) of every response, relative to base, but the favicon's: Chromium asks for a
    site's /favicon.ico on its first page only and keeps it in the profile, so it depends on test order."""
    return sorted((r.url[len(base):] if r.url.startswith(base) else r.url, r.status, r.type) for r in page.responses
                  if r.url != base + '/favicon.ico')


def requests_to(site, path):
    return sum(1 for _, seen_path in site.site.requests if seen_path == path)


def debian_version(binary):
    """'156.0.8078.108' from 'Chromium 156.0.8078.108 built on Debian...' or 'ChromeDriver 156.0.8078.108 (...)'."""
    return subprocess.run([binary, '--version'], capture_output=True, text=True, check=True).stdout.split()[1]


def pixel(png_bytes, x, y):
    """(r, g, b) of one pixel of an 8-bit RGB or RGBA PNG."""
    assert png_bytes[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, header = 8, b'', None
    while pos < len(png_bytes):
        length, kind = struct.unpack('>I4s', png_bytes[pos:pos + 8])
        data = png_bytes[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', data)
        elif kind == b'IDAT':
            idat += data
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw, rows, previous = zlib.decompress(idat), [], bytearray(stride)
    for row_number in range(y + 1):
        start = row_number * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xff
            elif kind == 2:
                line[i] = (line[i] + up) & 0xff
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xff
            elif kind == 4:
                estimate = left + up - up_left
                nearest = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up), (abs(estimate - up_left), 2, up_left))
                line[i] = (line[i] + nearest[2]) & 0xff
        rows.append(line)
        previous = line
    return tuple(rows[y][x * channels:x * channels + 3])


def png_size(png_bytes):
    return struct.unpack('>II', png_bytes[16:24])


# -- the browser itself -------------------------------------------------------------------------

def test_debian_chromium_runs_with_the_documented_flags(browser):
    assert browser.versions == {'browser': debian_version('/usr/bin/chromium'),
                                'driver': debian_version('/usr/bin/chromedriver')}
    browser.open('chrome://version')
    command_line = browser.driver.find_element('id', 'command_line').text
    for flag in FLAGS + ('--window-size=1280,1024', '--user-data-dir=%s/rdmops-chromium-' % tempfile.gettempdir()):
        assert flag in command_line


def test_a_missing_chromium_is_an_error_that_says_what_to_install(tmp_path):
    absent = str(tmp_path / 'chromium')
    with pytest.raises(BrowserError, match='%s is missing .*install Debian package chromium ' % absent):
        Browser(chromium=absent, artifacts_dir=str(tmp_path)).start()


def test_a_browser_that_does_not_start_is_an_error_and_leaves_no_profile_behind(tmp_path, monkeypatch):
    monkeypatch.setenv('TMPDIR', str(tmp_path))
    tempfile.tempdir = None     # make tempfile read TMPDIR again
    try:
        with pytest.raises(BrowserError, match='Chromium did not start through /usr/bin/chromedriver'):
            Browser(chromium='/bin/false', artifacts_dir=str(tmp_path)).start()
    finally:
        monkeypatch.undo()
        tempfile.tempdir = None
    assert os.listdir(str(tmp_path)) == []


def test_relative_screenshots_go_under_ARTIFACTS_or_else_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv('ARTIFACTS', str(tmp_path))
    assert Browser().artifacts_dir == str(tmp_path)
    monkeypatch.delenv('ARTIFACTS')
    monkeypatch.chdir(tmp_path)
    assert Browser().artifacts_dir == str(tmp_path / 'artifacts')


# -- what a page load reports -------------------------------------------------------------------

def test_a_clean_page_reports_each_asset_200_and_no_problem(browser, site):
    page = browser.open(site.url('/good.html'), screenshot='good.png')
    assert seen(page, site.url('')) == GOOD_PAGE
    assert page.failed == []
    assert page.console_errors == []
    assert page.problems() == []
    assert page.settled and page.pending == []
    assert page.title == 'Good' and 'script ran' in page.text
    assert [(m.level, m.source) for m in page.console if 'app.js loaded' in m.message] == [('INFO', 'console-api')]


def test_the_cache_is_off_so_a_second_load_reports_every_asset_again(browser, site):
    first = browser.open(site.url('/good.html'))
    before = requests_to(site, '/img/dot.png')
    second = browser.open(site.url('/good.html'))
    assert seen(second, site.url('')) == seen(first, site.url(''))
    assert requests_to(site, '/img/dot.png') == before + 1


def test_a_missing_asset_is_reported_as_its_404_response(browser, site):
    page = browser.open(site.url('/missing.html'))
    assert seen(page, site.url('')) == [('/img/dot.png', 200, 'Image'), ('/img/missing.png', 404, 'Image'), ('/missing.html', 200, 'Document')]
    assert page.failed == [] and page.console_errors == []
    assert page.problems() == ['HTTP 404 Image %s' % site.url('/img/missing.png')]


def test_console_errors_rejections_and_uncaught_exceptions_are_reported(browser, site):
    page = browser.open(site.url('/errors.html'))
    errors = sorted((m.source, m.message.split(' ', 2)[2]) for m in page.console_errors)
    assert errors == [('console-api', '"deliberate console error"'),
                      ('javascript', 'Uncaught Error: deliberate rejection'),
                      ('javascript', 'Uncaught Error: deliberate uncaught exception')]
    assert all(m.message.startswith(site.url('/js/throws.js')) for m in page.console_errors)
    assert [m.level for m in page.console if 'a warning is not an error' in m.message] == ['WARNING']
    assert all(r.status == 200 for r in page.responses) and page.failed == []
    assert len(page.problems()) == 3


def test_refused_and_blocked_loads_are_reported_as_failed(browser, site, refused_port):
    page = browser.open(site.url('/failing.html'))
    blocked = site.url('/js/app.js', host='localhost')
    assert sorted(page.failed) == sorted([
        Failure('http://127.0.0.1:%d/img/dot.png' % refused_port, 'Image', 'net::ERR_CONNECTION_REFUSED', False),
        Failure(blocked, 'Script', 'blocked:csp', False)])
    assert seen(page, site.url('')) == [('/failing.html', 200, 'Document')]
    assert [m.source for m in page.console_errors] == ['security']
    assert 'Content Security Policy' in page.console_errors[0].message and blocked in page.console_errors[0].message
    assert len(page.problems()) == 3


def test_open_waits_for_content_rendered_after_load(browser, site):
    started = time.monotonic()
    page = browser.open(site.url('/late.html'))
    took = time.monotonic() - started
    assert page.settled
    assert page.text == 'rendered 42 records'
    assert ('/api/records.json?delay=1', 200, 'Fetch') in seen(page, site.url(''))
    assert took >= site.late_render_s + browser.idle


@pytest.mark.parametrize('path', ['/hanging.html', '/hanging-image.html', '/api/hang'],
                         ids=['fetch after load', 'image holding the load event', 'the document itself'])
def test_a_page_that_never_settles_is_reported_once_the_timeout_ends(browser, site, path):
    started = time.monotonic()
    page = browser.open(site.url(path), timeout=2)
    took = time.monotonic() - started
    assert 2 <= took < 5     # bounded: /api/hang answers only after 8 s
    assert not page.settled
    assert page.pending == [site.url('/api/hang')]
    assert page.problems() == ['not settled before the timeout; in flight: %s' % site.url('/api/hang')]


def test_the_screenshot_is_a_png_of_the_rendered_page_with_a_report_beside_it(browser, site):
    page = browser.open(site.url('/colours.html'), screenshot='harness/colours.png')
    assert page.screenshot == os.path.join(browser.artifacts_dir, 'harness', 'colours.png')
    with open(page.screenshot, 'rb') as handle:
        shot = handle.read()
    assert png_size(shot) == tuple(browser.driver.execute_script('return [innerWidth, innerHeight];'))
    assert png_size(shot)[0] == 1280
    assert pixel(shot, 100, 100) == (0, 0, 255)
    assert pixel(shot, 600, 500) == (255, 0, 0)
    with open(os.path.join(browser.artifacts_dir, 'harness', 'colours.json')) as handle:
        report = json.load(handle)
    assert report['url'] == site.url('/colours.html') and report['screenshot'] == page.screenshot
    assert {(r['url'], r['status']) for r in report['responses']} == {(r.url, r.status) for r in page.responses}


# -- logging in ---------------------------------------------------------------------------------

def test_login_sets_a_session_that_later_pages_use(new_browser, site):
    browser = new_browser()
    assert seen(browser.open(site.url('/private')), site.url('')) == [('/private', 403, 'Document')]
    page = browser.login(site.url('/login'), fields={'username': site.user, '#password': site.password}, submit='#go',
                         screenshot='login/after-login.png')
    assert page.url == site.url('/private') and page.text == 'Welcome, %s' % site.user
    assert [(r.method, r.url, r.status) for r in page.responses if r.type == 'Document'] == [
        ('POST', site.url('/login'), 303), ('GET', site.url('/private'), 200)]
    assert page.problems() == []
    later = browser.open(site.url('/private'))
    assert later.text == 'Welcome, %s' % site.user and later.problems() == []
    assert new_browser().open(site.url('/private')).text == 'Log in first'


def test_a_wrong_password_leaves_the_browser_logged_out(new_browser, site):
    browser = new_browser()
    page = browser.login(site.url('/login'), fields={'username': site.user, 'password': 'wrong'})
    assert page.url == site.url('/login') and 'Wrong user name or password' in page.text
    assert [(r.method, r.status) for r in page.responses if r.type == 'Document'] == [('POST', 200)]
    assert browser.open(site.url('/private')).text == 'Log in first'


def test_a_submit_that_loads_no_page_is_an_error(new_browser, site):
    browser = new_browser()
    browser.open(site.url('/good.html'))
    with pytest.raises(BrowserError, match='no element'):
        browser.submit_form({'username': site.user})
    with pytest.raises(BrowserError, match='loaded no new page'):
        browser.submit_form({}, submit='#out', timeout=1.5)


# -- self-signed HTTPS and host names -----------------------------------------------------------

def test_a_trusted_certificate_and_a_mapped_host_name_load_cleanly(new_browser, tls_site):
    browser = new_browser(trust_certs=[tls_site.cert], host_rules={'rdm.test': '127.0.0.1'})
    base = tls_site.url('', host='rdm.test', scheme='https')
    page = browser.open(base + '/good.html')
    assert page.problems() == []
    assert seen(page, base) == GOOD_PAGE


@pytest.mark.parametrize('trusted', ['none', 'another certificate'])
def test_any_other_certificate_is_still_refused(new_browser, tls_site, trusted):
    certs = [tls_site.other_cert] if trusted == 'another certificate' else []
    browser = new_browser(trust_certs=certs, host_rules={'rdm.test': '127.0.0.1'})
    url = tls_site.url('/good.html', host='rdm.test', scheme='https')
    page = browser.open(url)
    assert page.responses == []
    assert page.failed == [Failure(url, 'Document', 'net::ERR_CERT_AUTHORITY_INVALID', False)]
