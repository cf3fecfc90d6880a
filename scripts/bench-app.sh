#!/usr/bin/env bash
# Benchmark of the all-in-one site (issue 3, item 9) on the Molecule scenario `default`:
#   1. a fresh converge, its wall time split into Debian packages, the Python install, the asset
#      build, initialisation (with the tasks it queues) and the rest, from Ansible's junit callback;
#   2. the idempotent re-converge (Molecule's idempotence step);
#   3. request rates measured from this machine with wrk for BENCH_SECONDS each, against the site
#      URL: GET /api/records, a record's landing page, and as the baseline of the same run, nginx
#      answering alone (/nginx-health).
# Creates the scenario's container and destroys it at the end (BENCH_KEEP=1 keeps it).
# Usage: scripts/bench-app.sh (or: make bench-app). Tunables: BENCH_SECONDS (60), BENCH_CONNECTIONS (8).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_LOAD=${BENCH_SECONDS:-60}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
PORT=${RDMOPS_TEST_HTTPS_PORT:-8444}
SITE=https://localhost:$PORT

command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }

export RDMOPS_BASE_IMAGE RDMOPS_OPENSEARCH_ARCHIVE
RDMOPS_BASE_IMAGE=$(scripts/build-base-image.sh bookworm)
RDMOPS_OPENSEARCH_ARCHIVE=$(scripts/build-opensearch-dist.sh)

BENCH_SCENARIO=default
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"
on_site() { docker exec -i default-aio "$@"; }

echo "== $(date -u '+%F %T') UTC, commit $(git rev-parse --short HEAD), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
molecule destroy -s default >/dev/null 2>&1 || true
molecule create -s default >"$WORK/create.log" 2>&1

echo "== fresh converge (every task timed by the junit callback)"
start=$(now)
ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit JUNIT_OUTPUT_DIR=$WORK/junit JUNIT_HIDE_TASK_ARGUMENTS=yes \
    molecule converge -s default >"$WORK/converge.log" 2>&1 || { tail -n 40 "$WORK/converge.log"; exit 1; }
converge=$(elapsed "$start" "$(now)")
echo "fresh converge: $converge s wall"
python3 scripts/bench/converge_phases.py "$WORK/junit" roles

echo "== idempotent re-converge"
start=$(now)
molecule idempotence -s default >"$WORK/idempotence.log" 2>&1 || { tail -n 40 "$WORK/idempotence.log"; exit 1; }
echo "idempotent re-converge: $(elapsed "$start" "$(now)") s wall (changed=0)"

echo "== a published record for the landing page"
token=$(on_site invenio-rdm tokens create --name bench --user rdm-admin@example.org 2>/dev/null | tail -n 1)
api() { curl --silent --show-error --insecure --fail -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
record=$(api -X POST "$SITE/api/records" -d '{"access": {"record": "public", "files": "public"}, "files": {"enabled": false},
  "metadata": {"resource_type": {"id": "dataset"}, "title": "Benchmark record", "publication_date": "2026-11-29",
  "creators": [{"person_or_org": {"type": "personal", "family_name": "Bench", "given_name": "Mark"}}]}}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
api -X POST "$SITE/api/records/$record/draft/actions/publish" >/dev/null
echo "record $record"

uwsgi=$(on_site sh -c "grep -hE '^(processes|threads)' /etc/invenio-rdm/uwsgi-api.ini | tr '\n' ' '")
echo "== request rates, $SECONDS_LOAD s each, $CONNECTIONS connections, 2 wrk threads (uWSGI per application: $uwsgi)"
rate() {
    local label=$1 url=$2
    wrk --threads 2 --connections "$CONNECTIONS" --duration "${SECONDS_LOAD}s" --latency "$url" >"$WORK/wrk.txt"
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
    errors=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$WORK/wrk.txt")
    printf '%-34s %9s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${errors:-0}"
    echo "$rps"  >"$WORK/rate-$label"
}
rate baseline-nginx-health "$SITE/nginx-health"
rate api-records "$SITE/api/records"
rate landing-page "$SITE/records/$record"
base=$(cat "$WORK/rate-baseline-nginx-health")
for label in api-records landing-page; do
    awk -v r="$(cat "$WORK/rate-$label")" -v b="$base" -v l="$label" 'BEGIN { printf "%-34s %.4f of the nginx baseline (1/%.0f)\n", l, r / b, b / r }'
done
echo "== done $(date -u '+%F %T') UTC, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
