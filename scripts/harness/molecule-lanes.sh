#!/usr/bin/env bash
# Run Molecule scenarios in lanes: the scenarios of a lane one after another, the lanes side by
# side. Lanes are separated by "|":
#   molecule-lanes.sh "default | credentials services backup search"
# A scenario's hosts wait on the network, on apt and pip and on the services they start more
# than they use the CPU, so two lanes on two cores finish well before one lane of everything.
# The first lane's output goes to the terminal; the others' to $ARTIFACTS/molecule/lane-N.log,
# whose last lines are printed if the lane fails. A lane stops at its first failing scenario;
# the script fails if any lane did.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
logs=${ARTIFACTS:-artifacts}/molecule
mkdir -p "$logs"

IFS='|' read -ra given <<< "$1"
lanes=()
for lane in "${given[@]}"; do
  lane=$(xargs <<< "$lane")  # trimmed
  [ -z "$lane" ] || lanes+=("$lane")
done
run_lane() {
  local scenario
  for scenario in $1; do
    "$here/molecule-scenario.sh" "$scenario" || { echo "lane failed in scenario $scenario"; return 1; }
  done
}

pids=()
for i in "${!lanes[@]}"; do
  if [ "$i" -eq 0 ]; then
    run_lane "${lanes[$i]}" &
  else
    echo "== lane $i (${lanes[$i]}): output in $logs/lane-$i.log"
    run_lane "${lanes[$i]}" > "$logs/lane-$i.log" 2>&1 &
  fi
  pids[$i]=$!
done

rc=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    echo "== lane $i (${lanes[$i]}): passed"
  else
    rc=1
    echo "== lane $i (${lanes[$i]}): FAILED"
    [ "$i" -eq 0 ] || tail -n 100 "$logs/lane-$i.log"
  fi
done
exit $rc
