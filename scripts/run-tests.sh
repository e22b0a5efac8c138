#!/usr/bin/env bash
# The tests of `npm test`, after its checks and the build, in two lanes that
# share the two cores:
#   - the VM lane: the `cocos-manager` project, the end-to-end files that boot
#     VMs, one file at a time (their port ranges and machine-wide steps assume
#     that), in front;
#   - the other lane: every other project, one file at a time, then the lint
#     (type checks included) and the Node 22 unit tests at a lower CPU priority.
# QEMU under TCG runs one vCPU on one core, so a VM file leaves the other core
# mostly idle: the other lane fills it instead of running before the VM files.
# Each lane's output is printed whole when it failed, its summary otherwise.
# Fails if any of the four failed.
set -uo pipefail
cd "$(dirname "$0")/.."
side=$(mktemp -d)
trap 'rm -rf "$side"' EXIT
(
  npx vitest run --project '!cocos-manager' --maxWorkers 1 >"$side/units.log" 2>&1
  echo $? >"$side/units.rc"
  nice -n 10 npx nx run-many -t lint --outputStyle=static >"$side/lint.log" 2>&1
  echo $? >"$side/lint.rc"
  nice -n 10 bash scripts/test-node22.sh >"$side/node22.log" 2>&1
  echo $? >"$side/node22.rc"
) &
beside=$!
npx vitest run --project cocos-manager
vms_rc=$?
wait "$beside"
units_rc=$(cat "$side/units.rc")
lint_rc=$(cat "$side/lint.rc")
node22_rc=$(cat "$side/node22.rc")
for job in units lint node22; do
  rc_var="${job}_rc"
  echo "== $job (ran beside the VM files): exit ${!rc_var}"
  if [ "${!rc_var}" != 0 ]; then cat "$side/$job.log"; else tail -n 8 "$side/$job.log"; fi
done
echo "run-tests: VM files exit $vms_rc, other projects exit $units_rc, lint exit $lint_rc, Node 22 unit tests exit $node22_rc"
[ "$vms_rc" = 0 ] && [ "$units_rc" = 0 ] && [ "$lint_rc" = 0 ] && [ "$node22_rc" = 0 ]
