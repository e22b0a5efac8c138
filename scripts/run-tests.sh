#!/usr/bin/env bash
# The tests of `npm test`, after its checks and the build: vitest in front;
# the lint (type checks included) and the Node 22 unit tests beside it, at a
# lower CPU priority. On two cores the end-to-end files leave one mostly idle
# (QEMU under TCG runs one vCPU on one core), which the lint fills instead of
# adding its three minutes after them. Fails if any of the three failed.
set -uo pipefail
cd "$(dirname "$0")/.."
side=$(mktemp -d)
trap 'rm -rf "$side"' EXIT
(
  nice -n 10 npx nx run-many -t lint --outputStyle=static >"$side/lint.log" 2>&1
  echo $? >"$side/lint.rc"
  nice -n 10 bash scripts/test-node22.sh >"$side/node22.log" 2>&1
  echo $? >"$side/node22.rc"
) &
beside=$!
npx vitest run
vitest_rc=$?
wait "$beside"
lint_rc=$(cat "$side/lint.rc")
node22_rc=$(cat "$side/node22.rc")
# Each side job's output whole when it failed, its last lines otherwise.
for job in lint node22; do
  rc_var="${job}_rc"
  echo "== $job (ran beside vitest): exit ${!rc_var}"
  if [ "${!rc_var}" != 0 ]; then cat "$side/$job.log"; else tail -n 6 "$side/$job.log"; fi
done
echo "run-tests: vitest exit $vitest_rc, lint exit $lint_rc, Node 22 unit tests exit $node22_rc"
[ "$vitest_rc" = 0 ] && [ "$lint_rc" = 0 ] && [ "$node22_rc" = 0 ]
