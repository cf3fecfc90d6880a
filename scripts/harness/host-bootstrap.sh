#!/usr/bin/env bash
# Make this machine able to run the test harness: Docker engine, debootstrap and the
# host tools the tests use (Chromium and ChromeDriver among them). Idempotent: a second run only checks.
set -euo pipefail

log=${RDMOPS_CACHE:-$HOME/.cache/rdmops-invenio}/dockerd.log
mkdir -p "$(dirname "$log")"

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v ss >/dev/null || need+=(iproute2)
command -v curl >/dev/null || need+=(curl)
command -v unzip >/dev/null || need+=(unzip)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
# Module integration tests start throwaway PostgreSQL 15 clusters of their own.
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
# Browser checks (tests/support/browser.py) drive Debian's Chromium through its ChromeDriver.
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  echo "host-bootstrap: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Installing the server package must not create and start a cluster on this machine.
  mkdir -p /etc/postgresql-common
  [ -f /etc/postgresql-common/createcluster.conf ] || echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  export NEEDRESTART_SUSPEND=1  # needrestart's hook has no terminal here and only adds noise
  apt-get update -qq
  # Quiet on success (debconf chatters on stderr without apt-utils); everything on failure.
  apt_log=$(mktemp)
  if ! apt-get install -y -qq "${need[@]}" >"$apt_log" 2>&1; then
    cat "$apt_log" >&2; rm -f "$apt_log"; exit 1
  fi
  rm -f "$apt_log"
fi

# OpenSearch needs vm.max_map_count >= 262144. The kernel setting is not namespaced, so test
# containers see (and cannot change) this machine's value: set it here, as a real host would.
if [ "$(cat /proc/sys/vm/max_map_count)" -lt 262144 ]; then
  sysctl -q -w vm.max_map_count=262144
fi

if ! docker info >/dev/null 2>&1; then
  echo "host-bootstrap: starting dockerd (log: $log)"
  # setsid: the daemon must outlive the make process that started it
  setsid dockerd >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not come up; see $log" >&2; tail -n 20 "$log" >&2; exit 1; }
fi
echo "host-bootstrap: docker $(docker version --format '{{.Server.Version}}') ready"
