#!/usr/bin/env bash
# Run one Molecule scenario step by step, timing each phase, and always remove its hosts.
#   molecule-scenario.sh SCENARIO
set -euo pipefail
scenario=$1
here=$(cd "$(dirname "$0")" && pwd)
cleanup() { molecule destroy -s "$scenario" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
for step in create converge idempotence verify; do
  "$here/timed.sh" "molecule $scenario $step" molecule "$step" -s "$scenario"
done
