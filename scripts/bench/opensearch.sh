#!/usr/bin/env bash
# Benchmark of OpenSearch snapshots on the Molecule scenario `search` (issue 5, item 6).
# Measures, in one run, on an index of at least 1 GiB that matches the timer's patterns:
#   1. plain copies of the index's data directory - the baselines: cp -a + sync on the node, and
#      rsync of it to the backup host over the same SSH key and confinement the copy unit uses;
#   2. the scheduled snapshot (systemctl start opensearch-snapshot.service, as the timer does)
#      and the copy of the repository to the backup host it triggers; then both again with
#      nothing changed (incremental);
#   3. the restore of the deleted index (snapshot restore API, then playbooks/restore-search.yml);
#   4. snapshot and restore again with the rate limits off (OpenSearch throttles snapshots
#      (repository max_snapshot_bytes_per_sec) and restores (max_restore_bytes_per_sec and the
#      node's indices.recovery.max_bytes_per_sec) to 40 MB/s by default).
# Creates and always destroys the scenario's containers (search-node, search-backup).
# Usage: scripts/bench/opensearch.sh   (or: make bench-search)
# Tunables: BENCH_MIN_BYTES (index size on disk, default 1 GiB).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD

MIN_BYTES=${BENCH_MIN_BYTES:-1073741824}
NODE=search-node
BACKUP=search-backup
INDEX=rdm-events-stats-record-view-2026-01
REPO_DIR=/var/lib/opensearch-snapshots/invenio-search
BACKUP_REPO=/var/backups/opensearch/$NODE/repository
BENCH_SCENARIO=search
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"
on_node() { docker exec -i "$NODE" "$@"; }
on_backup() { docker exec -i "$BACKUP" "$@"; }
# curl as admin on the node; the password goes from the node's credential into a root-only netrc there.
os() { on_node curl -sS --fail-with-body --cacert /etc/opensearch/tls/ca.pem --netrc-file /root/.bench.netrc \
    -H 'Content-Type: application/json' "$@"; }
# Seconds between a oneshot unit's last start and exit, from systemd's own timestamps.
unit_seconds() {
    local start end
    start=$(on_node systemctl show -p ExecMainStartTimestampMonotonic --value "$1")
    end=$(on_node systemctl show -p ExecMainExitTimestampMonotonic --value "$1")
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", (e - s) / 1e6 }'
}
wait_inactive() {
    local _
    for _ in $(seq 1 1200); do
        case "$(on_node systemctl show -p ActiveState --value "$1")" in inactive|failed) return 0 ;; esac
        sleep 0.5
    done
    echo "$1 did not finish" >&2
    return 1
}

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(nproc) CPUs; work files in $WORK"
RDMOPS_BASE_IMAGE=$(scripts/harness/build-base-image.sh bookworm)
RDMOPS_OPENSEARCH_ARCHIVE=$(scripts/harness/build-opensearch-dist.sh)
export RDMOPS_BASE_IMAGE RDMOPS_OPENSEARCH_ARCHIVE
t0=$(now)
molecule destroy -s search >"$WORK/destroy-before.log" 2>&1 || true
molecule create -s search >"$WORK/create.log" 2>&1 || { tail -40 "$WORK/create.log"; exit 1; }
molecule converge -s search >"$WORK/converge.log" 2>&1 || { tail -60 "$WORK/converge.log"; exit 1; }
echo "create + converge: $(elapsed "$t0" "$(now)") s"
on_node sh -c 'umask 077; printf "machine 127.0.0.1 login admin password %s\n" \
    "$(systemd-creds decrypt /etc/credstore.encrypted/opensearch_admin_password -)" > /root/.bench.netrc'
HEAP=$(os "https://127.0.0.1:9200/_nodes/jvm?filter_path=nodes.*.jvm.mem.heap_max_in_bytes" \
    | python3 -c 'import json,sys; print(list(json.load(sys.stdin)["nodes"].values())[0]["jvm"]["mem"]["heap_max_in_bytes"] // 1048576)')
echo "OpenSearch heap: $HEAP MiB"

echo "== 1. index $INDEX of at least $MIN_BYTES bytes"
LOAD=$(on_node python3 - --index "$INDEX" --min-bytes "$MIN_BYTES" <scripts/bench/opensearch-load.py)
echo "$LOAD"
DOCS=$(echo "$LOAD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["docs"])')
UUID=$(os "https://127.0.0.1:9200/_cat/indices/$INDEX?h=uuid" | tr -d '[:space:]')
INDEX_DIR=/var/lib/opensearch/nodes/0/indices/$UUID
# Background merges and translog trimming go on after a load; a closed index's files stand still,
# so the plain copies below are consistent (as a copy of a data directory must be).
os -X POST "https://127.0.0.1:9200/$INDEX/_close" >/dev/null
SIZE=$(on_node du -sb "$INDEX_DIR" | cut -f1)
echo "data directory $INDEX_DIR (index closed): $SIZE bytes, $DOCS documents"
if [ "$SIZE" -lt "$MIN_BYTES" ]; then
    echo "index data directory is smaller than $MIN_BYTES bytes" >&2
    exit 1
fi
on_node sync

echo "== 2. baselines: plain copies of the index directory (index closed)"
t0=$(now)
on_node sh -c "cp -a $INDEX_DIR /var/lib/opensearch-bench-copy && sync"
T_CP=$(elapsed "$t0" "$(now)")
on_node rm -rf /var/lib/opensearch-bench-copy
echo "cp -a + sync on $NODE: $T_CP s, $(mbps "$SIZE" "$T_CP") MB/s"
SSH="ssh -F /etc/opensearch-snapshot/ssh_config -i /etc/opensearch-snapshot/id_ed25519"
t0=$(now)
on_node rsync --recursive --links --times -e "$SSH" "$INDEX_DIR/" opensearch-backup:bench-plain-copy/
T_RSYNC=$(elapsed "$t0" "$(now)")
on_backup rm -rf "/var/backups/opensearch/$NODE/bench-plain-copy"
echo "rsync of the index directory to $BACKUP (the copy unit's SSH key and rrsync): $T_RSYNC s, $(mbps "$SIZE" "$T_RSYNC") MB/s"

os -X POST "https://127.0.0.1:9200/$INDEX/_open" >/dev/null
os "https://127.0.0.1:9200/_cluster/health/$INDEX?wait_for_status=green&timeout=300s" >/dev/null

echo "== 3. scheduled snapshot (systemctl start opensearch-snapshot.service) and the copy it triggers"
t0=$(now)
on_node systemctl start opensearch-snapshot.service
T_SNAP=$(elapsed "$t0" "$(now)")
wait_inactive opensearch-snapshot-copy.service
T_SNAP_UNIT=$(unit_seconds opensearch-snapshot.service)
T_COPY=$(unit_seconds opensearch-snapshot-copy.service)
on_node journalctl -u opensearch-snapshot.service -u opensearch-snapshot-copy.service -o cat --no-pager \
    | grep -E '^(snapshot |repository )' | tail -2
REPO_SIZE=$(on_node du -sb "$REPO_DIR" | cut -f1)
COPY_SIZE=$(on_backup du -sb "$BACKUP_REPO" | cut -f1)
echo "snapshot: $T_SNAP s wall ($T_SNAP_UNIT s in the unit), $(mbps "$SIZE" "$T_SNAP") MB/s; repository $REPO_SIZE bytes"
echo "copy to $BACKUP: $T_COPY s in the unit, $(mbps "$SIZE" "$T_COPY") MB/s; copy $COPY_SIZE bytes"
[ "$(on_node systemctl show -p Result --value opensearch-snapshot-copy.service)" = success ] || { echo "copy failed" >&2; exit 1; }

sleep 1
t0=$(now)
on_node systemctl start opensearch-snapshot.service
T_SNAP2=$(elapsed "$t0" "$(now)")
wait_inactive opensearch-snapshot-copy.service
T_COPY2=$(unit_seconds opensearch-snapshot-copy.service)
echo "second snapshot, nothing changed: $T_SNAP2 s; its copy: $T_COPY2 s"
SNAPSHOT=$(os "https://127.0.0.1:9200/_cat/snapshots/invenio-search?h=id" | tail -1 | tr -d '[:space:]')

echo "== 4. restore of the deleted index from $SNAPSHOT"
os -X DELETE "https://127.0.0.1:9200/$INDEX" >/dev/null
t0=$(now)
os -X POST "https://127.0.0.1:9200/_snapshot/invenio-search/$SNAPSHOT/_restore?wait_for_completion=true" \
    -d "{\"indices\": \"$INDEX\", \"include_global_state\": false}" >"$WORK/restore.json"
T_RESTORE=$(elapsed "$t0" "$(now)")
RESTORED=$(os "https://127.0.0.1:9200/$INDEX/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
echo "restore API (wait_for_completion): $T_RESTORE s, $(mbps "$SIZE" "$T_RESTORE") MB/s; $RESTORED documents (loaded $DOCS)"
[ "$RESTORED" = "$DOCS" ] || { echo "restored document count differs" >&2; exit 1; }

INVENTORY=$(ls -dt "$HOME"/.ansible/tmp/molecule.*.search/inventory 2>/dev/null | head -1)
T_PLAY=-
if [ -n "$INVENTORY" ]; then
    export MOLECULE_EPHEMERAL_DIRECTORY=${INVENTORY%/inventory}
    os -X DELETE "https://127.0.0.1:9200/$INDEX" >/dev/null
    t0=$(now)
    ansible-playbook -i "$INVENTORY" playbooks/restore-search.yml -e restore_search_confirm=true >"$WORK/restore-play.log" 2>&1 \
        || { tail -40 "$WORK/restore-play.log"; exit 1; }
    T_PLAY=$(elapsed "$t0" "$(now)")
    RESTORED=$(os "https://127.0.0.1:9200/$INDEX/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
    echo "playbooks/restore-search.yml (latest snapshot, Ansible included): $T_PLAY s; $RESTORED documents"
    [ "$RESTORED" = "$DOCS" ] || { echo "restored document count differs" >&2; exit 1; }
fi

echo "== 5. snapshot and restore with the repository's rate limits off"
os -X PUT "https://127.0.0.1:9200/_snapshot/invenio-search" -d "{\"type\": \"fs\", \"settings\": {\"location\": \"$REPO_DIR\",
    \"compress\": true, \"max_snapshot_bytes_per_sec\": \"0b\", \"max_restore_bytes_per_sec\": \"0b\"}}" >/dev/null
for snap in $(os "https://127.0.0.1:9200/_cat/snapshots/invenio-search?h=id"); do
    os -X DELETE "https://127.0.0.1:9200/_snapshot/invenio-search/$snap" >/dev/null
done
sleep 1
t0=$(now)
on_node systemctl start opensearch-snapshot.service
T_SNAP_FAST=$(elapsed "$t0" "$(now)")
wait_inactive opensearch-snapshot-copy.service
SNAPSHOT=$(os "https://127.0.0.1:9200/_cat/snapshots/invenio-search?h=id" | tail -1 | tr -d '[:space:]')
os -X DELETE "https://127.0.0.1:9200/$INDEX" >/dev/null
# A restore is a shard recovery: the node's recovery limit (40 MB/s by default) applies too.
os -X PUT "https://127.0.0.1:9200/_cluster/settings" -d '{"transient": {"indices.recovery.max_bytes_per_sec": "0b"}}' >/dev/null
t0=$(now)
os -X POST "https://127.0.0.1:9200/_snapshot/invenio-search/$SNAPSHOT/_restore?wait_for_completion=true" \
    -d "{\"indices\": \"$INDEX\", \"include_global_state\": false}" >"$WORK/restore-fast.json"
T_RESTORE_FAST=$(elapsed "$t0" "$(now)")
os -X PUT "https://127.0.0.1:9200/_cluster/settings" -d '{"transient": {"indices.recovery.max_bytes_per_sec": null}}' >/dev/null
RESTORED=$(os "https://127.0.0.1:9200/$INDEX/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$RESTORED" = "$DOCS" ] || { echo "restored document count differs" >&2; exit 1; }
echo "unthrottled snapshot: $T_SNAP_FAST s, $(mbps "$SIZE" "$T_SNAP_FAST") MB/s; restore: $T_RESTORE_FAST s, $(mbps "$SIZE" "$T_RESTORE_FAST") MB/s"

echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs shared, heap $HEAP MiB; index $SIZE bytes, $DOCS documents)"
printf '| %-62s | %8s | %8s | %12s |\n' measurement seconds MB/s "vs baseline"
printf '| %-62s | %8s | %8s | %12s |\n' "baseline: cp -a + sync of the index directory on the node" "$T_CP" "$(mbps "$SIZE" "$T_CP")" "1.00x"
printf '| %-62s | %8s | %8s | %12s |\n' "snapshot (timer's unit, wall; default 40 MB/s limit)" "$T_SNAP" "$(mbps "$SIZE" "$T_SNAP")" "$(ratio "$T_CP" "$T_SNAP")x"
printf '| %-62s | %8s | %8s | %12s |\n' "restore API of the deleted index (default 40 MB/s limit)" "$T_RESTORE" "$(mbps "$SIZE" "$T_RESTORE")" "$(ratio "$T_CP" "$T_RESTORE")x"
printf '| %-62s | %8s | %8s | %12s |\n' "snapshot, rate limit off" "$T_SNAP_FAST" "$(mbps "$SIZE" "$T_SNAP_FAST")" "$(ratio "$T_CP" "$T_SNAP_FAST")x"
printf '| %-62s | %8s | %8s | %12s |\n' "restore API, rate limits off (repository and recovery)" "$T_RESTORE_FAST" "$(mbps "$SIZE" "$T_RESTORE_FAST")" "$(ratio "$T_CP" "$T_RESTORE_FAST")x"
printf '| %-62s | %8s | %8s | %12s |\n' "baseline: rsync of the index directory to the backup host" "$T_RSYNC" "$(mbps "$SIZE" "$T_RSYNC")" "1.00x"
printf '| %-62s | %8s | %8s | %12s |\n' "copy of the repository to the backup host (rsync over SSH)" "$T_COPY" "$(mbps "$SIZE" "$T_COPY")" "$(ratio "$T_RSYNC" "$T_COPY")x"
printf '| %-62s | %8s | %8s | %12s |\n' "second snapshot, nothing changed / its copy" "$T_SNAP2 / $T_COPY2" "-" "-"
printf '| %-62s | %8s | %8s | %12s |\n' "playbooks/restore-search.yml (latest, Ansible included)" "$T_PLAY" "-" "-"
echo "(ratio > 1: faster than the baseline. MB/s = index directory bytes / seconds (translog included; the index's own"
echo " store size was $(echo "$LOAD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store_bytes"])') bytes). Repository $REPO_SIZE bytes,"
echo " copy on the backup host $COPY_SIZE bytes. The index was just written, so its files were in the page cache for"
echo " every reader; caches were not dropped.)"
