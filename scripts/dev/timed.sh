#!/usr/bin/env bash
# Run a command and record how long it took: `timed.sh LABEL CMD...`. Lines go to stderr and
# to $ARTIFACTS/timings.txt, which the figures in docs/benchmarks.md are read from.
set -uo pipefail
label=$1; shift
out=${ARTIFACTS:-artifacts}
mkdir -p "$out"
start=$(date +%s%N)
"$@"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf '%-44s %5d.%01d s  rc=%d\n' "$label" $((ms / 1000)) $((ms % 1000 / 100)) "$rc" | tee -a "$out/timings.txt" >&2
exit $rc
