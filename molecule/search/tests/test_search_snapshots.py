"""The search tier's backups: the opensearch role registers a snapshot repository, a systemd
timer snapshots the indices InvenioRDM cannot rebuild (usage events and statistics, job logs,
audit log) as a least-privilege user whose password only the unit's credentials hold, prunes old
snapshots and copies the repository to the backup host; playbooks/restore-search.yml brings the
indices back from the node's repository or from that copy.

Every test takes the snapshots it relies on from fixtures (one the timer's service took and copied,
one the module took), which take them only when the repository lacks them, so any test runs alone
or in any order (RDMOPS_TEST_ORDER=reverse runs them last to first).
"""
import json
import os
import shlex
import time

import pytest
import testinfra.utils.ansible_runner

from search_helpers import (BACKUP_ROOT, FILES, JOB_LOGS, PATTERNS, PREFIX, PROJECT, RECORDS_INDEX, REPOSITORY, REPOSITORY_DIR,
                            SCHEDULED, STATS_INDICES, api, connect, contents, curl, delete_stats_indices, journal,
                            load_stats_indices, playbook, run_snapshot_service, secret, snapshots, wait_for_copy)

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("invenio_search")

# Measured with the units the role ships (docs/roles/opensearch.md); a change that weakens the
# sandbox fails here.
SNAPSHOT_EXPOSURE_LIMIT = 0.9
COPY_EXPOSURE_LIMIT = 1.0


@pytest.fixture(scope="module")
def backup():
    return connect("search-backup")


@pytest.fixture(scope="module")
def loaded(host):
    """The statistics indices with their documents, as they were before any test deleted them."""
    load_stats_indices(host)
    before = contents(host)
    assert set(before) == set(STATS_INDICES) | {JOB_LOGS}
    assert {name: count for name, (count, _) in before.items()} == {**STATS_INDICES, JOB_LOGS: 12}
    return before


def take_module_snapshot(tmp_path):
    """A snapshot of PATTERNS by rdmops.invenio.opensearch_snapshot: its name and the module's result."""
    name = f"testinfra-module-{time.time_ns()}"
    result_file = tmp_path / "snapshot.json"
    playbook(str(FILES / "snapshot_module.yml"), snapshot_name=name, patterns=PATTERNS, result_file=str(result_file))
    return name, json.loads(result_file.read_text())


@pytest.fixture
def scheduled_snapshot(host, loaded):
    """The repository holds a snapshot of the timer's service, and the backup host its copy."""
    if not any(s["snapshot"].startswith(SCHEDULED) for s in snapshots(host)):
        assert run_snapshot_service(host).rc == 0


@pytest.fixture
def module_snapshot(host, loaded, tmp_path):
    """The repository holds a snapshot the module took, under a name the timer's retention leaves alone."""
    if not any(s["snapshot"].startswith("testinfra-module-") for s in snapshots(host)):
        take_module_snapshot(tmp_path)


def test_repository_is_registered_under_path_repo_and_writable(host):
    repository = api(host, "GET", f"/_snapshot/{REPOSITORY}")[REPOSITORY]
    assert repository["type"] == "fs"
    assert repository["settings"]["location"] == REPOSITORY_DIR
    assert repository["settings"]["compress"] == "true"
    verified = api(host, "POST", f"/_snapshot/{REPOSITORY}/_verify")["nodes"]
    assert [node["name"] for node in verified.values()] == ["search-node"]
    assert host.file(REPOSITORY_DIR).user == "opensearch"


def test_timer_is_scheduled_and_units_are_sandboxed(host, systemd_exposure):
    timer = host.service("opensearch-snapshot.timer")
    assert timer.is_enabled and timer.is_running
    assert "OnCalendar=*-02-29 02:30:00" in host.check_output("systemctl show -p TimersCalendar opensearch-snapshot.timer")
    assert host.check_output("systemctl show -p NextElapseUSecRealtime --value opensearch-snapshot.timer")
    assert systemd_exposure(host, "opensearch-snapshot.service") <= SNAPSHOT_EXPOSURE_LIMIT
    assert systemd_exposure(host, "opensearch-snapshot-copy.service") <= COPY_EXPOSURE_LIMIT


def test_snapshot_password_reaches_the_job_only_as_an_encrypted_credential(host):
    password = secret("opensearch_snapshot_password")
    unit = host.check_output("systemctl cat opensearch-snapshot.service")
    assert "LoadCredentialEncrypted=opensearch_snapshot_password" in unit
    assert "DynamicUser=yes" in unit
    shown = host.check_output("systemctl show -p Environment -p ExecStart -p User opensearch-snapshot.service")
    assert password not in shown and password not in unit
    assert password not in host.file("/etc/credstore.encrypted/opensearch_snapshot_password").content_string
    leaked = host.run(f"grep -rlF -- {password} /etc/opensearch-snapshot /etc/systemd /usr/local/libexec /var/log")
    assert leaked.stdout == "", leaked.stdout


def test_snapshot_user_may_snapshot_but_not_read_restore_or_reconfigure(host, loaded):
    user = "snapshot"
    index = next(iter(STATS_INDICES))
    name = f"testinfra-by-snapshot-user-{int(time.time())}"
    status, body = curl(host, "PUT", f"/_snapshot/{REPOSITORY}/{name}?wait_for_completion=true",
                        {"indices": index, "include_global_state": False}, user=user)
    assert status == 200 and body["snapshot"]["state"] == "SUCCESS", body
    try:
        assert curl(host, "GET", f"/_snapshot/{REPOSITORY}/_all", user=user)[0] == 200
        assert curl(host, "GET", f"/{index}/_search", user=user)[0] == 403
        assert curl(host, "DELETE", f"/{index}", user=user)[0] == 403
        assert curl(host, "PUT", "/_snapshot/testinfra-other", {"type": "fs", "settings": {"location": REPOSITORY_DIR + "-x"}},
                    user=user)[0] == 403
        assert curl(host, "PUT", "/_cluster/settings", {"persistent": {"cluster.routing.allocation.enable": "all"}},
                    user=user)[0] == 403
        status, body = curl(host, "POST", f"/_snapshot/{REPOSITORY}/{name}/_restore",
                            {"indices": index, "rename_pattern": "(.+)", "rename_replacement": "stolen-$1"}, user=user)
        assert status == 403, body
        assert curl(host, "GET", f"/stolen-{index}")[0] == 404
    finally:
        assert curl(host, "DELETE", f"/_snapshot/{REPOSITORY}/{name}", user=user)[0] == 200


def test_restore_play_refuses_without_confirmation(host, loaded):
    run = playbook("playbooks/restore-search.yml", check=False)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "Refusing to restore" in output and "restore_search_confirm=true" in output, output[-3000:]
    assert "search-node" not in run.stdout.split("PLAY RECAP")[-1], "the play reached the search host"
    assert contents(host) == loaded


def test_snapshot_module_then_restore_play_bring_back_identical_documents(host, loaded, tmp_path):
    """Snapshot with rdmops.invenio.opensearch_snapshot, delete the indices, restore with the play."""
    name, snapshot = take_module_snapshot(tmp_path)
    assert snapshot["changed"] is True and snapshot["snapshot"]["state"] == "SUCCESS", snapshot
    assert set(snapshot["snapshot"]["indices"]) >= set(STATS_INDICES), snapshot["snapshot"]["indices"]
    assert RECORDS_INDEX not in snapshot["snapshot"]["indices"]
    info = api(host, "GET", f"/_snapshot/{REPOSITORY}/{name}")["snapshots"][0]
    assert info["data_streams"] == [JOB_LOGS]

    delete_stats_indices(host)
    playbook("playbooks/restore-search.yml", "-e", "restore_search_confirm=true", opensearch_snapshots_restore_snapshot=name)
    after = contents(host)
    assert {n: c for n, (c, _) in after.items()} == {n: c for n, (c, _) in loaded.items()}
    assert after == loaded
    # the rebuildable index was neither in the snapshot nor touched
    assert api(host, "GET", f"/{RECORDS_INDEX}/_count")["count"] == 1


def test_restore_play_never_replaces_an_open_index_unless_asked(host, loaded, scheduled_snapshot):
    name = snapshots(host)[-1]["snapshot"]
    index = f"{PREFIX}events-stats-record-view-2026-11"
    api(host, "POST", f"/{index}/_doc/testinfra-extra?refresh=true", {"seq": 10000, "recid": "new-since-snapshot"})
    try:
        run = playbook("playbooks/restore-search.yml", "-e", "restore_search_confirm=true", check=False,
                       opensearch_snapshots_restore_snapshot=name)
        assert run.returncode != 0
        output = run.stdout + run.stderr
        assert index in output and "existing_index" in output, output[-3000:]
        assert api(host, "GET", f"/{index}/_count")["count"] == STATS_INDICES[index] + 1, "an index was touched"
        # asked to: the open indices are closed and replaced by the snapshot's copy
        playbook("playbooks/restore-search.yml", "-e", "restore_search_confirm=true", opensearch_snapshots_restore_snapshot=name,
                 opensearch_snapshots_restore_existing_index="close", opensearch_snapshots_restore_indices=[f"{PREFIX}events-stats-*"])
        assert api(host, "GET", f"/{index}/_count")["count"] == STATS_INDICES[index]
    finally:
        curl(host, "DELETE", f"/{index}/_doc/testinfra-extra?refresh=true")
    assert contents(host) == loaded


def test_restore_play_names_the_snapshots_when_the_named_one_does_not_exist(host, loaded, module_snapshot):
    run = playbook("playbooks/restore-search.yml", "-e", "restore_search_confirm=true", check=False,
                   opensearch_snapshots_restore_snapshot="no-such-snapshot")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "no-such-snapshot is not a successful snapshot" in output and "testinfra-module-" in output, output[-3000:]
    assert contents(host) == loaded


def test_timer_service_snapshots_the_unrebuildable_indices_and_copies_the_repository(host, backup, loaded):
    since = time.time()
    assert run_snapshot_service(host).rc == 0
    assert host.check_output("systemctl show -p Result --value opensearch-snapshot.service") == "success"
    assert host.check_output("systemctl show -p Result --value opensearch-snapshot-copy.service") == "success"
    newest = snapshots(host)[-1]
    assert newest["snapshot"].startswith(SCHEDULED) and newest["state"] == "SUCCESS", newest
    assert set(newest["indices"]) >= set(STATS_INDICES) and RECORDS_INDEX not in newest["indices"]
    assert newest["data_streams"] == [JOB_LOGS]
    assert newest["metadata"]["taken_by"] == "opensearch-snapshot.service"
    log = journal(host, "opensearch-snapshot.service", since)
    assert f"snapshot {newest['snapshot']}: SUCCESS" in log, log
    assert "copied to opensearch-backup:repository/" in journal(host, "opensearch-snapshot-copy.service", since)

    # the backup host holds the same repository files, private to the copy account
    local = set(host.check_output(f"cd {REPOSITORY_DIR} && find . -type f | sort").splitlines())
    copied = set(backup.check_output(f"cd {BACKUP_ROOT}/repository && find . -type f | sort").splitlines())
    assert local == copied
    assert f"./snap-{newest['uuid']}.dat" in copied
    root = backup.file(BACKUP_ROOT)
    assert (root.user, root.mode) == ("opensearch-backup", 0o700)


def test_copy_key_runs_only_rsync_inside_its_directory(host, backup):
    ssh = "ssh -F /etc/opensearch-snapshot/ssh_config -i /etc/opensearch-snapshot/id_ed25519"
    shell = host.run(f"{ssh} opensearch-backup id")
    assert shell.rc != 0 and "uid=" not in shell.stdout, shell.stdout + shell.stderr
    escape = host.run(f"rsync -e '{ssh}' /etc/hostname opensearch-backup:../../../tmp/testinfra-escaped")
    assert escape.rc != 0
    assert not backup.file("/tmp/testinfra-escaped").exists
    assert not backup.file("/var/backups/testinfra-escaped").exists
    line = backup.file("/var/backups/opensearch/.ssh/authorized_keys").content_string
    assert 'from="' in line and f'command="/usr/bin/rrsync {BACKUP_ROOT}"' in line and line.startswith("restrict,")
    # from any other address (here: the backup host itself) the same key is refused by sshd
    key = host.check_output("cat /etc/opensearch-snapshot/id_ed25519")
    backup.run(f"umask 077; printf '%s\\n' {shlex.quote(key)} > /root/testinfra-copy-key")
    try:
        elsewhere = backup.run("ssh -i /root/testinfra-copy-key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no "
                               "-o UserKnownHostsFile=/dev/null opensearch-backup@127.0.0.1 true")
    finally:
        backup.run("rm -f /root/testinfra-copy-key")
    assert elsewhere.rc != 0 and "Permission denied" in elsewhere.stderr, elsewhere.stderr


def test_retention_keeps_the_newest_and_the_copy_follows(host, backup, loaded, module_snapshot, scheduled_snapshot):
    for _ in range(4):
        assert run_snapshot_service(host).rc == 0
    scheduled = [s for s in snapshots(host) if s["snapshot"].startswith(SCHEDULED)]
    assert len(scheduled) == 3, [s["snapshot"] for s in scheduled]   # opensearch_snapshots_keep_last: 3
    assert any(s["snapshot"].startswith("testinfra-module-") for s in snapshots(host)), "retention touched another prefix"
    assert wait_for_copy(host) == "success"
    copied = backup.check_output(f"ls {BACKUP_ROOT}/repository | grep -c '^snap-'")
    assert int(copied) == len(snapshots(host))
    # what the copies deleted on the backup host was moved aside, not lost
    replaced = backup.check_output(f"find {BACKUP_ROOT}/replaced -name 'snap-*.dat' | wc -l")
    assert int(replaced) >= 2

    # an age limit prunes everything but the newest successful snapshot
    time.sleep(2)
    dropin = "/run/systemd/system/opensearch-snapshot.service.d"
    host.run(f"mkdir -p {dropin} && printf '[Service]\\nExecStart=\\nExecStart=/usr/bin/python3 /usr/local/libexec/rdmops/opensearch-snapshot "
             f"--config /etc/opensearch-snapshot/snapshot.conf snapshot --max-age 1s\\n' > {dropin}/testinfra.conf && systemctl daemon-reload")
    try:
        assert run_snapshot_service(host).rc == 0
    finally:
        host.run(f"rm -rf {dropin} && systemctl daemon-reload")
    scheduled = [s for s in snapshots(host) if s["snapshot"].startswith(SCHEDULED)]
    assert len(scheduled) == 1, [s["snapshot"] for s in scheduled]


def test_restore_play_restores_from_the_backup_hosts_copy(host, loaded, scheduled_snapshot):
    """The node's own repository is not used: the copy is fetched back and restored from."""
    assert wait_for_copy(host) == "success"
    newest = [s for s in snapshots(host) if s["snapshot"].startswith(SCHEDULED)][-1]["snapshot"]
    delete_stats_indices(host)
    run = playbook("playbooks/restore-search.yml", "-e", "restore_search_confirm=true", opensearch_snapshots_restore_source="backup")
    assert f"{REPOSITORY}-from-backup/{newest}" in run.stdout, run.stdout[-3000:]
    assert contents(host) == loaded
    from_backup = api(host, "GET", f"/_snapshot/{REPOSITORY}-from-backup")[f"{REPOSITORY}-from-backup"]
    assert from_backup["settings"]["readonly"] == "true"


def test_timer_job_fails_clearly_with_a_wrong_password(host):
    dropin = "/run/systemd/system/opensearch-snapshot.service.d"
    host.run(f"mkdir -p {dropin} && printf '[Unit]\\nOnSuccess=\\n[Service]\\nLoadCredentialEncrypted=\\n"
             f"LoadCredential=ca.pem:/etc/opensearch/tls/ca.pem\\nSetCredential=opensearch_snapshot_password:testinfra-wrong-pw\\n' "
             f"> {dropin}/testinfra.conf && systemctl daemon-reload")
    since = time.time()
    try:
        assert host.run("systemctl start opensearch-snapshot.service").rc != 0
        log = journal(host, "opensearch-snapshot.service", since)
    finally:
        host.run(f"rm -rf {dropin} && systemctl daemon-reload && systemctl reset-failed opensearch-snapshot.service")
    assert "rejected user 'snapshot' (HTTP 401" in log, log


def test_repository_module_rejects_bad_inputs_clearly(host, tmp_path):
    result_file = tmp_path / "bad.json"
    playbook(str(FILES / "bad_inputs.yml"), result_file=str(result_file))
    outcome = json.loads(result_file.read_text())
    for case in outcome.values():
        assert case["failed"] is True, outcome
    assert "nosuchtype" in outcome["unknown_type"]["msg"], outcome["unknown_type"]["msg"]
    assert "location" in outcome["missing_location"]["msg"], outcome["missing_location"]["msg"]
    outside = outcome["outside_path_repo"]["msg"]
    assert "path.repo" in outside and "/var/tmp/testinfra-elsewhere" in outside and "search-node" in outside, outside
    assert "401" in outcome["wrong_password"]["msg"] and "admin" in outcome["wrong_password"]["msg"], outcome["wrong_password"]["msg"]
    assert curl(host, "GET", "/_snapshot/testinfra-bad")[0] == 404


ROLE_CASES = {
    "location outside path.repo": ["opensearch_snapshots_repository_location", "/var/tmp/testinfra-elsewhere", "path.repo"],
    "no location": ["opensearch_path_repo", "no location"],
    "short snapshot password": ["testinfra_short_password", "shorter than 12 characters"],
    "age without unit": ["opensearch_snapshots_max_age", "'30'"],
    "schedule systemd cannot parse": ["opensearch_snapshots_on_calendar", "every night at half past two"],
    "backup host outside the inventory": ["opensearch_snapshots_backup_host", "nosuchhost"],
}


def test_role_stops_at_validation_on_bad_snapshot_settings(host, tmp_path):
    result_file = tmp_path / "role.json"
    playbook(str(FILES / "role_bad_inputs.yml"), "--check", result_file=str(result_file))
    outcome = json.loads(result_file.read_text())
    assert set(outcome) == set(ROLE_CASES)
    validation = ""
    for path in (("opensearch_snapshots", "tasks", "validate.yml"), ("credentials", "tasks", "require.yml")):
        with open(os.path.join(PROJECT, "roles", *path), encoding="utf-8") as handle:
            validation += handle.read()
    for case, expected in ROLE_CASES.items():
        assert outcome[case]["failed"], (case, outcome[case])
        assert outcome[case]["task"] in validation, (case, outcome[case]["task"])
        for text in expected:
            assert text in outcome[case]["msg"], (case, outcome[case]["msg"])
