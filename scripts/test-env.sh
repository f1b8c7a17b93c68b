#!/usr/bin/env bash
# What the container tests need beyond scripts/setup.sh: a running Docker engine and a
# system containerd (both from Debian's docker.io), and a small local image, since no
# registry is reachable. Idempotent; quick when all is there. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test-env: %s\n' "$*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
  say "not root: the container tests will skip (they need root to run Docker and eBPF)"
  exit 0
fi

# prometheus (promtool too): the dashboards' and alert rules' PromQL tests run a private one.
# podman: the runtime-setup tests run a Podman container too (its API socket gives names).
# chromium: test/unit/flamegraph.test.ts opens the SVG flame graph in it (puppeteer-core drives it).
# libbpf-tools: test/hotload/libbpf-tools.test.ts hot-loads the eBPF objects its tools embed, as a user would.
# crun, uidmap: test/containers/{podman,crun}.test.ts run crun under Docker and Podman, and rootless Podman.
# golang-go, golang-github-masterminds-sprig-dev, golang-k8s-sigs-yaml-dev, golang-github-xeipuuv-gojsonschema-dev:
#   test/deploy/kubernetes.test.ts renders the Helm chart with Helm's template libraries (no helm in Debian).
# mmdebstrap, docker-compose: test/deploy/image.test.ts builds the image's Debian base from Debian's
#   packages (scripts/image-base.sh: no registry) and brings up deploy/compose/docker-compose.yml.
pkgs=(docker.io containerd busybox-static prometheus podman curl chromium libbpf-tools crun uidmap
  golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev golang-github-xeipuuv-gojsonschema-dev
  mmdebstrap docker-compose)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# wait_for <what> <command...>: up to 20 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  say "$what did not come up"; return 1
}

# crun refuses a hybrid host whose cgroup v2 hierarchy has controllers ("cgroups in hybrid mode
# not supported"): this VM's init mounts no v1 hierarchy for some (hugetlb), so the kernel offers
# them in v2. Mount those on v1, as systemd's hybrid mode does for every controller.
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] && [ -s /sys/fs/cgroup/unified/cgroup.controllers ]; then
  for c in $(cat /sys/fs/cgroup/unified/cgroup.controllers); do
    say "mounting the $c cgroup controller on v1 (for crun)"
    mkdir -p "/sys/fs/cgroup/$c"
    mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || say "could not: the crun tests will skip"
  done
fi

# crun as a Docker runtime ("docker run --runtime crun"), merged into any daemon.json there is; a
# running dockerd reloads its runtimes on SIGHUP (no restart: running containers stay up).
daemon_json=/etc/docker/daemon.json
crun_added=$(node -e '
  const fs = require("node:fs"); const f = process.argv[1];
  let c = {};
  try { if (fs.existsSync(f)) c = JSON.parse(fs.readFileSync(f, "utf8")); } catch (e) { console.error(`test-env: ${f} is not JSON (${e.message}): fix it`); process.exit(1); }
  if (c.runtimes?.crun) process.exit(0);
  c.runtimes = { ...c.runtimes, crun: { path: "/usr/bin/crun" } };
  fs.mkdirSync("/etc/docker", { recursive: true });
  fs.writeFileSync(f, JSON.stringify(c, null, 2) + "\n");
  console.log("yes");' "$daemon_json")
if [ -n "$crun_added" ]; then
  say "registered crun in $daemon_json"
  if pid=$(pgrep -x dockerd); then kill -HUP $pid; fi
fi

# System containerd first: dockerd then uses it (containers in its "moby" namespace) instead
# of starting a private one, and the containerd tests have a socket to talk to.
if ! ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
  say "starting containerd"
  mkdir -p /var/log/eunomia-test
  setsid containerd >/var/log/eunomia-test/containerd.log 2>&1 < /dev/null &
  wait_for containerd ctr --address /run/containerd/containerd.sock version
fi
if ! docker version >/dev/null 2>&1; then
  say "starting dockerd"
  mkdir -p /var/log/eunomia-test
  setsid dockerd --containerd /run/containerd/containerd.sock >/var/log/eunomia-test/dockerd.log 2>&1 < /dev/null &
  wait_for dockerd docker version
fi

# The test image: busybox-static as a rootfs (docker import needs no registry), with the
# security tests' attack tool and the files their attacks touch. The tag changes with the
# rootfs, so a machine with an older image makes the new one.
image=eunomia-test/busybox:4
if ! docker image inspect "$image" >/dev/null 2>&1; then
  say "importing $image"
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,root/.ssh,root/.aws,root/.kube,proc,sys,dev,usr/bin,var/log,etc/pam.d,var/spool/cron/crontabs} \
    "$root"/{etc/ssl/private,var/lib/sss/db,var/www/html,var/run/secrets/kubernetes.io/serviceaccount}
  cp /bin/busybox "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
  cc -static -O2 -o "$root/usr/bin/eunomia-attack" test/attack/eunomia-attack.c
  # stand-ins for tools the image lacks (the attack tool answers to any other name)
  for t in nmap kubectl iptables ip6tables nft auditctl sudo sudoedit socat; do ln -s eunomia-attack "$root/usr/bin/$t"; done
  ln "$root/usr/bin/eunomia-attack" "$root/usr/bin/pkexec" # a hard link: the exe's path is pkexec's
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  echo 'root:*:19000:0:99999:7:::' > "$root/etc/shadow" && chmod 600 "$root/etc/shadow"
  echo 'auth required pam_deny.so' > "$root/etc/pam.d/other"
  printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n' > "$root/root/.ssh/id_ed25519"
  echo 'ssh-ed25519 AAAA test' > "$root/root/.ssh/id_ed25519.pub"
  chmod 600 "$root/root/.ssh/id_ed25519"
  echo 'export PS1="# "' > "$root/root/.profile"
  echo 'ls' > "$root/root/.ash_history"
  echo 'example.com ssh-ed25519 AAAA' > "$root/root/.ssh/known_hosts"
  printf '[default]\naws_access_key_id = AKIAEXAMPLE\n' > "$root/root/.aws/credentials"
  echo 'apiVersion: v1' > "$root/root/.kube/config"
  echo 'not a real key' > "$root/etc/ssl/private/server.key"
  echo 'not a real cache' > "$root/var/lib/sss/db/cache_example.ldb"
  echo 'not a real token' > "$root/var/run/secrets/kubernetes.io/serviceaccount/token"
  echo 'default' > "$root/var/run/secrets/kubernetes.io/serviceaccount/namespace"
  echo '<h1>shop</h1>' > "$root/var/www/html/index.html"
  : > "$root/var/log/messages"
  tar -C "$root" -c . | docker import - "$image" >/dev/null
  rm -rf "$root"
fi

# The benign fleet's images (test/rules/fleet.test.ts): ordinary workloads that must stay silent.
bash scripts/fleet-images.sh

# Podman: the test image, and its Docker-compatible API on the socket Eunomia looks for.
if ! podman image exists "localhost/$image" 2>/dev/null; then
  say "loading $image into podman"
  docker save "$image" | podman load >/dev/null
fi
if ! curl -sf --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null 2>&1; then
  say "starting the podman API service"
  mkdir -p /var/log/eunomia-test /run/podman
  setsid podman system service --time=0 unix:///run/podman/podman.sock >/var/log/eunomia-test/podman.log 2>&1 < /dev/null &
  wait_for podman curl -sf --unix-socket /run/podman/podman.sock http://d/_ping
fi

# Rootless Podman (test/containers/podman.test.ts): an unprivileged user with subordinate ids,
# and the test image in that user's own storage.
rootless=eunomia-podman
if ! id "$rootless" >/dev/null 2>&1; then
  say "adding the user $rootless (rootless Podman)"
  useradd -m -s /bin/sh "$rootless"
fi
grep -q "^$rootless:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$rootless"
if ! su -s /bin/sh - "$rootless" -c "podman image exists localhost/$image" 2>/dev/null; then
  say "loading $image into $rootless's podman"
  docker save "$image" | su -s /bin/sh - "$rootless" -c 'podman load' >/dev/null
fi

# runc with its bind mount of /proc/self/exe refused, so that it copies itself to a memfd
# instead (test/runtime/runc-no-bind.c): the runtime-setup tests see both of runc's paths on
# one machine, whichever this host's runc would take by itself.
nobind=/usr/local/libexec/eunomia-test/runc-no-bind
if [ ! -x "$nobind" ] || [ test/runtime/runc-no-bind.c -nt "$nobind" ]; then
  mkdir -p "$(dirname "$nobind")"
  cc -O2 -Wall -Werror -DRUNC="\"$(command -v runc)\"" -o "$nobind" test/runtime/runc-no-bind.c
fi

# The same image in containerd's Kubernetes namespace, for containers made the way CRI makes them.
if ! ctr -n k8s.io images ls -q 2>/dev/null | grep -qx "docker.io/$image"; then
  say "importing $image into containerd (k8s.io)"
  docker save "$image" | ctr -n k8s.io images import - >/dev/null
fi

# The Helm chart's renderer (test/deploy/k8s-render.go), from Debian's Go libraries in GOPATH
# form: no module download. The test rebuilds it too when its source is newer.
render=/usr/local/libexec/eunomia-test/k8s-render
if [ ! -x "$render" ] || [ test/deploy/k8s-render.go -nt "$render" ]; then
  say "building $render"
  mkdir -p "$(dirname "$render")"
  GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE=/var/cache/eunomia-test/go-build go build -o "$render" test/deploy/k8s-render.go
fi
