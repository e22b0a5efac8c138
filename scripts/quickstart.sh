#!/usr/bin/env bash
# Quick start: sets up, runs cocos-manager against the dev guest, creates one
# VM over gRPC and prints its forwarded port and the guest's answer. The
# manager keeps running in the foreground; Ctrl-C stops it and removes the VM.
#   --no-setup   skip scripts/setup.sh (already set up)
#   --exit       remove the VM and stop once the guest answered
set -euo pipefail
cd "$(dirname "$0")/.."
setup=1 exit_after=0
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    --exit) exit_after=1 ;;
    *) echo "quickstart: unknown option $arg (expected --no-setup, --exit)" >&2; exit 2 ;;
  esac
done
[ "$setup" = 1 ] && bash scripts/setup.sh
# The repo's pinned Node runs the manager and the client, whatever the machine's Node is.
[ -x node_modules/.bin/node ] || { echo "quickstart: node_modules/.bin/node is missing: run bash scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"

guest="$PWD/build/dev-guest"
export MANAGER_QEMU_DISK_IMG_KERNEL_FILE="${MANAGER_QEMU_DISK_IMG_KERNEL_FILE:-$guest/bzImage}"
export MANAGER_QEMU_DISK_IMG_ROOTFS_FILE="${MANAGER_QEMU_DISK_IMG_ROOTFS_FILE:-$guest/rootfs.cpio.gz}"
# TCG works everywhere; set MANAGER_QEMU_ENABLE_KVM=true on a host with working KVM.
export MANAGER_QEMU_ENABLE_KVM="${MANAGER_QEMU_ENABLE_KVM:-false}"
export MANAGER_GRPC_PORT="${MANAGER_GRPC_PORT:-7001}"
export MANAGER_LOG_LEVEL="${MANAGER_LOG_LEVEL:-info}"
# The quick start cleans up after itself; a real deployment keeps VMs across manager restarts.
export MANAGER_STOP_VMS_ON_EXIT="${MANAGER_STOP_VMS_ON_EXIT:-true}"

log=$(mktemp -t cocos-manager-quickstart.XXXXXX.log)
node apps/manager/dist/main.js >"$log" 2>&1 &
manager=$!
stop() { kill -TERM "$manager" 2>/dev/null || true; wait "$manager" 2>/dev/null || true; }
trap stop EXIT INT TERM

for _ in $(seq 1 50); do
  grep -q '"msg":"manager started"' "$log" && break
  kill -0 "$manager" 2>/dev/null || { cat "$log" >&2; echo "quickstart: the manager did not start (log above)" >&2; exit 1; }
  sleep 0.2
done
echo "quickstart: cocos-manager is listening on gRPC port $MANAGER_GRPC_PORT (log: $log)"
node scripts/quickstart-client.mjs "127.0.0.1:$MANAGER_GRPC_PORT" "$exit_after"
if [ "$exit_after" = 0 ]; then
  echo "quickstart: the VM keeps running; Ctrl-C stops the manager and removes it"
  wait "$manager"
fi
