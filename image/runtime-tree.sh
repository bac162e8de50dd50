#!/usr/bin/env bash
# Stages the runtime tree: exactly what the image runs and nothing else. The Dockerfile copies
# the tree this script stages, and e2e/install runs the lab's agents from one, so the two cannot
# drift apart. Run it in a built checkout (`make build`: dist/ compiled, native/ built):
#
#   image/runtime-tree.sh OUT
#
# OUT gets package.json, the production dependencies (npm ci --omit=dev), the compiled CLI and
# library without tests, test helpers or build tools, the build info, and the GARP/NA addon.
set -euo pipefail
out=${1:?usage: image/runtime-tree.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

for f in dist/agent/main.js dist/build-info.json native/build/Release/packet_socket.node; do
  [ -e "$f" ] || { echo "runtime-tree: $f is missing: run \`make build\` first" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cp package.json package-lock.json "$out/"
# No install scripts: the only one that builds anything is our addon's, already built above by
# the toolchain; koffi's binary comes with its per-platform package.
(cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# Type declarations and source maps are for editors and debuggers: half of node_modules.
find "$out/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

mkdir -p "$out/dist"
(cd dist && find agent lib -name '*.js' ! -name '*.test.js' ! -path '*/testing/*' ! -path 'agent/tools/*' -print0 |
  xargs -0 cp --parents -t "$out/dist")
cp dist/build-info.json "$out/dist/"
chmod +x "$out/dist/agent/main.js"
mkdir -p "$out/native/build/Release"
cp native/build/Release/packet_socket.node "$out/native/build/Release/"

node "$out/dist/agent/main.js" version >/dev/null
echo "runtime tree in $out: $(du -sh "$out" | cut -f1)"
