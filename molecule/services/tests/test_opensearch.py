"""OpenSearch on the search tier: a sandboxed service, reachable on loopback only and over TLS
only, with internal users (admin, invenio), the modules InvenioRDM's mappings need and the heap
the inventory asked for."""

import json
import os
import re
import shlex
import subprocess
import tarfile

import opensearchpy
import pytest
import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("invenio_search")

URL = "https://127.0.0.1:9200"
CA = "/etc/opensearch/tls/ca.pem"
CREDENTIALS = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "credentials")
# Measured 0.9 with the unit the role ships for a loopback-only node (1.0 without the IP address
# filter of a network-bound node; see docs/roles/opensearch.md); a change to the unit
# that weakens the sandbox fails here.
EXPOSURE_LIMIT = 1.0
TEST_INDEX = "testinfra-opensearch"


def secret(name):
    with open(os.path.join(CREDENTIALS, name), encoding="utf-8") as handle:
        return handle.read().strip()


def curl(host, method, path, body=None, user="admin", password=None, extra=""):
    """curl on the search host; returns (HTTP status, parsed body). The password is on the
    command line of the test container only (test code)."""
    if user and password is None:
        password = secret(f"opensearch_{user}_password")
    cmd = f"curl -sS --cacert {CA} -o /tmp/testinfra-os.out -w '%{{http_code}}' -X {method} -H 'Content-Type: application/json' {extra}"
    if user:
        cmd += f" -u {shlex.quote(user + ':' + password)}"
    cmd += f" {shlex.quote(URL + path)}"
    if body is not None:
        cmd += f" -d {shlex.quote(json.dumps(body))}"
    result = host.run(cmd)
    assert result.rc == 0, result.stderr
    out = host.run("cat /tmp/testinfra-os.out; rm -f /tmp/testinfra-os.out").stdout
    try:
        parsed = json.loads(out) if out else {}
    except ValueError:
        parsed = {"raw": out}
    return int(result.stdout), parsed


def api(host, method, path, body=None, expect_ok=True, user="admin"):
    status, parsed = curl(host, method, path, body, user=user)
    if expect_ok:
        assert 200 <= status < 300, (status, parsed)
    return parsed


def heap_bytes(size):
    number, unit = int(size[:-1]), size[-1].lower()
    return number * 1024 ** (3 if unit == "g" else 2)


def test_opensearch_service_is_enabled_and_running(host):
    service = host.service("opensearch")
    assert service.is_enabled
    assert service.is_running


def test_opensearch_runs_as_its_own_user(host):
    pid = host.check_output("systemctl show -p MainPID --value opensearch.service")
    assert pid != "0"
    assert host.check_output(f"ps -o user= -p {pid}") == "opensearch"
    assert host.user("opensearch").shell == "/usr/sbin/nologin"


def test_opensearch_listens_on_loopback_only(host):
    listeners = [s for s in host.socket.get_listening_sockets() if re.search(r":9200$", s)]
    assert listeners, "nothing listens on port 9200"
    assert all(s in ("tcp://127.0.0.1:9200", "tcp://::1:9200") for s in listeners), listeners
    network_address = host.ansible("setup", "gather_subset=network")["ansible_facts"]["ansible_default_ipv4"]["address"]
    refused = host.run(f"curl -sS --max-time 5 --cacert {CA} https://{network_address}:9200/")
    assert refused.rc != 0, f"OpenSearch answers on {network_address}"


def test_opensearch_cluster_is_usable(host):
    health = api(host, "GET", "/_cluster/health?wait_for_status=yellow&timeout=30s")
    assert health["status"] in ("green", "yellow"), health


def test_opensearch_has_the_modules_invenio_needs(host):
    nodes = api(host, "GET", "/_nodes/plugins")["nodes"]
    for node in nodes.values():
        modules = {m["name"] for m in node["modules"]}
        missing = {"analysis-common", "lang-painless", "mapper-extras", "reindex", "parent-join",
                   "percolator", "aggs-matrix-stats", "ingest-common", "geo"} - modules
        assert not missing, f"modules missing: {missing}"


def test_opensearch_folds_accents_and_builds_edge_ngrams(host):
    tokens = api(host, "POST", "/_analyze", {
        "tokenizer": "standard",
        "filter": ["lowercase", "asciifolding", {"type": "edge_ngram", "min_gram": 2, "max_gram": 4}],
        "text": "Ærøskøbing",
    })["tokens"]
    assert [t["token"] for t in tokens] == ["ae", "aer", "aero"]


@pytest.fixture
def test_index(host):
    api(host, "DELETE", f"/{TEST_INDEX}", expect_ok=False)
    api(host, "PUT", f"/{TEST_INDEX}", {
        "settings": {
            "number_of_replicas": 0,
            "analysis": {"analyzer": {"folded": {"type": "custom", "tokenizer": "standard",
                                                 "filter": ["lowercase", "asciifolding"]}}},
        },
        "mappings": {"properties": {"title": {"type": "text", "analyzer": "folded"}, "views": {"type": "integer"}}},
    })
    for doc_id, title, views in [(1, "Crème brûlée", 3), (2, "Crème caramel", 12)]:
        api(host, "PUT", f"/{TEST_INDEX}/_doc/{doc_id}?refresh=true", {"title": title, "views": views})
    yield TEST_INDEX
    api(host, "DELETE", f"/{TEST_INDEX}", expect_ok=False)


def test_opensearch_runs_painless_script_queries(host, test_index):
    result = api(host, "POST", f"/{test_index}/_search", {"query": {"bool": {
        "must": {"match": {"title": "creme"}},
        "filter": {"script": {"script": {"source": "doc['views'].value * params.factor > 20", "params": {"factor": 2}}}},
    }}})
    assert [hit["_id"] for hit in result["hits"]["hits"]] == ["2"], result


def test_opensearch_heap_is_the_configured_size(host):
    wanted = host.ansible.get_variables().get("opensearch_heap_size", "1g")
    nodes = api(host, "GET", "/_nodes/jvm")["nodes"]
    for node in nodes.values():
        assert node["jvm"]["mem"]["heap_max_in_bytes"] == heap_bytes(wanted)
        assert node["jvm"]["mem"]["heap_init_in_bytes"] == heap_bytes(wanted)


def test_opensearch_unit_is_sandboxed(host, capsys):
    report = host.check_output("systemd-analyze security --no-pager opensearch.service")
    exposure = float(re.search(r"Overall exposure level for opensearch\.service: ([0-9.]+)", report).group(1))
    with capsys.disabled():
        print(f"\nsystemd-analyze security opensearch.service on {host.backend.get_hostname()}: {exposure}")
    assert exposure <= EXPOSURE_LIMIT, report


def test_opensearch_refuses_plain_http(host):
    result = host.run("curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:9200/")
    # the TLS listener closes a plain-text connection without an HTTP answer
    assert result.rc != 0 or result.stdout in ("000", "400"), (result.rc, result.stdout, result.stderr)
    assert '"cluster_name"' not in host.run("curl -sS --max-time 10 http://127.0.0.1:9200/").stdout


def test_opensearch_refuses_anonymous_and_wrong_passwords(host):
    assert curl(host, "GET", "/_cluster/health", user=None)[0] == 401
    assert curl(host, "GET", "/_cluster/health", user="admin", password=secret("opensearch_admin_password") + "x")[0] == 401
    assert curl(host, "GET", "/_cluster/health", user="invenio", password=secret("opensearch_invenio_password") + "x")[0] == 401


def test_opensearch_node_certificate_is_signed_by_our_ca(host):
    verify = host.run(f"openssl verify -CAfile {CA} /etc/opensearch/tls/node.pem /etc/opensearch/tls/admin.pem")
    assert verify.rc == 0 and verify.stdout.count(": OK") == 2, verify.stdout + verify.stderr
    served = host.run(f"openssl s_client -connect 127.0.0.1:9200 -CAfile {CA} -verify_return_error -verify_ip 127.0.0.1 </dev/null")
    assert "Verify return code: 0 (ok)" in served.stdout, served.stdout + served.stderr
    text = host.check_output("openssl x509 -noout -text -in /etc/opensearch/tls/node.pem")
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text, text
    key = host.file("/etc/opensearch/tls/admin-key.pem")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    node_key = host.file("/etc/opensearch/tls/node-key.pem")
    assert (node_key.user, node_key.group, node_key.mode) == ("root", "opensearch", 0o640)
    assert host.check_output("head -1 /etc/opensearch/tls/node-key.pem") == "-----BEGIN PRIVATE KEY-----"


def test_opensearch_has_no_demo_certificates_or_demo_users(host):
    found = host.run("grep -rlE 'esnode|kirk' /etc/opensearch /opt/opensearch/current/config")
    assert found.stdout == "", found.stdout
    assert not host.run("find / -xdev \\( -name 'esnode*.pem' -o -name 'kirk*.pem' \\) -print -quit").stdout.strip()
    users = api(host, "GET", "/_plugins/_security/api/internalusers")
    assert set(users) == {"admin", "invenio"}, set(users)
    assert "admin:admin" not in host.file("/etc/opensearch/opensearch-security/internal_users.yml").content_string
    assert host.file("/etc/opensearch/opensearch-security/internal_users.yml").content_string.count("$2y$12$") == 2


def test_opensearch_invenio_user_manages_its_own_indices_only(host):
    prefix = host.ansible.get_variables().get("opensearch_invenio_index_prefix", "")
    assert prefix, "the scenario sets a prefix so that other prefixes can be tested"
    index = f"{prefix}testinfra-records"
    inv = "invenio"
    curl(host, "DELETE", f"/{index}", user="admin")
    try:
        status, body = curl(host, "PUT", f"/{index}", {"settings": {"number_of_replicas": 0}}, user=inv)
        assert status == 200, body
        assert curl(host, "PUT", f"/{index}/_doc/1?refresh=true", {"title": "secured"}, user=inv)[0] == 201
        status, body = curl(host, "GET", f"/{index}/_doc/1", user=inv)
        assert status == 200 and body["_source"] == {"title": "secured"}, body
        status, body = curl(host, "POST", "/_aliases", {"actions": [{"add": {"index": index, "alias": f"{prefix}testinfra-alias"}}]},
                            user=inv)
        assert status == 200, body
        status, body = curl(host, "PUT", f"/_index_template/{prefix}testinfra-template",
                            {"index_patterns": [f"{prefix}testinfra-t-*"], "template": {"settings": {"number_of_replicas": 0}}}, user=inv)
        assert status == 200, body
        assert curl(host, "DELETE", f"/_index_template/{prefix}testinfra-template", user=inv)[0] == 200
        # other prefixes, the security index and administration are refused
        assert curl(host, "PUT", "/other-testinfra-index", {}, user=inv)[0] == 403
        assert curl(host, "GET", "/.opendistro_security/_search", user=inv)[0] in (403, 404)
        assert curl(host, "DELETE", "/.opendistro_security", user=inv)[0] == 403
        assert curl(host, "GET", "/_plugins/_security/api/internalusers", user=inv)[0] == 403
        assert curl(host, "PUT", "/_cluster/settings", {"persistent": {"cluster.routing.allocation.enable": "all"}}, user=inv)[0] == 403
    finally:
        curl(host, "DELETE", f"/{index}", user="admin")
        curl(host, "DELETE", "/other-testinfra-index", user="admin")


def test_snapshot_modules_verify_the_ca_and_authenticate(host, tmp_path):
    """rdmops.invenio.opensearch_snapshot(_repository) with ca_path and basic auth, run on the node."""
    path_repo = host.ansible.get_variables().get("opensearch_path_repo") or []
    assert path_repo, "the scenario sets opensearch_path_repo"
    site = os.path.dirname(os.path.dirname(opensearchpy.__file__))
    pylib = tmp_path / "pylib.tar.gz"
    with tarfile.open(pylib, "w:gz") as archive:
        for package in ("opensearchpy", "events"):
            archive.add(os.path.join(site, package), arcname=f"testinfra-pylib/{package}")
    secrets_file = tmp_path / "vars.json"
    secrets_file.write_text(json.dumps({"admin_password": secret("opensearch_admin_password")}))
    result_file = tmp_path / "result.json"
    index = host.ansible.get_variables().get("opensearch_invenio_index_prefix", "") + "testinfra-snap"
    extra = {"pylib_archive": str(pylib), "path_repo": path_repo[0],
             "result_file": str(result_file), "index": index}
    playbook = os.path.join(os.path.dirname(__file__), "files", "opensearch_modules_secured.yml")
    run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", host.backend.get_hostname(), "-e", f"@{secrets_file}",
                          "-e", json.dumps(extra), playbook], capture_output=True, text=True, timeout=600)
    try:
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        result = json.loads(result_file.read_text())
        assert result["repo_first"] is True and result["repo_second"] is False, result
        assert result["snap"].get("state") == "SUCCESS", result
        assert result["wrong_failed"] and ("401" in result["wrong_password"] or "uthentica" in result["wrong_password"]), result
        assert result["no_ca_failed"] and ("certificate" in result["no_ca"].lower() or "ssl" in result["no_ca"].lower()), result
        assert secret("opensearch_admin_password") not in run.stdout + run.stderr
    finally:
        curl(host, "DELETE", f"/{index}", user="admin")
