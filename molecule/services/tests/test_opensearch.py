"""OpenSearch on the search tier: a sandboxed service, reachable on loopback only, with the
modules InvenioRDM's mappings need and the heap the inventory asked for."""

import json
import os
import re
import shlex

import pytest
import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("invenio_search")

URL = "http://127.0.0.1:9200"
# Measured 0.9 with the unit the role ships for a loopback-only node (1.0 without the IP address
# filter of a network-bound node; see docs/roles/opensearch.md); a change to the unit
# that weakens the sandbox fails here.
EXPOSURE_LIMIT = 1.0
TEST_INDEX = "testinfra-opensearch"


def api(host, method, path, body=None, expect_ok=True):
    cmd = f"curl -sS -X {method} -H 'Content-Type: application/json' {shlex.quote(URL + path)}"
    if body is not None:
        cmd += f" -d {shlex.quote(json.dumps(body))}"
    result = host.run(cmd)
    if expect_ok:
        assert result.rc == 0, result.stderr
    return json.loads(result.stdout) if result.stdout else {}


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
    refused = host.run(f"curl -sS --max-time 5 http://{network_address}:9200/")
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
