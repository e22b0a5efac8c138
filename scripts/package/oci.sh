#!/usr/bin/env bash
# npm run package:oci — builds build/packages/cocos-manager_<version>_amd64.oci.tar,
# an OCI image archive: Debian 12 (debootstrap, with the package's Depends and
# Recommends: QEMU, qemu-utils, OVMF) as one layer, the .deb installed with
# dpkg as a second. Entrypoint cocos-manager; its state and run directories
# are volumes; it runs as the unprivileged user cocos-manager (uid 10001)
# unless the runtime says otherwise (README: what needs root or the kvm
# group). Built with umoci and skopeo: no container engine needed. The base
# layer is cached outside the clone with the Debian root it comes from.
#   --version V   as for package:deb
#   --no-build    as for package:deb
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
. scripts/cache-dir.sh
version=$(node -p "require('./apps/manager/package.json').version")
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --no-build) shift ;;
    *) echo "package-oci: unknown option $1 (expected --version V or --no-build)" >&2; exit 2 ;;
  esac
done
set -- "${args[@]}"
# One image build at a time in this tree: its work directory is fixed.
mkdir -p "$repo/build/packages"
exec 7>"$repo/build/packages/.oci.lock"
flock 7
bash scripts/package/deb.sh "$@"
export PATH="$repo/node_modules/.bin:$PATH"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
deb=$repo/build/packages/cocos-manager_${version}_amd64.deb
archive=$repo/build/packages/cocos-manager_${version}_amd64.oci.tar
uid=10001

mapfile -t needs < <(dpkg-deb --field "$deb" Depends Recommends | sed 's/^[A-Za-z-]*: //' | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' | grep -v '^$')
root=$(bash scripts/package/debian-root.sh "${needs[@]}")
key=$( {
  printf '%s\n' "$(cat "$deb.key")" "$root" "$uid"
  cat scripts/package/oci.sh
} | sha256sum | cut -c1-64)
if [ -f "$archive" ] && [ "$(cat "$archive.key" 2>/dev/null)" = "$key" ]; then
  echo "package-oci: $archive is up to date"
  exit 0
fi
rm -f "$archive" "$archive.key"

# The Debian layer, once per Debian root (and its unpacked bundle).
base="$(cache_dir)/oci-base-$(basename "$root")"
if [ ! -f "$base.complete" ]; then
  exec 9>"$base.lock"
  flock 9
  if [ ! -f "$base.complete" ]; then
    echo "package-oci: the Debian layer from $root"
    rm -rf "$base" "$base.bundle"
    umoci init --layout "$base"
    umoci new --image "$base:debian"
    umoci unpack --image "$base:debian" "$base.bundle"
    cp -a "$root/." "$base.bundle/rootfs/"
    # The runtime provides /dev.
    find "$base.bundle/rootfs/dev" -mindepth 1 -delete
    # The bundle stays, refreshed to the layer: a build copies it instead of unpacking the layer again.
    umoci repack --refresh-bundle --image "$base:debian" --history.created "$(date -u -r "$root.complete" +%Y-%m-%dT%H:%M:%SZ)" \
      --history.comment "Debian 12 (debootstrap $(basename "$root"))" "$base.bundle"
    touch "$base.complete"
  fi
  exec 9>&-
fi

work=$repo/build/packages/work/oci
rm -rf "$work" && mkdir -p "$work"
layout=$work/layout
cp -a "$base" "$layout"
cp -a "$base.bundle" "$work/bundle"
rootfs=$work/bundle/rootfs
cp "$deb" "$rootfs/tmp/cocos-manager.deb"
# unsafe-io: a throw-away tree, no fsync per file.
chroot "$rootfs" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg --force-unsafe-io -i /tmp/cocos-manager.deb >/dev/null
rm "$rootfs/tmp/cocos-manager.deb"
chroot "$rootfs" useradd --uid "$uid" --user-group --home-dir /var/lib/cocos-manager --no-create-home --shell /usr/sbin/nologin cocos-manager
install -d -m 0700 -o "$uid" -g "$uid" "$rootfs/var/lib/cocos-manager" "$rootfs/run/cocos-manager"
# Nothing of the build: logs, caches, the dpkg journal's backups.
rm -rf "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
umoci repack --image "$layout:$version" --history.created "$created" --history.comment "dpkg -i cocos-manager_${version}_amd64.deb" "$work/bundle"
umoci config --image "$layout:$version" --created "$created" --author "cocos-manager" \
  --config.entrypoint /usr/bin/cocos-manager \
  --config.user cocos-manager \
  --config.workingdir /var/lib/cocos-manager \
  --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env MANAGER_STATE_DIR=/var/lib/cocos-manager \
  --config.env MANAGER_RUN_DIR=/run/cocos-manager \
  --config.volume /var/lib/cocos-manager \
  --config.volume /run/cocos-manager \
  --config.stopsignal SIGTERM \
  --config.label "org.opencontainers.image.title=cocos-manager" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$(git rev-parse HEAD)" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0" \
  --history.comment "cocos-manager $version: entrypoint, user, volumes" --history.created "$created"
umoci rm --image "$layout:debian"
umoci gc --layout "$layout"
skopeo copy --quiet "oci:$layout:$version" "oci-archive:$archive:$version"
rm -rf "$work"
printf '%s\n' "$key" >"$archive.key"
echo "package-oci: $archive ($(du -h "$archive" | cut -f1))"
