#!/bin/sh
# Installed by the rdmops.invenio.invenio_rdm role; changes here are overwritten.
#
# build-release RELEASE_DIR INPUTS_DIR WORK_DIR CACHE_DIR
#
# Builds one InvenioRDM release into RELEASE_DIR (its final path: a virtualenv is not
# relocatable): the hash-locked virtualenv, the site's own packages, the collected static files
# and the web assets webpack builds, the site's templates and configuration. INPUTS_DIR holds
# what the role copied from the controller; WORK_DIR the throwaway instance (assets and
# node_modules), CACHE_DIR pip's and npm's downloads, kept between builds. Runs as the unprivileged build user in a sandboxed transient unit that holds no
# credential and cannot see the record files; npm's install scripts run inside that sandbox.
set -eu
release=$1
inputs=$2
work=$3
cache=$4
umask 022

log() { printf '%s build-release: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
phase() { log "phase $1 took $(( $(date +%s) - $2 )) s"; }

[ -f "$inputs/package-lock.json" ] || {
    echo "build-release: no npm lock in $inputs: every build needs one (see the role's docs, 'npm lock')" >&2
    exit 2
}

# pip and npm trust the system bundle (and so any site CA added to it); their caches stay
# out of any home directory, and npm does not phone home.
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_CACHE_DIR="$cache/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_cafile=/etc/ssl/certs/ca-certificates.crt npm_config_cache="$cache/npm"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false npm_config_loglevel=warn
export HOME="$work"

started=$(date +%s)
python3 -m venv "$release/venv"
# --require-hashes: every download must match the lock. --no-deps: the lock is the whole tree.
# --no-build-isolation: the few sdists build with the venv's own setuptools, nothing unpinned.
"$release/venv/bin/pip" install --no-input --require-hashes --no-deps --no-build-isolation \
    --requirement "$inputs/requirements.txt"
if [ -f "$inputs/site-requirements.txt" ]; then
    # The site's wheels, each with the sha256 the controller computed.
    "$release/venv/bin/pip" install --no-input --require-hashes --no-deps --no-build-isolation \
        --requirement "$inputs/site-requirements.txt"
fi
# Source directories build in place: build from a copy the build account owns.
for source in "$inputs"/site-sources/*/; do
    [ -d "$source" ] || continue
    copy="$work/site-sources/$(basename "$source")"
    rm -rf "$copy"
    mkdir -p "$work/site-sources"
    cp -R "$source" "$copy"
    "$release/venv/bin/pip" install --no-input --no-deps --no-build-isolation "$copy"
done
"$release/venv/bin/pip" check
phase python "$started"

started=$(date +%s)
instance="$work/instance"
rm -rf "$instance"
mkdir -p "$instance" "$release/static" "$release/templates"
cp "$inputs/site.cfg" "$release/site.cfg"
if [ -d "$inputs/templates" ]; then cp -R "$inputs/templates/." "$release/templates/"; fi
# The build's own configuration: the site's settings, and a key that exists only for this build.
{
    cat "$inputs/site.cfg"
    printf 'SECRET_KEY = "%s"\n' "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
} > "$instance/invenio.cfg"
export INVENIO_INSTANCE_PATH="$instance" INVENIO_STATIC_FOLDER="$release/static"
export PATH="$release/venv/bin:$PATH"

invenio collect
if [ -d "$inputs/static" ]; then cp -R "$inputs/static/." "$release/static/"; fi
invenio webpack create
assets="$instance/assets"
rm -rf "$assets/templates"
cp -R "$inputs/skeleton/." "$assets/"
# Targets of the @templates alias: they must exist even when a site overrides nothing. Webpack
# bundles every file below templates/, so nothing else may live there.
mkdir -p "$assets/templates/custom_fields" "$assets/templates/search"
python3 - "$assets/package.json" "$inputs/npm-overrides.json" <<'PY'
import json
import sys

package_path, overrides_path = sys.argv[1:3]
with open(package_path, encoding="utf-8") as handle:
    package = json.load(handle)
with open(overrides_path, encoding="utf-8") as handle:
    overrides = json.load(handle)
if overrides:
    package.setdefault("overrides", {}).update(overrides)
with open(package_path, "w", encoding="utf-8") as handle:
    json.dump(package, handle, indent=2)
    handle.write("\n")
PY
cp "$inputs/package-lock.json" "$assets/package-lock.json"
phase collect "$started"

started=$(date +%s)
# npm ci installs exactly the lock and fails when package.json and the lock disagree.
(cd "$assets" && npm ci)
phase npm "$started"

started=$(date +%s)
invenio webpack build
phase webpack "$started"
log "release built in $release"
