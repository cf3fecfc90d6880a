"""Shared by the search scenario's tests: reaching the hosts, calling OpenSearch on the node as
one of its users, running the collection's playbooks, and the indices shaped like InvenioRDM's
usage statistics that the tests back up and bring back."""
import functools
import json
import os
import pathlib
import shlex
import subprocess
import time

import testinfra

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
CREDENTIALS = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "credentials")
FILES = pathlib.Path(__file__).parent / "files"
URL = "https://127.0.0.1:9200"
CA = "/etc/opensearch/tls/ca.pem"
REPOSITORY = "invenio-search"
REPOSITORY_DIR = "/var/lib/opensearch-snapshots/invenio-search"
BACKUP_ROOT = "/var/backups/opensearch/search-node"
PREFIX = "rdm-"
SCHEDULED = "scheduled-"

# Indices InvenioRDM cannot rebuild, as v13 names them (monthly event and aggregation indices),
# with how many documents each gets; job logs are a data stream.
STATS_INDICES = {
    f"{PREFIX}events-stats-record-view-2026-10": 120,
    f"{PREFIX}events-stats-record-view-2026-11": 80,
    f"{PREFIX}events-stats-file-download-2026-11": 50,
    f"{PREFIX}stats-record-view-2026-11": 30,
    f"{PREFIX}stats-file-download-2026-11": 20,
    f"{PREFIX}auditlog-2026-11": 15,
}
JOB_LOGS = f"{PREFIX}job-logs"
JOB_LOG_DOCS = 12
# Rebuildable from the database: neither snapshotted by the job nor touched by a restore.
RECORDS_INDEX = f"{PREFIX}rdmrecords-records-record-v7.0.0"
PATTERNS = [f"{PREFIX}events-stats-*", f"{PREFIX}stats-*", f"{PREFIX}job-logs*", f"{PREFIX}auditlog*"]


@functools.cache
def connect(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


def secret(name):
    return (CREDENTIALS / name).read_text(encoding="utf-8").strip()


def netrc(host, user):
    """A netrc file on the node for the user, so passwords stay off curl's command line."""
    path = f"/root/.testinfra-{user}.netrc"
    if not host.file(path).exists:
        content = f"machine 127.0.0.1 login {user} password {secret(f'opensearch_{user}_password')}\n"
        host.run(f"umask 077; printf %s {shlex.quote(content)} > {path}")
    return path


def curl(host, method, path, body=None, user="admin", ndjson_file=None):
    """(HTTP status, parsed body) of one request to OpenSearch on the node, as user."""
    cmd = (f"curl -sS --cacert {CA} --netrc-file {netrc(host, user)} -o /root/.testinfra-os.out -w '%{{http_code}}' "
           f"-X {method} {shlex.quote(URL + path)}")
    if ndjson_file:
        cmd += f" -H 'Content-Type: application/x-ndjson' --data-binary @{ndjson_file}"
    elif body is not None:
        cmd += f" -H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))}"
    result = host.run(cmd)
    assert result.rc == 0, result.stderr
    out = host.run("cat /root/.testinfra-os.out; rm -f /root/.testinfra-os.out").stdout
    try:
        parsed = json.loads(out) if out else {}
    except ValueError:
        parsed = {"raw": out}
    return int(result.stdout), parsed


def api(host, method, path, body=None, user="admin", **kwargs):
    status, parsed = curl(host, method, path, body, user=user, **kwargs)
    assert 200 <= status < 300, (method, path, status, parsed)
    return parsed


def event(index, seq):
    """A document shaped like InvenioRDM's usage events and aggregations."""
    return {
        "seq": seq,
        "timestamp": f"2026-11-{1 + seq % 28:02d}T{seq % 24:02d}:{seq % 60:02d}:00",
        "recid": f"abcd-{seq % 17:04d}",
        "file_id": f"file-{seq % 5}" if "file-download" in index else None,
        "visitor_id": f"{seq * 7919 % 100003:032x}",
        "unique_id": f"ui_abcd-{seq % 17:04d}",
        "country": ["CH", "DE", "FR", "NO", "PT"][seq % 5],
        "is_robot": seq % 11 == 0,
        "via_api": seq % 3 == 0,
        "count": seq % 9 + 1,
    }


def load_stats_indices(host):
    """(Re)create the statistics indices, the job-logs data stream and a rebuildable records index."""
    for index in list(STATS_INDICES) + [RECORDS_INDEX]:
        curl(host, "DELETE", f"/{index}")
    curl(host, "DELETE", f"/_data_stream/{JOB_LOGS}")
    lines = []
    for index, count in STATS_INDICES.items():
        api(host, "PUT", f"/{index}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                       "mappings": {"properties": {"seq": {"type": "integer"}, "timestamp": {"type": "date"}}}})
        for seq in range(count):
            lines += [json.dumps({"index": {"_index": index, "_id": f"{index}-{seq}"}}), json.dumps(event(index, seq))]
    api(host, "PUT", f"/_index_template/{PREFIX}job-logs-testinfra", {
        "index_patterns": [f"{JOB_LOGS}*"], "data_stream": {}, "priority": 500,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                     "mappings": {"properties": {"seq": {"type": "integer"}}}}})
    for seq in range(JOB_LOG_DOCS):
        lines += [json.dumps({"create": {"_index": JOB_LOGS}}),
                  json.dumps({"@timestamp": f"2026-11-20T10:{seq:02d}:00Z", "seq": seq, "job": "update_expired_embargos",
                              "level": "INFO", "message": f"run {seq} finished"})]
    api(host, "PUT", f"/{RECORDS_INDEX}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    lines += [json.dumps({"index": {"_index": RECORDS_INDEX, "_id": "abcd-0001"}}), json.dumps({"title": "A record"})]
    host.run(f"printf '%s\\n' {' '.join(shlex.quote(line) for line in lines)} > /root/testinfra-bulk.ndjson")
    result = api(host, "POST", "/_bulk?refresh=true", ndjson_file="/root/testinfra-bulk.ndjson")
    assert not result["errors"], [i for i in result["items"] if "error" in list(i.values())[0]][:3]


def contents(host):
    """{index or data stream: (count, [documents sorted by seq, with _id])} of what the job backs up."""
    found = {}
    for name in list(STATS_INDICES) + [JOB_LOGS]:
        status, body = curl(host, "GET", f"/{name}/_search?size=1000", {"sort": [{"seq": "asc"}], "query": {"match_all": {}}})
        if status == 404:
            continue
        assert status == 200, body
        hits = body["hits"]["hits"]
        docs = [(hit["_id"] if name != JOB_LOGS else None, hit["_source"]) for hit in hits]
        found[name] = (api(host, "GET", f"/{name}/_count")["count"], docs)
    return found


def delete_stats_indices(host):
    for index in STATS_INDICES:
        curl(host, "DELETE", f"/{index}")
    curl(host, "DELETE", f"/_data_stream/{JOB_LOGS}")
    assert contents(host) == {}


def snapshots(host, repository=REPOSITORY):
    listing = api(host, "GET", f"/_snapshot/{repository}/_all")["snapshots"]
    return sorted(listing, key=lambda s: s["start_time_in_millis"])


def playbook(path, *args, check=True, **extra_vars):
    """Run a playbook (relative to the project, or absolute) against the scenario's inventory."""
    path = path if os.path.isabs(path) else os.path.join(PROJECT, path)
    command = ["ansible-playbook", "-i", INVENTORY, path, *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    output = run.stdout + run.stderr
    for name in ("opensearch_admin_password", "opensearch_snapshot_password", "opensearch_invenio_password"):
        assert secret(name) not in output, f"{name} appears in the output of {path}"
    if check:
        assert run.returncode == 0, output[-6000:]
    return run


def run_snapshot_service(host):
    """Start the timer's service as the timer would and wait for it and for the copy it triggers."""
    started = host.run("systemctl start opensearch-snapshot.service")
    wait_for_copy(host)
    return started


def wait_for_copy(host, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = host.check_output("systemctl show -p ActiveState --value opensearch-snapshot-copy.service")
        if state in ("inactive", "failed"):
            return host.check_output("systemctl show -p Result --value opensearch-snapshot-copy.service")
        time.sleep(1)
    raise AssertionError("opensearch-snapshot-copy.service did not finish")


def journal(host, unit, since):
    return host.check_output(f"journalctl -u {unit} --since @{int(since)} --no-pager -o cat")
