#!/usr/bin/env bash
# Builds the dev guest (kernel + initramfs) used by the tests and the quick
# start, from Debian packages only. Output: <repo>/build/dev-guest/.
# Cached: nothing is done when the recipe (this script, /init, the C helpers,
# the kernel package version, busybox, gcc) is unchanged since the last build; a build is
# also kept outside the clone (scripts/cache-dir.sh) under its recipe, so a
# fresh clone on a machine that built it once copies it instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="${DEV_GUEST_OUT:-$repo/build/dev-guest}"
modules="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net netfs fscache 9pnet 9pnet_virtio 9p virtio_console evdev button"

for tool in gcc apt-get dpkg-deb cpio gzip sha256sum grub-mkstandalone mformat mmd mcopy qemu-img; do
  command -v "$tool" >/dev/null || { echo "build-dev-guest: '$tool' is required" >&2; exit 1; }
done
busybox=/bin/busybox
[ -x "$busybox" ] && file_is_static=$(ldd "$busybox" 2>&1 | grep -c 'not a dynamic' || true)
if [ ! -x "$busybox" ] || [ "${file_is_static:-0}" = 0 ]; then
  echo "build-dev-guest: a static busybox is required (apt-get install busybox-static)" >&2; exit 1
fi

# The meta package names the current kernel; resolving it keeps us on Debian's newest.
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { echo "build-dev-guest: cannot resolve linux-image-amd64 (run apt-get update)" >&2; exit 1; }
kernel_ver=$(apt-cache policy "$kernel_pkg" | sed -n 's/^ *Candidate: //p')

recipe=$( { cat "$here/build.sh" "$here/init" "$here/grub.cfg" "$here/race-probe.c" "$here/agent-stub.c"; echo "$kernel_pkg $kernel_ver"; sha256sum "$busybox"; gcc --version | head -1; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/recipe" ] && [ "$(cat "$out/recipe")" = "$recipe" ] && [ -f "$out/bzImage" ] && [ -f "$out/rootfs.cpio.gz" ] && [ -f "$out/disk.qcow2" ]; then
  echo "build-dev-guest: up to date ($out)"
  exit 0
fi
. "$repo/scripts/cache-dir.sh"
cached="$(cache_dir)/dev-guest-$recipe"
if [ -f "$cached/recipe" ] && [ "$(cat "$cached/recipe")" = "$recipe" ]; then
  mkdir -p "$out"
  rm -f "$out/recipe"
  for f in bzImage rootfs.cpio.gz disk.qcow2; do cp "$cached/$f" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"; done
  echo "$recipe" > "$out/recipe"
  echo "build-dev-guest: copied from the cache ($cached)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get download "$kernel_pkg" >/dev/null 2>&1 ) || { echo "build-dev-guest: apt-get download $kernel_pkg failed" >&2; exit 1; }
dpkg-deb -x "$work"/"$kernel_pkg"_*.deb "$work/kernel"
kdir=$(ls -d "$work"/kernel/lib/modules/*)

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,mnt,etc,lib/modules}
cp "$busybox" "$root/bin/busybox"
for m in $modules; do
  f=$(find "$kdir" -name "$m.ko" | head -1)
  [ -n "$f" ] || { echo "build-dev-guest: module $m not found in $kernel_pkg" >&2; exit 1; }
  cp "$f" "$root/lib/modules/"
done
install -m 0755 "$here/init" "$root/init"
# The guest's attack on the host API (connection guard tests): static, as busybox.
gcc -static -O2 -o "$root/bin/race-probe" "$here/race-probe.c"
# The agent on the seeds/002 channel (virtio-serial), and its attacks on the host's end: static too.
gcc -static -O2 -Wall -Wextra -o "$root/bin/agent-stub" "$here/agent-stub.c"

mkdir -p "$out"
cp "$work"/kernel/boot/vmlinuz-* "$out/bzImage.tmp"
( cd "$root" && find . | sort | cpio -o -H newc --quiet ) | gzip -9 > "$out/rootfs.cpio.gz.tmp"
mv "$out/bzImage.tmp" "$out/bzImage"
mv "$out/rootfs.cpio.gz.tmp" "$out/rootfs.cpio.gz"

# Disk mode: an EFI system partition image (FAT, written with mtools, no
# mounting) holding a standalone GRUB, the kernel and the initramfs, as qcow2.
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" \
  --modules="part_gpt part_msdos fat search search_fs_file linux normal" \
  "boot/grub/grub.cfg=$here/grub.cfg"
esp="$work/esp.img"
truncate -s 64M "$esp"
mformat -i "$esp" -F ::
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$out/bzImage" ::/vmlinuz
mcopy -i "$esp" "$out/rootfs.cpio.gz" ::/initrd.img
qemu-img convert -O qcow2 "$esp" "$out/disk.qcow2.tmp"
mv "$out/disk.qcow2.tmp" "$out/disk.qcow2"
echo "$recipe" > "$out/recipe"
# Into the cache whole or not at all: a copy, then one rename.
keep=$(mktemp -d "$cached.XXXXXX")
cp "$out/bzImage" "$out/rootfs.cpio.gz" "$out/disk.qcow2" "$out/recipe" "$keep/"
chmod 0755 "$keep"
rm -rf "$cached" && mv "$keep" "$cached" || rm -rf "$keep"
echo "build-dev-guest: built $out (kernel $kernel_pkg $kernel_ver)"
