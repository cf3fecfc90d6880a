#!/usr/bin/env bash
# Benchmark of the all-in-one site (issue 3, item 9) on the Molecule scenario `default`:
#   1. a fresh converge, its wall time split into Debian packages, the Python install, the asset
#      build, initialisation (with the tasks it queues) and the rest, from Ansible's junit callback;
#   2. the idempotent re-converge (Molecule's idempotence step);
#   3. request rates measured from this machine with wrk (scripts/bench/app-rates.sh): GET
#      /api/records and a record's landing page against nginx answering alone in the same run.
# Creates the scenario's container and destroys it at the end (BENCH_KEEP=1 keeps it).
# Usage: scripts/bench/app.sh (or: make bench-app). Tunables: BENCH_SECONDS (60), BENCH_CONNECTIONS (8).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PORT=${RDMOPS_TEST_HTTPS_PORT:-8444}
SITE=https://localhost:$PORT

export RDMOPS_BASE_IMAGE RDMOPS_OPENSEARCH_ARCHIVE
RDMOPS_BASE_IMAGE=$(scripts/harness/build-base-image.sh bookworm)
RDMOPS_OPENSEARCH_ARCHIVE=$(scripts/harness/build-opensearch-dist.sh)

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

scripts/bench/app-rates.sh "$SITE" "$record"
echo "== done $(date -u '+%F %T') UTC, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
