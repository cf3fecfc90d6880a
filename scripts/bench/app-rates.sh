#!/usr/bin/env bash
# Request rates of the all-in-one site in the `default` scenario's container, measured from this
# machine with wrk for BENCH_SECONDS (60) each, BENCH_CONNECTIONS (8) connections, 2 threads:
#   1. nginx answering alone (/nginx-health): the baseline of the same run;
#   2. GET /api/records as deployed: InvenioRDM's rate limiter answers a guest's requests beyond
#      its limit with 429, so this shows the limit, not the capacity;
#   3. GET /api/records and a record's landing page with the limiter switched off for the
#      measurement (one line appended to invenio.cfg, the web units restarted; the deployed file
#      is put back afterwards, whatever happens).
# Called by scripts/bench/app.sh; alone: scripts/bench/app-rates.sh SITE_URL RECORD_ID
set -euo pipefail
SITE=$1
RECORD=$2
SECONDS_LOAD=${BENCH_SECONDS:-60}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
CFG=/var/lib/invenio-rdm/instance/invenio.cfg
RATES=$(mktemp -d)
on_site() { docker exec -i default-aio "$@"; }
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null

restart_web() {
    on_site systemctl restart invenio-rdm-ui.service invenio-rdm-api.service
    for _ in $(seq 120); do
        [ "$(curl -sk -o /dev/null -w '%{http_code}' "$SITE/api/records")" = 200 ] && return 0
        sleep 1
    done
    echo "the site did not answer 200 within 120 s of the restart" >&2
    return 1
}
put_back() {
    if on_site test -e "$CFG.bench"; then
        on_site mv "$CFG.bench" "$CFG"
        restart_web
    fi
    rm -rf "$RATES"
}
trap put_back EXIT

# rate LABEL URL: prints the rate of 2xx/3xx answers, latencies and the other answers
rate() {
    local label=$1 url=$2 out=$RATES/wrk-$1.txt
    wrk --threads 2 --connections "$CONNECTIONS" --duration "${SECONDS_LOAD}s" --latency "$url" >"$out"
    local requests errors seconds ok p50 p99
    requests=$(awk '/requests in/ {print $1}' "$out")
    errors=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$out")
    seconds=$(awk '/requests in/ {v = $4; sub(/,$/, "", v); if (v ~ /m$/) {sub(/m$/, "", v); v *= 60} else sub(/s$/, "", v); print v}' "$out")
    ok=$(awk -v n="$requests" -v e="${errors:-0}" -v s="$seconds" 'BEGIN { printf "%.2f", (n - e) / s }')
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    printf '%-36s %9s 2xx/s  p50 %8s  p99 %8s  other answers %s of %s\n' "$label" "$ok" "$p50" "$p99" "${errors:-0}" "$requests"
    echo "$ok" >"$RATES/rate-$label"
}
against_baseline() {
    awk -v r="$(cat "$RATES/rate-$1")" -v b="$(cat "$RATES/rate-baseline-nginx-health")" -v l="$1" \
        'BEGIN { printf "%-36s %.4f of the nginx baseline (1/%.0f)\n", l, r / b, b / r }'
}

uwsgi=$(on_site sh -c "grep -hE '^(processes|threads)' /etc/invenio-rdm/uwsgi-api.ini | tr '\n' ' '")
echo "== request rates, $SECONDS_LOAD s each, $CONNECTIONS connections, 2 wrk threads (uWSGI per application: $uwsgi)"
rate baseline-nginx-health "$SITE/nginx-health"
rate api-records-as-deployed "$SITE/api/records"
on_site cp -p "$CFG" "$CFG.bench"
on_site sh -c "echo 'RATELIMIT_ENABLED = False' >> $CFG"
restart_web
rate api-records-limiter-off "$SITE/api/records"
rate landing-page-limiter-off "$SITE/records/$RECORD"
for label in api-records-as-deployed api-records-limiter-off landing-page-limiter-off; do against_baseline "$label"; done
