#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: unit, integration and end to
# end against the built cocos-manager binary with real QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
