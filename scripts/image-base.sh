#!/usr/bin/env bash
# Makes a local Debian base image from Debian's packages, for building the Dockerfile where no
# container registry is reachable (the Dockerfile's ARG BASE; docs/image.md):
#
#   bash scripts/image-base.sh [TAG]      # default eunomia-image/base:trixie-1
#
# mmdebstrap (a Debian package) installs a minimal Debian (the minbase variant: essential
# packages and apt, as debian:*-slim has) from the Debian mirror into a tar stream, which
# `docker import` turns into an image. Like the slim images, it keeps no manual pages or
# documentation beyond copyright files. Idempotent: an existing tag is kept (bump V in the tag
# to make a new one). Needs root and the Debian mirror (MIRROR, default the one apt uses here).
set -euo pipefail

V=1
SUITE=${SUITE:-trixie}
TAG=${1:-eunomia-image/base:$SUITE-$V}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

say() { printf 'image-base: %s\n' "$*" >&2; }
if docker image inspect "$TAG" >/dev/null 2>&1; then exit 0; fi
[ "$(id -u)" -eq 0 ] || { say "needs root (mmdebstrap and docker)"; exit 1; }
command -v mmdebstrap >/dev/null || { say "mmdebstrap missing: apt-get install mmdebstrap (scripts/test-env.sh does)"; exit 1; }

say "making $TAG from $SUITE's packages ($MIRROR)"
# Trixie's archive keys are in bookworm's debian-archive-keyring (2023.3+deb12u2 and later).
mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "$SUITE" - \
  "deb $MIRROR $SUITE main" \
  "deb $MIRROR $SUITE-updates main" \
  "deb $SECURITY $SUITE-security main" |
  docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' - "$TAG" >/dev/null
say "made $TAG"
