#!/usr/bin/env bash
# Prints the path of a Debian 12 (bookworm) root made with debootstrap
# (minbase, plus the packages given), cached outside the clone under a name
# that hashes every input, and built first if missing. The package tests
# install the .deb into copies of it; the OCI image is built on it.
#   usage: debian-root.sh [package...]      (e.g. the .deb's Depends)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cache-dir.sh
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm variant=minbase arch=amd64
include=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
key=$(printf 'debootstrap %s\nsuite=%s variant=%s arch=%s mirror=%s include=%s\nrecipe=%s\n' \
  "$(dpkg-query -W -f='${Version}' debootstrap)" "$suite" "$variant" "$arch" "$mirror" "$include" \
  "$(sha256sum scripts/package/debian-root.sh | cut -c1-64)" | sha256sum | cut -c1-16)
root="$(cache_dir)/debootstrap-$key"
# Complete once its marker exists (outside it: a copy of the root carries nothing of ours).
if [ ! -f "$root.complete" ]; then
  exec 9>"$root.lock"
  flock 9
  if [ ! -f "$root.complete" ]; then
    echo "debian-root: debootstrap $suite ($variant${include:+, $include}) into $root" >&2
    tmp="$root.tmp"
    rm -rf "$tmp"
    log=$(mktemp)
    if ! debootstrap --variant="$variant" --arch="$arch" ${include:+--include="$include"} "$suite" "$tmp" "$mirror" >"$log" 2>&1; then
      tail -30 "$log" >&2
      echo "debian-root: debootstrap failed (full log: $log)" >&2
      exit 1
    fi
    rm -f "$log"
    # Nothing of the machine it was made on: no package lists, no downloaded debs.
    chroot "$tmp" apt-get clean
    rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin "$tmp"/var/log/*.log
    rm -rf "$root"
    mv "$tmp" "$root"
    touch "$root.complete"
  fi
fi
printf '%s\n' "$root"
