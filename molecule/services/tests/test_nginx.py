"""The nginx role: HTTPS only, modern TLS, HSTS and security headers, the UI and API reached over
the uwsgi protocol, large uploads streamed, and nginx confined by systemd. Requests come from
other hosts of the scenario, as a browser or load balancer would send them."""
import base64
import json
import os
import re

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = RUNNER.get_hosts("invenio_web")
CLIENTS = RUNNER.get_hosts("outsiders") + RUNNER.get_hosts("invenio_app")

# Stand-in for uWSGI (`socket =`): decodes the uwsgi packet nginx sends and answers with the
# variables it received, as JSON, so the tests see what the application would see.
FAKE_UWSGI = r'''
import json, socket, struct, sys
port = int(sys.argv[1])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(8)
while True:
    conn, _ = server.accept()
    head = conn.recv(4, socket.MSG_WAITALL)
    if len(head) < 4:
        conn.close()
        continue
    size = struct.unpack("<BHB", head)[1]
    data = conn.recv(size, socket.MSG_WAITALL)
    env, i = {}, 0
    while i < len(data):
        klen = struct.unpack("<H", data[i:i + 2])[0]; key = data[i + 2:i + 2 + klen].decode(); i += 2 + klen
        vlen = struct.unpack("<H", data[i:i + 2])[0]; env[key] = data[i + 2:i + 2 + vlen].decode(); i += 2 + vlen
    env["upstream_port"] = port
    body = json.dumps(env).encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    conn.close()
'''


def client_of(host):
    """Another host of the scenario that sends requests to this web host."""
    assert CLIENTS, "the scenario needs a host in outsiders or invenio_app to act as client"
    return testinfra.get_host(f"ansible://{CLIENTS[0]}?ansible_inventory={INVENTORY}")


def name_of(host):
    return host.ansible.get_variables()["inventory_hostname"]


def curl(client, args):
    return client.check_output(f"curl --silent --show-error --max-time 20 {args}")


@pytest.fixture(scope="module")
def fake_upstreams(host):
    script = base64.b64encode(FAKE_UWSGI.encode()).decode()
    host.check_output(f"echo {script} | base64 -d > /tmp/rdmops-fake-uwsgi.py")
    for port in (5000, 5001):
        host.check_output(f"systemd-run --unit=rdmops-test-uwsgi-{port} python3 /tmp/rdmops-fake-uwsgi.py {port}")
    host.check_output("for i in $(seq 50); do ss -Htln | grep -q ':5001 ' && ss -Htln | grep -q ':5000 ' && exit 0; sleep 0.2; done; exit 1")
    yield
    for port in (5000, 5001):
        host.run(f"systemctl stop rdmops-test-uwsgi-{port}")
    host.run("rm -f /tmp/rdmops-fake-uwsgi.py")


def test_nginx_runs_with_a_valid_configuration(host):
    service = host.service("nginx")
    assert service.is_running
    assert service.is_enabled
    assert host.run("nginx -t").rc == 0
    assert not host.file("/etc/nginx/sites-enabled/default").exists


@pytest.mark.parametrize("path", ["/", "/records/abcd-1234?preview=1", "/api/records", "/nginx-health"])
def test_http_is_redirected_permanently_to_https(host, path):
    web = name_of(host)
    out = curl(client_of(host), f"-o /dev/null -w '%{{http_code}} %{{redirect_url}}' 'http://{web}{path}'")
    assert out == f"301 https://{web}{path}"


def test_health_over_https_sends_hsts_and_security_headers(host):
    out = curl(client_of(host), f"--insecure --include https://{name_of(host)}/nginx-health")
    head, body = out.split("\r\n\r\n", 1)
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in head.splitlines()[1:])}
    assert head.startswith("HTTP/2 200")
    assert body.strip() == "ok"
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["server"] == "nginx"  # no version


def s_client(host, options):
    web = name_of(host)
    return client_of(host).run(f"timeout 20 openssl s_client -connect {web}:443 -servername {web} {options} </dev/null")


@pytest.mark.parametrize("version", ["tls1_2", "tls1_3"])
def test_modern_tls_versions_are_accepted(host, version):
    result = s_client(host, f"-{version}")
    assert result.rc == 0, result.stderr
    assert f"TLSv1.{version[-1]}" in result.stdout


@pytest.mark.parametrize("options", [
    "-tls1_1 -cipher DEFAULT@SECLEVEL=0",  # the client would speak it; the server must refuse
    "-tls1 -cipher DEFAULT@SECLEVEL=0",
    "-tls1_2 -cipher AES128-SHA",  # no forward secrecy, CBC
    "-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA",  # CBC with SHA-1 MAC
])
def test_old_protocols_and_weak_ciphers_are_refused(host, options):
    result = s_client(host, options)
    assert result.rc != 0
    assert "Cipher is (NONE)" in result.stdout or "handshake failure" in result.stderr or "alert" in result.stderr


def test_tls_key_is_private_and_certificate_names_the_site(host):
    key = host.file("/etc/nginx/tls/server.key")
    assert key.user == "root"
    assert key.mode & 0o077 == 0
    san = host.check_output("openssl x509 -in /etc/nginx/tls/server.crt -noout -ext subjectAltName")
    server_name = host.ansible.get_variables().get("nginx_server_name") or host.ansible("setup", "filter=ansible_fqdn")[
        "ansible_facts"]["ansible_fqdn"]
    assert f"DNS:{server_name}" in san


def test_ui_and_api_are_reached_over_uwsgi_with_forwarded_headers(host, fake_upstreams):
    client = client_of(host)
    web = name_of(host)
    ui = json.loads(curl(client, f"--insecure https://{web}/records/abcd-1234"))
    api = json.loads(curl(client, f"--insecure https://{web}/api/records?q=test"))
    assert ui["upstream_port"] == 5000 and ui["PATH_INFO"] == "/records/abcd-1234"
    assert api["upstream_port"] == 5001 and api["REQUEST_URI"] == "/api/records?q=test"
    client_address = client.ansible("setup", "gather_subset=network")["ansible_facts"]["ansible_default_ipv4"]["address"]
    for env in (ui, api):
        assert env["HTTP_X_FORWARDED_PROTO"] == "https" and env["UWSGI_SCHEME"] == "https"
        assert env["HTTP_X_FORWARDED_FOR"] == client_address
        assert env["HTTP_HOST"] == web


def test_large_uploads_stream_to_the_api_but_other_bodies_are_capped(host, fake_upstreams):
    client = client_of(host)
    web = name_of(host)
    # A body announced at 200 MB: over the 100m cap for ordinary requests, under 50G for uploads.
    announce = "--insecure --http1.1 -X PUT -H 'Content-Length: 200000000' -H 'Content-Type: application/octet-stream'"
    capped = curl(client, f"{announce} -o /dev/null -w '%{{http_code}}' https://{web}/api/records/abcd-1234/draft")
    assert capped == "413"
    upload = curl(client, f"{announce} https://{web}/api/records/abcd-1234/draft/files/data.bin/content")
    env = json.loads(upload)
    assert env["upstream_port"] == 5001
    assert env["CONTENT_LENGTH"] == "200000000"


def test_static_files_are_served_from_disk_with_long_cache_for_dist(host):
    root = host.ansible.get_variables().get("nginx_static_root", "/var/lib/invenio-rdm/instance/static")
    created_root = not host.file(root).exists
    host.check_output(f"mkdir -p {root}/dist && echo rdmops-static-test > {root}/dist/rdmops-test.js && chmod -R a+rX {root}")
    try:
        out = curl(client_of(host), f"--insecure --include https://{name_of(host)}/static/dist/rdmops-test.js")
        head, body = out.split("\r\n\r\n", 1)
        assert head.startswith("HTTP/2 200") and body.strip() == "rdmops-static-test"
        assert "cache-control: public, max-age=31536000, immutable" in head.lower()
        assert "strict-transport-security: max-age=" in head.lower()
    finally:
        host.run(f"rm -rf {root}" if created_root else f"rm -f {root}/dist/rdmops-test.js")


def test_nginx_master_keeps_only_the_capabilities_it_needs(host):
    # The root master is what keeps systemd-analyze at 2.4 (test_hardening.py): it needs
    # CAP_SETUID/SETGID to start workers as www-data and CAP_CHOWN/DAC_OVERRIDE for its logs.
    master = host.check_output("cat /proc/$(cat /run/nginx.pid)/status")
    bounding = int(re.search(r"CapBnd:\s*([0-9a-f]+)", master).group(1), 16)
    # CAP_NET_BIND_SERVICE(10), SETUID(7), SETGID(6), CHOWN(0), DAC_OVERRIDE(1) and nothing else.
    assert bounding == sum(1 << cap for cap in (0, 1, 6, 7, 10))
    workers = host.check_output("ps -o user= --ppid $(cat /run/nginx.pid)").split()
    assert workers and set(workers) == {"www-data"}
