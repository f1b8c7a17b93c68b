#!/usr/bin/env bash
# The images of the benign fleet (test/rules/fleet.test.ts): ordinary workloads that must
# raise no alert. No registry is reachable, so each image is a rootfs assembled here and
# brought in with `docker import`:
#
#   eunomia-fleet/busybox:V  busybox-static: httpd, wget, crond, sh, awk, gzip, tar …
#   eunomia-fleet/debian:V   the same, plus glibc programs from Debian's packages: redis
#                            (redis-tools), sqlite3, logrotate, and dpkg with a status file
#                            that lists what the image holds (for package queries)
#   eunomia-fleet/node:V     the same busybox, plus this machine's own node and its libraries
#
# Idempotent: an image that exists is kept (a second or so for all three). V is in the tag:
# change a recipe, bump V, and machines with the old images build the new ones. Needs root
# (Docker) and Debian's apt (the packages are fetched with `apt-get download`, never installed).
set -euo pipefail
cd "$(dirname "$0")/.."

V=1 # test/rules/fleet.test.ts names the same version
BUSYBOX=eunomia-fleet/busybox:$V
DEBIAN=eunomia-fleet/debian:$V
NODE=eunomia-fleet/node:$V

say() { printf 'fleet-images: %s\n' "$*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
if have "$BUSYBOX" && have "$DEBIAN" && have "$NODE"; then exit 0; fi

if [ "$(id -u)" -ne 0 ]; then say "not root: cannot build the fleet's images (the fleet test will skip)"; exit 0; fi
[ -x /bin/busybox ] || { say "/bin/busybox missing: install busybox-static (scripts/test-env.sh does)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# busybox_root DIR: a busybox rootfs with the users, web content, crontab and config the
# fleet's workloads use. Everything a workload runs comes from the image (nothing the
# container writes is executed).
busybox_root() {
  local r=$1
  mkdir -p "$r"/{bin,sbin,etc,tmp,root,proc,sys,dev,usr/bin,usr/sbin,usr/local/bin,var/log/app,var/lib/app,var/run,data}
  mkdir -p "$r"/var/www/cgi-bin "$r"/var/spool/cron/crontabs "$r"/etc/periodic/jobs
  chmod 1777 "$r/tmp"
  cp /bin/busybox "$r/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  cat > "$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
redis:x:100:101:redis:/data:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat > "$r/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
redis:x:101:
nogroup:x:65534:
EOF
  printf 'NAME="Eunomia fleet"\nID=eunomia-fleet\nVERSION_ID=%s\n' "$V" > "$r/etc/os-release"
  # a static site and a CGI status page
  printf '<!doctype html><title>fleet</title><h1>It works</h1>\n' > "$r/var/www/index.html"
  echo ok > "$r/var/www/health"
  seq 1 2000 | awk '{ printf "item %d,%d\n", $1, $1 * 7 % 13 }' > "$r/var/www/items.csv"
  cat > "$r/var/www/cgi-bin/status" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "time $(date -u +%s)"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "free $(df -k /tmp | awk 'NR == 2 { print $4 }')"
EOF
  chmod 755 "$r/var/www/cgi-bin/status"
  # cron: a report every minute, from the image's own job scripts
  echo '* * * * * run-parts /etc/periodic/jobs' > "$r/var/spool/cron/crontabs/root"
  cat > "$r/etc/periodic/jobs/report" <<'EOF'
#!/bin/sh
# a disk and process report, and clean-up of old scratch files
{ date -u; df -k /tmp; ps; } > /var/lib/app/report.txt
find /tmp -type f -mmin +5 -delete
EOF
  chmod 755 "$r/etc/periodic/jobs/report"
}

# add_libs ROOT: copies into ROOT the shared libraries (and loader) its ELF programs need,
# from ROOT first, else from this machine (same path).
add_libs() {
  local r=$1 f lib
  local lp="$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu"
  while IFS= read -r f; do
    head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
    LD_LIBRARY_PATH=$lp ldd "$f" 2>/dev/null | grep -q 'not a dynamic' && continue
    if LD_LIBRARY_PATH=$lp ldd "$f" | grep -q 'not found'; then
      say "$f: libraries not found: $(LD_LIBRARY_PATH=$lp ldd "$f" | grep 'not found' | tr -s ' \t\n' ' ')"; exit 1
    fi
    for lib in $(LD_LIBRARY_PATH=$lp ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
      case $lib in "$r"/*) continue ;; esac
      [ -e "$r$lib" ] || { mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"; }
    done
  done < <(find "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib" -type f 2>/dev/null)
}

# import_root ROOT IMAGE
import_root() {
  tar -C "$1" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$2" >/dev/null
}

# The busybox root, made once and copied for each image (its ~270 links take seconds to make).
busybox_root "$work/base"
root_for() { cp -a "$work/base" "$work/$1"; echo "$work/$1"; }

if ! have "$BUSYBOX"; then
  say "importing $BUSYBOX"
  import_root "$work/base" "$BUSYBOX"
fi

if ! have "$DEBIAN"; then
  say "importing $DEBIAN"
  # Debian's packages, downloaded once (kept in /var/cache/eunomia-fleet) and unpacked, not installed.
  debs=(redis-server redis-tools libjemalloc2 liblzf1 sqlite3 libsqlite3-0 libreadline8 logrotate libpopt0)
  cache=/var/cache/eunomia-fleet/debs
  mkdir -p "$cache"
  need=()
  for p in "${debs[@]}"; do compgen -G "$cache/${p}_*.deb" >/dev/null || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    say "downloading ${need[*]}"
    (cd "$cache" && apt-get download -qq "${need[@]}" >/dev/null 2>&1) ||
      { apt-get update -qq >/dev/null && (cd "$cache" && apt-get download -qq "${need[@]}" >/dev/null); }
  fi
  r=$(root_for debian)
  mkdir -p "$r"/var/lib/dpkg/info "$r"/var/lib/dpkg/updates "$r"/var/lib/logrotate "$r"/etc/logrotate.d
  status="$r/var/lib/dpkg/status"
  : > "$status"
  for p in "${debs[@]}"; do
    deb=$(compgen -G "$cache/${p}_*.deb" | head -n1)
    dpkg-deb -x "$deb" "$r"
    # dpkg's own record of it, so `dpkg -l`, `dpkg -s`, `dpkg -L` answer as on Debian
    dpkg-deb -f "$deb" | sed '/^Package:/a Status: install ok installed' >> "$status"
    echo >> "$status"
    dpkg-deb -c "$deb" | awk '{ p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); print (p == "" ? "/." : p) }' > "$r/var/lib/dpkg/info/$p.list"
  done
  : > "$r/var/lib/dpkg/available"
  rm -rf "$r"/usr/share/doc "$r"/usr/share/man "$r"/usr/share/lintian "$r"/etc/init.d "$r"/lib/systemd "$r"/usr/lib/systemd
  # the machine's dpkg for the queries
  cp /usr/bin/dpkg /usr/bin/dpkg-query "$r/usr/bin/"
  # the real programs, not busybox's applets of the same name, for `docker exec` (PATH order)
  for f in "$r"/usr/bin/* "$r"/usr/sbin/*; do rm -f "$r/bin/${f##*/}"; done
  # logrotate's configuration: the app's logs, rotated by size (the loop in the test runs it)
  cat > "$r/etc/logrotate.conf" <<'EOF'
/var/log/app/*.log {
    size 2k
    rotate 3
    compress
    missingok
    notifempty
    create 0640 root root
}
EOF
  add_libs "$r"
  import_root "$r" "$DEBIAN"
fi

if ! have "$NODE"; then
  say "importing $NODE"
  r=$(root_for node)
  node=$(command -v node) || { say "no node on this machine"; exit 1; }
  cp -L "$node" "$r/usr/bin/node"
  mkdir -p "$r/app"
  # A small JSON API that keeps a count in a file and spawns df for its status page.
  cat > "$r/app/server.js" <<'EOF'
const http = require('node:http');
const fs = require('node:fs');
const { execFile } = require('node:child_process');
const port = Number(process.env.PORT || 3000);
const state = '/var/lib/app/hits';
let hits = 0;
try { hits = Number(fs.readFileSync(state, 'utf8')) || 0; } catch {}
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok\n');
  if (req.url === '/status') {
    return execFile('df', ['-k', '/tmp'], (err, out) => res.end(JSON.stringify({ hits, df: err ? null : out.split('\n')[1] }) + '\n'));
  }
  hits++;
  fs.writeFileSync(state + '.tmp', String(hits));
  fs.renameSync(state + '.tmp', state);
  fs.appendFileSync('/var/log/app/access.log', `${new Date().toISOString()} ${req.method} ${req.url}\n`);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ hits, host: require('node:os').hostname() }) + '\n');
}).listen(port, () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => process.exit(0));
EOF
  # Docker's health check for it, the way node images do it: no curl, node's own fetch.
  cat > "$r/app/healthcheck.js" <<'EOF'
fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`)
  .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
EOF
  # A client that calls another service every half second.
  cat > "$r/app/client.js" <<'EOF'
const url = process.argv[2];
let ok = 0;
setInterval(() => {
  fetch(url).then((r) => r.json()).then(() => { if (++ok % 20 === 1) console.log(`ok ${ok}`); }, (e) => console.log(`error ${e.message}`));
}, 500);
process.on('SIGTERM', () => process.exit(0));
EOF
  # A worker that processes files in /tmp: writes a batch, reads it back, checksums, compresses, removes.
  cat > "$r/app/worker.js" <<'EOF'
const fs = require('node:fs');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const dir = fs.mkdtempSync('/tmp/batch-');
let n = 0;
setInterval(() => {
  const f = `${dir}/in-${n++}.csv`;
  fs.writeFileSync(f, Array.from({ length: 500 }, (_, i) => `${i},${Math.random()}`).join('\n'));
  const data = fs.readFileSync(f);
  fs.writeFileSync(`${f}.gz`, zlib.gzipSync(data));
  fs.appendFileSync(`${dir}/sums`, `${crypto.createHash('sha256').update(data).digest('hex')}  ${f}\n`);
  fs.unlinkSync(f);
  for (const old of fs.readdirSync(dir).filter((x) => x.endsWith('.gz')).slice(0, -5)) fs.unlinkSync(`${dir}/${old}`);
}, 300);
process.on('SIGTERM', () => process.exit(0));
EOF
  add_libs "$r"
  import_root "$r" "$NODE"
fi
