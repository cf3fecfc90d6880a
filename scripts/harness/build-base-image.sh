#!/usr/bin/env bash
# Build the Debian systemd base image the Molecule scenarios boot, by debootstrap + docker
# import (no registry is reachable here). The tag is keyed by suite and by a hash of this
# script and of the host's extra CA certificates, so an unchanged image is never rebuilt.
#   usage: build-base-image.sh [bookworm|trixie]   -> prints the image reference
set -euo pipefail

suite=${1:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
cache=${RDMOPS_CACHE:-$HOME/.cache/rdmops-invenio}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"

extra_cas=$(python3 "$here/extra_ca_certs.py" /etc/ssl/certs/ca-certificates.crt)
key=$( { cat "$0"; printf '%s' "$extra_cas"; } | sha256sum | cut -c1-12)
image=rdmops/debian-systemd:$suite-$key

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

# Two builds of one suite at once would share nothing but the wait: the second reuses the first's image.
exec 9>"$cache/base-image-$suite.lock"
flock 9
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

work=$(mktemp -d "$cache/rootfs-$suite.XXXXXX")
# debootstrap mounts /proc and /sys inside the rootfs; an interrupted run must not leave them behind.
cleanup() {
  awk -v root="$work" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf "$work"
}
trap cleanup EXIT
echo "build-base-image: debootstrap $suite into $work" >&2
# iproute2 and procps: real servers have them and testinfra's socket checks need ss
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps \
  "$suite" "$work" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 \
  || { tail -n 30 "$cache/debootstrap-$suite.log" >&2; exit 1; }

cat >"$work/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://security.debian.org/debian-security $suite-security main
SOURCES

# The host reaches package registries through a TLS-inspecting proxy whose CA a fresh
# rootfs lacks; install it the Debian way so update-ca-certificates keeps it.
if [ -n "$extra_cas" ]; then
  python3 "$here/extra_ca_certs.py" /etc/ssl/certs/ca-certificates.crt "$work/usr/local/share/ca-certificates"
  chroot "$work" update-ca-certificates >/dev/null
fi

# Units that cannot work inside a container and would only mark the system degraded.
for unit in systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
            getty@tty1.service console-getty.service; do
  ln -sf /dev/null "$work/etc/systemd/system/$unit"
done
rm -f "$work/etc/machine-id" && : >"$work/etc/machine-id"
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*
# An empty list directory with a fresh mtime would pass Ansible's cache_valid_time check; date it
# to the epoch so the first apt task on a new host updates the lists.
touch -d @0 "$work/var/lib/apt/lists"

tar -C "$work" -c . | docker import -c 'ENV container=docker' -c 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
# Older builds of this suite are superseded: drop them so the cache does not grow.
docker image ls --format '{{.Repository}}:{{.Tag}}' rdmops/debian-systemd \
  | grep "^rdmops/debian-systemd:$suite-" | grep -vx "$image" | xargs -r docker rmi >/dev/null 2>&1 || true
echo "build-base-image: built $image" >&2
echo "$image"
