# sluice agent image. Build with `make image` (docker, podman or buildah). The runtime stage
# holds exactly the tree image/runtime-tree.sh stages; e2e/install stages the same tree and runs
# the lab's agents from it, so what this image runs is what `make test` ran.

ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- build: the toolchain (tsc, node-gyp, a C compiler) ---------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY native/ native/
# The root package's install script builds native/ (node-gyp, Node's own headers: no download).
RUN npm ci --no-audit --no-fund
COPY . .
# No .git in the build context: `make image` passes the commit.
ARG SLUICE_COMMIT=
RUN npx --no-install tsc -p tsconfig.json \
 && SLUICE_COMMIT="${SLUICE_COMMIT}" node dist/agent/tools/write-build-info.js \
 && image/runtime-tree.sh /runtime

# --- runtime: slim Debian, nftables' library, iproute2, node ------------------------------------
FROM ${RUNTIME_IMAGE}
# libnftables1: the nft driver (koffi); iproute2: links, routes, rules, addresses.
# node needs libstdc++6 and libgcc-s1, which the base already has (apt depends on them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnftables1 iproute2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /runtime /opt/sluice
RUN ln -s /opt/sluice/dist/agent/main.js /usr/local/bin/sluice \
 && sluice version
# uid 0 inside the container, but only the capabilities the DaemonSet adds (NET_ADMIN, NET_RAW):
# Kubernetes gives a non-root process no ambient capabilities, so the iproute2 processes the
# agent starts would run without NET_ADMIN. See README "Security".
ENTRYPOINT ["sluice"]
CMD ["agent"]
