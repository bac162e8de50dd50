#!/usr/bin/env bash
# `make image`: builds the Dockerfile with the first container engine that works here (docker,
# podman, buildah). Without one it says so and exits 1; e2e/install tests the image's runtime
# tree without any engine.
set -euo pipefail
image=${1:?usage: image/build.sh IMAGE}
cd "$(dirname "$0")/.."
commit=$(git rev-parse HEAD 2>/dev/null || true)
[ -z "$commit" ] || [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-dirty"

tried=()
for engine in docker podman buildah; do
  command -v "$engine" >/dev/null 2>&1 || continue
  case "$engine" in
    buildah) probe=(buildah info) build=(buildah bud) ;;
    *) probe=("$engine" info) build=("$engine" build) ;;
  esac
  if ! why=$("${probe[@]}" 2>&1 >/dev/null); then
    tried+=("$engine is installed but not usable: $(printf '%s' "$why" | grep -v '^\s*$' | tail -n 1)")
    continue
  fi
  echo "building $image with $engine (commit ${commit:-unknown})"
  exec "${build[@]}" --build-arg "SLUICE_COMMIT=$commit" -t "$image" .
done

{
  echo "make image: no working container engine (docker, podman or buildah) on this machine."
  for t in "${tried[@]}"; do echo "  - $t"; done
  [ ${#tried[@]} -gt 0 ] || echo "  - none of them is installed"
  echo "The image's content is tested without one: \`make test\` stages its runtime tree (image/runtime-tree.sh)"
  echo "and runs the lab's agents from it (e2e/install)."
} >&2
exit 1
