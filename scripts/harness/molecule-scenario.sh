#!/usr/bin/env bash
# Run one Molecule scenario step by step, timing each phase, and always remove its hosts.
# Each step's output is kept in $ARTIFACTS/molecule/<scenario>-<step>.log (the default
# scenario's tests search the converge logs for secret values).
#   molecule-scenario.sh SCENARIO
set -euo pipefail
scenario=$1
timed=$(cd "$(dirname "$0")/../dev" && pwd)/timed.sh
logs=${ARTIFACTS:-artifacts}/molecule
mkdir -p "$logs"
cleanup() { molecule destroy -s "$scenario" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
for step in create converge idempotence verify; do
  "$timed" "molecule $scenario $step" molecule "$step" -s "$scenario" 2>&1 | tee "$logs/$scenario-$step.log"
done
