# Shared by the benchmark scripts (sourced): a work directory, the scenario they measure on
# destroyed whatever happens (unless BENCH_KEEP=1, to look at it afterwards), and arithmetic on
# timings.
#   ROOT=<checkout>; BENCH_SCENARIO=name; source scripts/bench/lib.sh

# The project's toolchain and collection link, also when a script runs without make.
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.cache/collections}"
WORK=$(mktemp -d)

bench_cleanup() {
    local rc=$?
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "== keeping scenario $BENCH_SCENARIO (BENCH_KEEP=1) and the logs in $WORK"
        exit "$rc"
    fi
    echo "== destroying scenario $BENCH_SCENARIO"
    molecule destroy -s "$BENCH_SCENARIO" >"$WORK/destroy.log" 2>&1 || { echo "molecule destroy failed, see $WORK/destroy.log"; rc=1; }
    [ "$rc" -eq 0 ] && rm -rf "$WORK"
    exit "$rc"
}
trap bench_cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v bytes="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", bytes / 1048576 / s; else print "-" }'; }
