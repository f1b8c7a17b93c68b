/**
 * A benign fleet stays silent: 22 containers running ordinary workloads (web servers and
 * their clients, Docker health checks, redis with a writer and a queue worker, sqlite jobs,
 * cron, backups, file processing in /tmp, syslog and logrotate, package queries, Node
 * services) are started, exec'd into, restarted and stopped under the agent as `eunomia
 * server` runs it (its default trackers plus those every built-in rule needs), and not one
 * alert may name them. The agent must have seen each container's programs (exec events from
 * every container, and every `docker exec`), so the silence means something.
 *
 * The images are made by scripts/fleet-images.sh (with `docker import`: no registry).
 * Workloads run with Docker's defaults (its seccomp profile, its capabilities) unless a
 * hardened container says otherwise; nobody opens an interactive shell, which is not benign.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '../../src/alerts/index.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { dockerAsync, needsDocker, removeContainers, uniqueName } from '../docker.js';

const V = 1; // the version in scripts/fleet-images.sh
const BUSYBOX = `eunomia-fleet/busybox:${V}`;
const DEBIAN = `eunomia-fleet/debian:${V}`;
const NODE = `eunomia-fleet/node:${V}`;
const imageMissing = [BUSYBOX, DEBIAN, NODE].find((i) => spawnSync('docker', ['image', 'inspect', i], { stdio: 'ignore', timeout: 10_000 }).status !== 0);
const needsFleet = needsDocker || (imageMissing !== undefined && `no image ${imageMissing} (run scripts/fleet-images.sh as root)`);

/** An operator's `docker exec`: without a terminal, or with one (`-t`) for a program that is not a shell. */
interface Exec {
  cmd: string[];
  tty?: boolean;
  /** What its output must show: proof the workload did its work. */
  expect?: RegExp;
}
const x = (...cmd: string[]): Exec => ({ cmd });
const t = (...cmd: string[]): Exec => ({ cmd, tty: true });
const proof = (expect: RegExp, ...cmd: string[]): Exec => ({ cmd, expect });

interface Member {
  role: string;
  image: string;
  /** `docker run` flags. */
  flags?: string[];
  cmd: string[];
  /** Run once the fleet is up, and again after the restart for those restarted. */
  execs?: Exec[];
  restart?: boolean;
  /** A one-shot job: `docker run` waits for it to exit (0). */
  once?: boolean;
}

/** An entrypoint script that repeats `body` every `pause` seconds and exits on SIGTERM, as `docker stop` asks. */
const loop = (body: string, pause: number): string[] => ['sh', '-c', `trap 'exit 0' TERM; while :; do ${body}; sleep ${pause} & wait $!; done`];
/**
 * Docker's own health check, run by the engine in the container every 3 s (with Docker's
 * default 30 s timeout: a loaded 2-core machine can take seconds to start a probe).
 */
const health = (cmd: string): string[] => ['--health-cmd', cmd, '--health-interval', '3s', '--health-retries', '5'];
const alias = (name: string): string[] => ['--network-alias', name];
const hardened = (user: string): string[] => ['--user', user, '--read-only', '--cap-drop', 'ALL'];
const POSITIVE = /^[1-9]\d*$/m;

const FLEET: Member[] = [
  // web: two busybox httpd servers (one unprivileged with a CGI page), their clients
  {
    role: 'web', image: BUSYBOX, restart: true,
    flags: [...alias('web'), ...health('wget -q -O /dev/null http://127.0.0.1:8080/health')],
    cmd: ['httpd', '-f', '-v', '-p', '8080', '-h', '/var/www'],
    execs: [x('ps'), t('top', '-b', '-n', '1'), x('cat', '/var/www/index.html')],
  },
  {
    role: 'static', image: BUSYBOX, flags: [...alias('static'), '--user', '33:33'],
    cmd: ['httpd', '-f', '-v', '-p', '8081', '-h', '/var/www'],
    execs: [x('ls', '-l', '/var/www'), x('du', '-s', '/var/www')],
  },
  { role: 'web-client', image: BUSYBOX, cmd: loop(`wget -q -O - http://web:8080/ | grep -q works && echo ok; wget -q -O - http://web:8080/items.csv | awk -F, '{ s += $2 } END { print "sum", s }'`, 2) },
  { role: 'cgi-client', image: BUSYBOX, cmd: loop('wget -q -O - http://static:8081/cgi-bin/status | grep load', 2) },
  // scheduled jobs: crond with the image's crontab, a backup loop
  {
    role: 'cron', image: BUSYBOX, restart: true, cmd: ['crond', '-f', '-l', '8', '-L', '/dev/stdout'],
    execs: [x('crontab', '-l'), x('run-parts', '/etc/periodic/jobs'), proof(/Filesystem/, 'cat', '/var/lib/app/report.txt')],
  },
  { role: 'backup', image: BUSYBOX, cmd: loop('tar -czf /tmp/site-$(date +%s).tar.gz -C /var/www . && ls -t /tmp/site-*.tar.gz | tail -n +4 | xargs -r rm -f', 3), execs: [x('ls', '-l', '/tmp')] },
  // file processing in /tmp
  {
    role: 'files', image: BUSYBOX, restart: true,
    cmd: loop(`d=$(mktemp -d); seq 1 5000 | awk '{ print $1 % 97, $1 }' > $d/in.txt; sort -n $d/in.txt | cut -d' ' -f1 | uniq -c > $d/counts.txt; gzip -c $d/counts.txt > $d/counts.gz; awk -v p=$d/part- '{ print > (p int(NR / 1000)) }' $d/in.txt; sha256sum $d/* > /tmp/sums.new && mv /tmp/sums.new /tmp/last.sums; rm -rf $d`, 2),
    execs: [proof(/part-/, 'cat', '/tmp/last.sums')],
  },
  {
    role: 'convert', image: BUSYBOX, flags: [...hardened('65534:65534'), '--tmpfs', '/tmp:uid=65534,gid=65534'],
    cmd: loop(`seq 1 2000 | sed 's/$/,item/' > /tmp/in.csv; tr a-z A-Z < /tmp/in.csv | sort -t, -k1,1nr > /tmp/out.csv; mv /tmp/out.csv /tmp/done.csv; rm /tmp/in.csv`, 2),
    execs: [proof(/2000/, 'wc', '-l', '/tmp/done.csv')],
  },
  // logs: busybox syslogd fed by logger, rotated by the script every 5 s (syslogd reopens its file)
  {
    role: 'syslog', image: BUSYBOX,
    cmd: ['sh', '-c', `syslogd -O /var/log/messages; trap 'exit 0' TERM; i=0; while :; do i=$((i + 1)); logger -t app "request $i served in $((i % 50)) ms"; [ $((i % 10)) != 0 ] || { mv /var/log/messages /var/log/messages.1 && gzip -f /var/log/messages.1; }; sleep 0.5 & wait $!; done`],
    execs: [proof(/app: request/, 'tail', '-n', '3', '/var/log/messages'), proof(/messages\.1\.gz/, 'ls', '/var/log')],
  },
  // an idle sidecar, with Docker's init as pid 1; someone looks around in it
  // (its root's shell history then goes with the container's layers when it is removed)
  { role: 'idle', image: BUSYBOX, flags: ['--init'], cmd: ['sleep', '86400'], execs: [x('hostname'), x('nslookup', 'web'), x('env'), x('cat', '/etc/resolv.conf'), x('sh', '-c', 'echo hostname >> /root/.ash_history')] },
  { role: 'status-client', image: BUSYBOX, cmd: loop('wget -q -O - http://api2:3001/status && wget -q -O /dev/null http://api2:3001/orders', 2) },

  // a database: redis, a writer and a queue worker; sqlite jobs
  {
    role: 'redis', image: DEBIAN, restart: true,
    flags: [...alias('redis'), ...health('redis-cli ping | grep -q PONG')],
    cmd: ['redis-server', '--save', '5', '1', '--dir', '/data', '--protected-mode', 'no'],
    execs: [x('redis-cli', 'INFO', 'server'), t('redis-cli', 'DBSIZE'), proof(POSITIVE, 'redis-cli', 'GET', 'hits')],
  },
  { role: 'redis-writer', image: DEBIAN, cmd: loop('i=$(redis-cli -h redis INCR hits) && redis-cli -h redis LPUSH jobs "job-$i" > /dev/null', 1) },
  { role: 'redis-worker', image: DEBIAN, cmd: loop('job=$(redis-cli -h redis BRPOP jobs 2 | tail -n 1); [ -z "$job" ] || redis-cli -h redis SADD done "$job" > /dev/null', 0.5) },
  {
    role: 'sqlite', image: DEBIAN,
    cmd: loop(`sqlite3 /var/lib/app/app.db "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, at TEXT, kind TEXT); INSERT INTO events(at, kind) VALUES (datetime('now'), 'tick'); DELETE FROM events WHERE id < (SELECT max(id) - 500 FROM events);" && sqlite3 /var/lib/app/app.db 'SELECT kind, count(*) FROM events GROUP BY kind' > /dev/null`, 2),
    execs: [x('sqlite3', '-readonly', '/var/lib/app/app.db', '.tables'), proof(POSITIVE, 'sqlite3', '/var/lib/app/app.db', 'SELECT count(*) FROM events'), proof(/^ok$/m, 'sqlite3', '/var/lib/app/app.db', 'PRAGMA integrity_check')],
  },
  {
    role: 'migrate', image: DEBIAN, once: true,
    cmd: ['sqlite3', '/var/lib/app/app.db', "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users(name) VALUES ('ada'), ('bob'); PRAGMA integrity_check;"],
  },
  // an application log rotated by logrotate (size 2k, compressed, 3 kept)
  {
    role: 'logrotate', image: DEBIAN, restart: true,
    cmd: loop('for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$(date -u) GET /api/items 200 $RANDOM" >> /var/log/app/app.log; done; logrotate -s /var/lib/logrotate/status /etc/logrotate.conf', 2),
    execs: [x('logrotate', '-d', '/etc/logrotate.conf'), proof(/app\.log\.1\.gz/, 'ls', '-l', '/var/log/app')],
  },
  // package queries, as inventory scanners and people make them (the real dpkg, by its path:
  // busybox's sh would run its own dpkg applet)
  {
    role: 'inventory', image: DEBIAN,
    cmd: loop(`/usr/bin/dpkg -l > /dev/null; dpkg-query -W -f '\${Package} \${Version}\\n' > /tmp/packages.txt; /usr/bin/dpkg -s redis-tools > /dev/null; /usr/bin/dpkg -L sqlite3 > /dev/null; redis-server --version > /dev/null; sqlite3 --version > /dev/null`, 5),
    execs: [proof(/ii {2}logrotate/, 'dpkg', '-l'), x('dpkg-query', '-W', 'logrotate'), x('dpkg', '--print-architecture'), proof(/^sqlite3: /m, 'dpkg', '-S', '/usr/bin/sqlite3')],
  },

  // Node services: a JSON API with Docker's health check in node, its client, a file worker,
  // and a hardened second API (read-only, no capabilities, nobody)
  {
    role: 'api', image: NODE, restart: true,
    flags: [...alias('api'), ...health('node /app/healthcheck.js')],
    cmd: ['node', '/app/server.js'],
    execs: [x('node', '--version'), proof(POSITIVE, 'cat', '/var/lib/app/hits'), x('node', '-e', "fetch('http://127.0.0.1:3000/status').then((r) => r.text()).then(console.log)")],
  },
  { role: 'api-client', image: NODE, cmd: ['node', '/app/client.js', 'http://api:3000/items'] },
  { role: 'node-worker', image: NODE, restart: true, flags: ['--init'], cmd: ['node', '/app/worker.js'], execs: [x('ls', '/tmp')] },
  {
    role: 'api2', image: NODE,
    flags: [...alias('api2'), ...hardened('65534:65534'), '--tmpfs', '/var/lib/app:uid=65534,gid=65534', '--tmpfs', '/var/log/app:uid=65534,gid=65534', '-e', 'PORT=3001', ...health('node /app/healthcheck.js')],
    cmd: ['node', '/app/server.js'],
    execs: [proof(POSITIVE, 'cat', '/var/lib/app/hits')],
  },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when `pending` returns nothing, polling each 500 ms; rejects after `ms` with what is still pending. */
async function until(pending: () => Promise<string[]>, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let left = await pending(); left.length > 0; left = await pending()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${left.join('; ')}`);
    await sleep(500);
  }
}

interface ContainerRef {
  full_id?: string;
  name?: string;
  /** On the runtime's own work in a container's cgroup (id `host`): that container. */
  setup?: ContainerRef;
}
const containerOf = (ev: { container?: unknown }): ContainerRef => (ev.container && typeof ev.container === 'object' ? ev.container : {}) as ContainerRef;

describe('a benign fleet stays silent', { skip: needsFleet }, () => {
  let agent: Agent;
  const network = uniqueName('fleet-net');
  const names = new Map<string, Member>(); // container name → member
  const nameOf = new Map<Member, string>();
  const ids = new Map<string, string>(); // full id → container name
  const execs = new Map<string, { prog: string; vpid: number }[]>(); // container name → exec events seen
  const byTracker = new Map<string, number>(); // tracker → the fleet's events it reported
  const setupExecs = new Map<string, string[]>(); // container name → execs given to the runtime's setup of it
  const alerts: Alert[] = [];
  for (const m of FLEET) {
    const name = uniqueName(`fleet-${m.role}`);
    names.set(name, m);
    nameOf.set(m, name);
    execs.set(name, []);
  }

  before(async () => {
    const config = defaultConfig(); // `eunomia server`: default trackers + every rule's (the agent adds them)
    config.rules.burst = 100_000; // every alert, not a throttled few
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    agent.analyzer!.subscribe((a) => alerts.push(a));
    const write = agent.streams.write.bind(agent.streams);
    agent.streams.write = (ev: TrackerEvent) => {
      const c = containerOf(ev.data);
      const seen = execs.get(c.name ?? '');
      if (c.setup?.name && names.has(c.setup.name) && ev.tracker === 'process' && ev.data.type === 'exec') {
        setupExecs.set(c.setup.name, [...(setupExecs.get(c.setup.name) ?? []), `${String(ev.data.prog)} (vpid ${String(ev.data.vpid)})`]);
      }
      if (seen) {
        byTracker.set(ev.tracker, (byTracker.get(ev.tracker) ?? 0) + 1);
        if (ev.tracker === 'process' && ev.data.type === 'exec') seen.push({ prog: String(ev.data.prog ?? ev.data.comm), vpid: Number(ev.data.vpid) });
      }
      write(ev);
    };
    await dockerAsync('network', 'create', network);
  });

  after(async () => {
    await agent?.close();
    removeContainers(...names.keys());
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore', timeout: 30_000 });
  });

  async function run(m: Member): Promise<void> {
    const name = nameOf.get(m)!;
    const args = ['run', ...(m.once ? [] : ['-d']), '--name', name, '--hostname', m.role, '--network', network, ...(m.flags ?? []), m.image, ...m.cmd];
    await dockerAsync(...args);
    ids.set(await dockerAsync('inspect', '-f', '{{.Id}}', name), name);
  }

  /**
   * Each of the member's execs in turn; returns what an `expect` did not find. A proof is tried
   * up to 3 times, a second apart: it may look between two steps of the workload (a log just
   * rotated away, not written again yet).
   */
  async function execAll(m: Member): Promise<string[]> {
    const failed: string[] = [];
    for (const e of m.execs ?? []) {
      for (let attempt = 1; ; attempt++) {
        const out = await dockerAsync('exec', ...(e.tty ? ['-t'] : []), nameOf.get(m)!, ...e.cmd).catch((err: Error) => `failed: ${err.message}`);
        if (!e.expect || e.expect.test(out.replace(/\r/g, ''))) break;
        if (attempt === 3) {
          failed.push(`${m.role}: ${e.cmd.join(' ')} → ${out.slice(0, 300)}`);
          break;
        }
        await sleep(1000);
      }
    }
    return failed;
  }

  /** The health-checked members that are not healthy (yet), with their state and last probe. */
  const checked = FLEET.filter((m) => m.flags?.includes('--health-cmd'));
  const unhealthy = async (): Promise<string[]> => {
    const states = await Promise.all(checked.map(async (m) => {
      const s = JSON.parse(await dockerAsync('inspect', '-f', '{{json .State}}', nameOf.get(m)!)) as { Status: string; Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] } };
      const last = s.Health?.Log?.at(-1);
      return s.Health?.Status === 'healthy' ? '' : `${m.role} ${s.Status}/${s.Health?.Status}${last ? ` (last probe: exit ${last.ExitCode} ${last.Output.trim().slice(0, 200)})` : ''}`;
    }));
    return states.filter(Boolean);
  };

  test(`${FLEET.length} ordinary containers run, are exec'd into, restarted and stopped: no alert names them`, { timeout: 400_000 }, async (ctx) => {
    // Servers first, so the clients find them; then everything else at once.
    const servers = FLEET.filter((m) => m.flags?.includes('--network-alias'));
    await Promise.all(servers.map(run));
    await Promise.all(FLEET.filter((m) => !servers.includes(m)).map(run));
    await until(unhealthy, 'the health checks to pass', 120_000);
    await sleep(10_000); // the workloads at work

    const failed = (await Promise.all(FLEET.map(execAll))).flat();

    // Restarts (`docker restart` stops with SIGTERM, starts the same container again).
    const restarted = FLEET.filter((m) => m.restart);
    await Promise.all(restarted.map((m) => dockerAsync('restart', '-t', '5', nameOf.get(m)!)));
    await until(unhealthy, 'the health checks to pass after the restarts', 120_000);
    await sleep(8_000);
    failed.push(...(await Promise.all(restarted.map(execAll))).flat());

    // Stop and remove everything, as a deploy would, and give the last events time to arrive.
    await Promise.all(FLEET.filter((m) => !m.once).map((m) => dockerAsync('stop', '-t', '5', nameOf.get(m)!)));
    await Promise.all([...names.keys()].map((name) => dockerAsync('rm', name)));
    await sleep(3_000);

    // The silence means something: every container's programs were seen, each docker exec too,
    // and each restarted container's first process twice; the files they opened and the
    // connections they made were seen too.
    const blind: string[] = [];
    for (const tracker of ['process', 'opensnoop', 'tcpconnect']) {
      if (!byTracker.get(tracker)) blind.push(`${tracker}: no event from the fleet (events by tracker: ${JSON.stringify(Object.fromEntries(byTracker))})`);
    }
    for (const [name, m] of names) {
      const seen = execs.get(name)!;
      const setup = setupExecs.get(name);
      const asSetup = setup ? ` (execs given to the runtime's setup of it: ${setup.join(', ')})` : '';
      if (seen.length === 0) blind.push(`${m.role}: no exec event${asSetup}`);
      for (const e of m.execs ?? []) {
        const prog = e.cmd[0]!.replace(/^.*\//, '');
        if (!seen.some((s) => s.prog === prog)) blind.push(`${m.role}: docker exec ${e.cmd.join(' ')} not seen`);
      }
      if (m.restart && seen.filter((s) => s.vpid === 1).length < 2) blind.push(`${m.role}: its restart was not seen (${seen.filter((s) => s.vpid === 1).length} starts)${asSetup}`);
    }

    ctx.diagnostic(`the fleet's events by tracker: ${JSON.stringify(Object.fromEntries(byTracker))}`);
    // The fleet's alerts, those on the runtime's work in setting its containers up, and those on
    // the runtimes' own work on the host while they ran and removed them.
    const ours = alerts.filter((a) => fleetName(containerOf(a), ids, names) !== undefined || (containerOf(a).full_id === 'host' && RUNTIMES.has(a.process?.comm ?? '')));
    // One assertion, so that a failure shows all three.
    assert.deepEqual({ failed, blind, alerts: report(ours, names, ids) }, { failed: [], blind: [], alerts: [] }, 'workloads that did not do their work, what the agent did not see, alerts from the benign fleet');
  });
});

/** The container runtimes' programs on the host. */
const RUNTIMES = new Set(['dockerd', 'containerd', 'containerd-shim', 'docker-proxy', 'runc']);

/** Alerts grouped by rule, program and role, counted, with one message each. */
function report(list: Alert[], names: Map<string, Member>, ids: Map<string, string>): string[] {
  const groups = new Map<string, { n: number; message: string }>();
  for (const a of list) {
    const c = containerOf(a);
    const name = fleetName(c, ids, names);
    const role = `${names.get(name ?? '')?.role ?? '?'}${c.setup ? ' (runtime setup)' : ''}`;
    const key = `${a.rule}  ${a.process?.comm ?? '?'} (${a.process?.exe ?? '?'})  in ${role}`;
    const g = groups.get(key) ?? { n: 0, message: a.message };
    g.n++;
    groups.set(key, g);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, g]) => `${g.n}× ${k}: ${g.message}`);
}

/** The fleet container an event's `container` names (or whose setup it is), if any. */
function fleetName(c: ContainerRef, ids: Map<string, string>, names: Map<string, Member>): string | undefined {
  for (const r of [c, c.setup]) {
    if (r?.name !== undefined && names.has(r.name)) return r.name;
    if (r?.full_id !== undefined && ids.has(r.full_id)) return ids.get(r.full_id);
  }
  return undefined;
}
