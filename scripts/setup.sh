#!/usr/bin/env bash
# Installs what is missing and builds what is stale: Debian packages, npm dependencies, the
# native addon, the eBPF objects and the TypeScript. Idempotent; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian packages (build-time only: the runtime needs libbpf1 and libelf1).
pkgs=(clang-16 llvm-16 libbpf-dev libelf-dev zlib1g-dev bpftool make g++ python3 pkg-config libseccomp-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]} — run this as root (sudo npm run setup) or install them"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm dependencies, when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# 3. Native addon, when a source is newer than the build.
addon=native/build/Release/eunomia.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" -print -quit)" ]; then
  say "building the native addon"
  npm run --silent build:native >/dev/null
fi

# 3b. The seccomp helper (src/seccomp/launch.ts runs commands through it), when its source is newer.
#     After the addon: node-gyp rebuild empties native/build.
helper=native/build/eunomia-seccomp-exec
if [ ! -f "$helper" ] || [ native/seccomp-exec/seccomp-exec.c -nt "$helper" ]; then
  say "building the seccomp helper"
  mkdir -p native/build
  cc -O2 -Wall -Wextra -Werror -o "$helper" native/seccomp-exec/seccomp-exec.c -lseccomp
fi

# 4. eBPF objects (make knows what is stale).
make -s -C bpf

# 5. TypeScript (incremental).
stamp=dist/.tsbuildinfo
if [ ! -f "$stamp" ] || [ -n "$(find src test bench tsconfig.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  say "compiling TypeScript"
  if ! out=$(npx tsc -p tsconfig.json); then
    # A new tracker (docs/tutorial.md) imports its event type before step 6 has written it: tsc
    # wrote the JavaScript all the same, and the generator reads the descriptor from it.
    new=$(for d in src/trackers/*/; do [ -f "${d}index.ts" ] && [ ! -f "${d}event.gen.ts" ] && grep -q "'./event.gen.js'" "${d}index.ts" && basename "$d"; done; true)
    [ -n "$new" ] || { printf '%s\n' "$out" >&2; exit 1; }
    say "writing the event type of $(echo $new) (step 6), then compiling again"
    node scripts/gen-event-types.js >/dev/null
    npx tsc -p tsconfig.json
  fi
  # The layers (README "Layout", .dependency-cruiser.cjs): an import that runs back up fails the build.
  layers=$(npx depcruise src --config .dependency-cruiser.cjs --output-type err 2>&1) || { printf '%s\n' "$layers" >&2; exit 1; }
fi

# 6. Each tracker's event type from its object's BTF (src/trackers/<name>/event.gen.ts, committed
#    so that a fresh clone compiles): regenerated when an object, a tracker, the BTF library or the
#    generator changed; the TypeScript is compiled again only if a generated file changed.
types=dist/.event-types
if [ ! -f "$types" ] || [ -n "$(find dist/bpf src/trackers src/core/btf scripts/gen-event-types.js -newer "$types" -print -quit)" ]; then
  changed=$(node scripts/gen-event-types.js)
  if [ -n "$changed" ]; then
    say "event types changed ($(echo $changed)): compiling TypeScript"
    npx tsc -p tsconfig.json
  fi
  touch "$types"
fi

# 7. The built-in rules, parsed (scripts/rules-cache.js), when they or the rules' code changed:
#    loading them then skips the YAML and condition parsers (an edited file misses and is parsed).
cache=dist/rules-cache.json
if [ ! -f "$cache" ] || [ -n "$(find rules dist/src/rules scripts/rules-cache.js -newer "$cache" -print -quit)" ]; then
  say "caching the parsed built-in rules"
  node scripts/rules-cache.js >/dev/null
fi

# 7b. ajv's code for the config's schemas (scripts/config-validators.js), when the compiled code
#     changed: `eunomia server` then checks its config without compiling them. A schema the file
#     does not hold is compiled at run time, so a stale file is only slower.
validators=dist/config-validators.cjs
if [ ! -f "$validators" ] || [ -n "$(find dist/src scripts/config-validators.js -newer "$validators" -print -quit)" ]; then
  say "writing the config's validators"
  node scripts/config-validators.js >/dev/null
fi

# 8. The CLI's bundle (scripts/bundle.js), when the compiled code is newer: the same test as
# bin/eunomia.js makes (tsc's .tsbuildinfo), or the launcher would run the unbundled modules.
bundle=dist/bundle/cli/main.js
if [ ! -f "$bundle" ] || [ -n "$(find dist/src dist/.tsbuildinfo scripts/bundle.js -newer "$bundle" -print -quit)" ]; then
  say "bundling the CLI"
  node scripts/bundle.js
fi

# 9. The web console (scripts/build-console.js: type-checked, bundled into dist/console), when
#    a source of it, Preact or the script is newer than the build (a package ships it built).
console_html=dist/console/index.html
if [ -d console ] && { [ ! -f "$console_html" ] || [ -n "$(find console scripts/build-console.js node_modules/preact/package.json -newer "$console_html" -print -quit)" ]; }; then
  say "building the web console"
  node scripts/build-console.js
fi
