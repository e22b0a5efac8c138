#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: unit, integration and end to
# end against the built cocos-manager binary with real QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The repo's pinned Node (node_modules/.bin/node) runs npm and every test.
export PATH="$PWD/node_modules/.bin:$PATH"
npm test
