#!/usr/bin/env bash
# Deploy the whole site into one local systemd container and say where to find it.
# Running it again re-converges the same container (fast, nothing changes).
set -euo pipefail
scripts=$(cd "$(dirname "$0")/.." && pwd)
export RDMOPS_DEMO_HTTPS_PORT=${RDMOPS_DEMO_HTTPS_PORT:-8443}
# Kept outside the container so a re-created demo keeps its passwords.
export RDMOPS_DEMO_CREDENTIALS=${RDMOPS_CACHE:-$HOME/.cache/rdmops-invenio}/demo/credentials
store=$RDMOPS_DEMO_CREDENTIALS
export RDMOPS_BASE_IMAGE=$("$scripts/dev/timed.sh" "demo base image" "$scripts/harness/build-base-image.sh" bookworm)
export RDMOPS_OPENSEARCH_ARCHIVE=$("$scripts/dev/timed.sh" "demo opensearch distribution" "$scripts/harness/build-opensearch-dist.sh")
# Molecule remembers a created host; after a reboot or a removed container it would not notice.
case "$(docker inspect -f '{{.State.Running}}' rdmops-demo 2>/dev/null)" in
  true) ;;
  false) docker start rdmops-demo >/dev/null ;;
  *) molecule destroy -s demo >/dev/null ;;
esac
"$scripts/dev/timed.sh" "demo create" molecule create -s demo
"$scripts/dev/timed.sh" "demo converge" molecule converge -s demo
cat <<MSG

InvenioRDM is running: https://localhost:$RDMOPS_DEMO_HTTPS_PORT/   (self-signed certificate)
Administrator: rdm-admin@example.org
  password: $store/invenio_admin_password   (cat it; generated on the first run, kept across runs)
Every site secret, one file each: $store
Admin command inside the host: docker exec -it rdmops-demo invenio-rdm <invenio CLI arguments>
Shell on the host: docker exec -it rdmops-demo bash     Remove: molecule destroy -s demo
MSG
