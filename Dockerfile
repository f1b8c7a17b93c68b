# The Eunomia agent as a container image (docs/image.md).
#
#   docker build -t eunomia .                                   # with a registry
#   bash scripts/image-base.sh && \
#   docker build --build-arg BASE=eunomia-image/base:trixie-1 -t eunomia .   # without one
#
# Three stages on one Debian base: `runtime` has Node.js and the runtime libraries (libbpf,
# libelf, libseccomp, zlib); `build` adds the toolchain (clang, libbpf-dev, g++, Node's headers;
# npm, with its node-gyp, through corepack) and makes what scripts/setup.sh makes; the image is
# `runtime` with the built files.
#
# Debian 13 (trixie), not 12: Node.js 20, which the agent needs (package.json engines; its
# better-sqlite3 needs 20+), is a Debian package from trixie on (bookworm has 18), so every
# byte of the image comes from Debian's packages and the npm registry. trixie has no clang-16:
# the eBPF objects are built by its clang (19), which bpf/Makefile takes when clang-16 is absent.
ARG BASE=debian:trixie-slim

FROM ${BASE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends nodejs libbpf1 libelf1t64 libseccomp2 zlib1g >/dev/null \
 && rm -rf /var/lib/apt/lists/*

FROM runtime AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make g++ python3 pkg-config libseccomp-dev \
      libnode-dev ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# npm from the npm registry, by corepack (which Debian's nodejs ships): Debian's own npm package
# brings 290 more packages, which took longer to install than everything else here. npm 10 is
# Node 20's. node-gyp (npm's) builds against Debian's Node headers (libnode-dev), never
# downloads them; better-sqlite3 is compiled from its source, never taken prebuilt.
ENV NPM="corepack npm@10.9.2" COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    npm_config_nodedir=/usr npm_config_build_from_source=true \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# EXTRA_CA_CERTS: PEM certificates added to Debian's for this stage's downloads (npm), for a
# network whose TLS a proxy inspects: give your host's local ones, e.g.
#   --build-arg EXTRA_CA_CERTS="$(cat /usr/local/share/ca-certificates/*.crt)"
# The image itself has Debian's certificates only.
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt \
      && update-ca-certificates >/dev/null 2>&1; fi
ENV npm_config_cafile=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt

# Layers from the least to the most often changed, so that an edit to the TypeScript rebuilds
# only the last ones.
COPY package.json package-lock.json ./
RUN $NPM ci --loglevel=error

COPY native native
RUN $NPM run --silent build:native >/dev/null \
 && cc -O2 -Wall -Wextra -Werror -o native/build/eunomia-seccomp-exec native/seccomp-exec/seccomp-exec.c -lseccomp

# vmlinux.h comes from the build machine's kernel BTF (/sys/kernel/btf/vmlinux, which docker
# build's containers see): CO-RE makes the objects run on other kernels all the same.
COPY bpf bpf
RUN make -s -C bpf

# The TypeScript of src/ only (tsconfig.json also compiles the tests and benchmarks), then
# what setup.sh makes from it: the parsed rules, the CLI bundle, the web console.
COPY tsconfig.json ./
COPY src src
COPY rules rules
COPY console console
COPY scripts/bundle.js scripts/build-console.js scripts/rules-cache.js scripts/config-validators.js scripts/
COPY bin bin
RUN printf '{"extends":"./tsconfig.json","include":["src/**/*.ts"]}' > tsconfig.image.json \
 && node node_modules/typescript/bin/tsc -p tsconfig.image.json \
 && node scripts/rules-cache.js >/dev/null \
 && node scripts/config-validators.js >/dev/null \
 && node scripts/bundle.js \
 && node scripts/build-console.js >/dev/null

# What the agent runs with: production dependencies only, without better-sqlite3's build
# intermediates and sources (its addon is build/Release/better_sqlite3.node).
RUN $NPM prune --omit=dev --loglevel=error \
 && cd node_modules/better-sqlite3 && rm -rf deps src build/Release/obj* build/Release/.deps build/deps \
      build/Release/test_extension.node build/Release/obj.target build/Release/*.a

# The image: Node.js, the runtime libraries and the built files. It runs as root, with only
# the capabilities `docker run` grants (docs/image.md says which and why not another user).
FROM runtime
WORKDIR /opt/eunomia
# The layout of the npm package (package.json "files"): the code finds the addon, objects,
# rules and console from its own place (import.meta.url).
COPY --from=build /src/package.json ./
COPY --from=build /src/bin bin
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/native/build/Release/eunomia.node native/build/Release/eunomia.node
COPY --from=build /src/native/build/eunomia-seccomp-exec native/build/eunomia-seccomp-exec
COPY --from=build /src/dist/bpf dist/bpf
COPY --from=build /src/dist/src dist/src
COPY --from=build /src/dist/bundle dist/bundle
COPY --from=build /src/dist/console dist/console
COPY --from=build /src/dist/rules-cache.json dist/rules-cache.json
COPY --from=build /src/dist/config-validators.cjs dist/config-validators.cjs
COPY --from=build /src/rules rules
COPY --from=build /src/src/containers/proto src/containers/proto
RUN ln -s /opt/eunomia/bin/eunomia.js /usr/local/bin/eunomia

# Inside the container the API must listen on all interfaces to be published, so it needs a
# token: mount one at /run/secrets/eunomia-token (the server refuses to listen off loopback
# without it). Publish the ports on the host's loopback (docs/image.md).
EXPOSE 8527 8528
ENTRYPOINT ["eunomia"]
CMD ["server", "--listen", "0.0.0.0:8527", "--metrics-listen", "0.0.0.0:8528", "--token-file", "/run/secrets/eunomia-token"]
