#!/usr/bin/env bash
# Benchmark of the pgBackRest role on the Molecule scenario `backup` (issue 4, item 5).
# Measures, in one run, on a pgbench database of at least 1 GiB:
#   1. full backup with the role's timer unit (pgbackrest-backup@full.service on the repository
#      host: lz4, the role's process-max, encrypted, over SSH) against a plain tar of the same
#      data directory (PostgreSQL stopped), both streamed to /dev/null and to the backup host;
#   2. restore time (RTO): the steps of playbooks/restore.yml for "latest", until the server
#      accepts connections and writes;
#   3. RPO: worst archive lag under a steady, rate-limited pgbench write load with the role's
#      default archive_timeout and with a tighter one.
# Creates and always destroys the scenario's containers (backup-db, backup-repo).
# Usage: scripts/bench/pgbackrest.sh   (or: make bench)
# Tunables: BENCH_SCALE (pgbench scale, default 72), BENCH_RATE (tps, 50), BENCH_SECONDS (120),
# BENCH_TIMEOUTS (archive_timeout values, "60s 10s").
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD

SCALE=${BENCH_SCALE:-72}
RATE=${BENCH_RATE:-50}
SECONDS_LOAD=${BENCH_SECONDS:-120}
TIMEOUTS=${BENCH_TIMEOUTS:-60s 10s}
DB=backup-db
REPO=backup-repo
STANZA=main
PGDATA=/var/lib/postgresql/15/main
PGUNIT=postgresql@15-main.service
PGBIN=/usr/lib/postgresql/15/bin
BENCHDB=bench
BENCH_SCENARIO=backup
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"
on_db() { docker exec -i "$DB" "$@"; }
on_repo() { docker exec -i "$REPO" "$@"; }
sql() { on_db runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d "${2:-postgres}" -c "$1"; }

wait_accepting() {
    # Until PostgreSQL is out of recovery and the bench database takes a write.
    local _
    for _ in $(seq 1 600); do
        if [ "$(sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] \
            && sql 'CREATE TABLE IF NOT EXISTS bench_probe (t timestamptz); INSERT INTO bench_probe VALUES (now())' "$BENCHDB" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    echo "PostgreSQL did not accept writes within 300 s" >&2
    return 1
}

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(nproc) CPUs; work files in $WORK"
RDMOPS_BASE_IMAGE=$(scripts/harness/build-base-image.sh bookworm)
export RDMOPS_BASE_IMAGE
t0=$(now)
molecule create -s backup >"$WORK/create.log" 2>&1 || { tail -40 "$WORK/create.log"; exit 1; }
molecule converge -s backup >"$WORK/converge.log" 2>&1 || { tail -60 "$WORK/converge.log"; exit 1; }
echo "create + converge: $(elapsed "$t0" "$(now)") s"

PROCESS_MAX=$(on_db sed -n 's/^process-max=//p' /etc/pgbackrest.conf | head -1)
COMPRESS=$(on_repo sed -n 's/^compress-type=//p' /etc/pgbackrest.conf | head -1)
DEFAULT_TIMEOUT=$(sql 'SHOW archive_timeout')
echo "pgBackRest: compress-type=${COMPRESS:-?} process-max=${PROCESS_MAX:-?} (db), archive_timeout as converged: $DEFAULT_TIMEOUT"

echo "== 1. pgbench database (scale $SCALE)"
t0=$(now)
sql "CREATE DATABASE $BENCHDB" >/dev/null
on_db runuser -u postgres -- "$PGBIN/pgbench" -i -I dtGvp -s "$SCALE" -q "$BENCHDB" >"$WORK/pgbench-init.log" 2>&1 \
    || { tail -20 "$WORK/pgbench-init.log"; exit 1; }
sql CHECKPOINT >/dev/null
DBSIZE=$(sql "SELECT pg_database_size('$BENCHDB')")
echo "pgbench -i -s $SCALE: $(elapsed "$t0" "$(now)") s; pg_database_size($BENCHDB) = $DBSIZE bytes ($(awk -v b="$DBSIZE" 'BEGIN { printf "%.2f", b / 1073741824 }') GiB)"
if [ "$DBSIZE" -lt 1073741824 ]; then
    echo "database is smaller than 1 GiB: raise BENCH_SCALE" >&2
    exit 1
fi
# Let the load's WAL reach the repository before timing the backup.
sql 'SELECT pg_switch_wal()' >/dev/null
sleep 5
DATASIZE=$(on_db du -sb "$PGDATA" | cut -f1)
echo "data directory $PGDATA: $DATASIZE bytes"

echo "== 2. full backup (systemctl start pgbackrest-backup@full.service on $REPO, PostgreSQL running)"
t0=$(now)
on_repo systemctl start pgbackrest-backup@full.service
T_BACKUP=$(elapsed "$t0" "$(now)")
on_repo journalctl -u pgbackrest-backup@full.service -o cat --no-pager | grep -E 'backup size|new backup label' | tail -2 || true
REPOSIZE=$(on_repo runuser -u pgbackrest -- pgbackrest --stanza="$STANZA" --output=json info \
    | python3 -c 'import json,sys; b=json.load(sys.stdin)[0]["backup"][-1]; print(b["type"], b["info"]["size"], b["info"]["repository"]["size"])') || REPOSIZE=unavailable
echo "pgbackrest info (latest: type, database bytes, repository bytes): $REPOSIZE"
echo "pgBackRest full backup: $T_BACKUP s, $(mbps "$DATASIZE" "$T_BACKUP") MB/s of data directory"

echo "== 2b. tar baseline of the same data directory (PostgreSQL stopped for a consistent copy)"
on_db systemctl stop "$PGUNIT"
on_db sync
t0=$(now)
on_db tar -cf - -C "$(dirname "$PGDATA")" "$(basename "$PGDATA")" | cat >/dev/null
T_TAR_NULL=$(elapsed "$t0" "$(now)")
t0=$(now)
on_db tar -cf - -C "$(dirname "$PGDATA")" "$(basename "$PGDATA")" \
    | on_repo sh -c 'cat > /var/tmp/bench-pgdata.tar && sync /var/tmp/bench-pgdata.tar'
T_TAR_REPO=$(elapsed "$t0" "$(now)")
TARSIZE=$(on_repo stat -c %s /var/tmp/bench-pgdata.tar)
on_repo rm -f /var/tmp/bench-pgdata.tar
on_db systemctl start "$PGUNIT"
wait_accepting
echo "tar | cat > /dev/null (on $DB): $T_TAR_NULL s, $(mbps "$DATASIZE" "$T_TAR_NULL") MB/s"
echo "tar streamed to $REPO, written + synced there (docker exec pipe, uncompressed, not encrypted): $T_TAR_REPO s, $(mbps "$DATASIZE" "$T_TAR_REPO") MB/s, $TARSIZE bytes"

echo "== 3. restore (RTO): steps of playbooks/restore.yml for the latest state, on $DB"
# Take a WAL switch so the restore replays to the current end of the archive.
sql 'SELECT pg_switch_wal()' >/dev/null
sleep 5
t0=$(now)
on_db systemctl stop "$PGUNIT"
aside="$PGDATA.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
on_db mv "$PGDATA" "$aside"
on_db install -d -o postgres -g postgres -m 0700 "$PGDATA"
t1=$(now)
on_db runuser -u postgres -- pgbackrest --stanza="$STANZA" --log-level-console=warn restore
t2=$(now)
on_db systemctl start "$PGUNIT"
wait_accepting
t3=$(now)
T_RESTORE_CMD=$(elapsed "$t1" "$t2")
T_RTO=$(elapsed "$t0" "$t3")
echo "pgbackrest restore: $T_RESTORE_CMD s ($(mbps "$DATASIZE" "$T_RESTORE_CMD") MB/s); start + recovery until writable: $(elapsed "$t2" "$t3") s"
echo "RTO (stop -> restored server accepts writes): $T_RTO s"
echo "restored pg_database_size($BENCHDB) = $(sql "SELECT pg_database_size('$BENCHDB')") bytes; old data directory kept at $aside"
on_db rm -rf "$aside"

echo "== 4. RPO: archive lag under pgbench -c 2 -R $RATE -T $SECONDS_LOAD"
declare -A LAG_SINCE LAG_OLDEST ARCHIVED FAILED
for timeout in $TIMEOUTS; do
    sql "ALTER SYSTEM SET archive_timeout = '$timeout'" >/dev/null
    sql 'SELECT pg_reload_conf()' >/dev/null
    sleep 1
    sql 'SELECT pg_switch_wal()' >/dev/null
    sleep 5
    echo "archive_timeout = $(sql 'SHOW archive_timeout')"
    samples="$WORK/lag-$timeout.txt"
    : >"$samples"
    on_db runuser -u postgres -- "$PGBIN/pgbench" -n -c 2 -j 1 -R "$RATE" -T "$SECONDS_LOAD" "$BENCHDB" >"$WORK/pgbench-$timeout.log" 2>&1 &
    load=$!
    while kill -0 "$load" 2>/dev/null; do
        sql "SELECT extract(epoch FROM now()), pg_walfile_name(pg_current_wal_lsn()), coalesce(last_archived_wal, ''),
                    coalesce(extract(epoch FROM last_archived_time)::text, ''), archived_count, failed_count
             FROM pg_stat_archiver" >>"$samples" || true
        sleep 2
    done
    wait "$load" || { tail -20 "$WORK/pgbench-$timeout.log"; exit 1; }
    grep -E '^(tps|number of transactions actually processed|latency average)' "$WORK/pgbench-$timeout.log" || true
    read -r n since oldest archived failed < <(python3 scripts/bench/archive-lag.py "$samples")
    LAG_SINCE[$timeout]=$since LAG_OLDEST[$timeout]=$oldest ARCHIVED[$timeout]=$archived FAILED[$timeout]=$failed
    echo "$n samples: worst now()-last_archived_time $since s; worst age of oldest unarchived segment $oldest s; segments archived $archived, failures $failed"
done
sql 'ALTER SYSTEM RESET archive_timeout' >/dev/null
sql 'SELECT pg_reload_conf()' >/dev/null

echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs shared; database $DBSIZE bytes, data directory $DATASIZE bytes)"
printf '| %-58s | %9s | %8s | %14s |\n' measurement seconds MB/s "vs tar to repo"
printf '| %-58s | %9s | %8s | %14s |\n' "tar | cat > /dev/null (PG stopped)" "$T_TAR_NULL" "$(mbps "$DATASIZE" "$T_TAR_NULL")" "$(ratio "$T_TAR_REPO" "$T_TAR_NULL")x"
printf '| %-58s | %9s | %8s | %14s |\n' "tar to backup host (PG stopped) = baseline" "$T_TAR_REPO" "$(mbps "$DATASIZE" "$T_TAR_REPO")" "1.00x"
printf '| %-58s | %9s | %8s | %14s |\n' "pgBackRest full backup ($COMPRESS, process-max $PROCESS_MAX, PG running)" "$T_BACKUP" "$(mbps "$DATASIZE" "$T_BACKUP")" "$(ratio "$T_TAR_REPO" "$T_BACKUP")x"
printf '| %-58s | %9s | %8s | %14s |\n' "pgbackrest restore command" "$T_RESTORE_CMD" "$(mbps "$DATASIZE" "$T_RESTORE_CMD")" "$(ratio "$T_TAR_REPO" "$T_RESTORE_CMD")x"
printf '| %-58s | %9s | %8s | %14s |\n' "RTO: stop -> restored server accepts writes" "$T_RTO" "-" "-"
for timeout in $TIMEOUTS; do
    printf '| %-58s | %9s | %8s | %14s |\n' "RPO archive_timeout=$timeout: worst oldest-unarchived age" "${LAG_OLDEST[$timeout]}" "-" "-"
    printf '| %-58s | %9s | %8s | %14s |\n' "  (worst now()-last_archived_time; archived/failed)" "${LAG_SINCE[$timeout]}" "-" "${ARCHIVED[$timeout]}/${FAILED[$timeout]}"
done
echo "(ratio > 1: faster than tar to the backup host. MB/s = data directory bytes / seconds for every row;"
echo " tar copies all of it, pg_wal included, pgBackRest leaves pg_wal out (WAL comes from the archive):"
echo " its own backup size was $REPOSIZE (type, database bytes, repository bytes))"
