/**
 * What Eunomia costs before it does its work, and the memory it holds while it does:
 *  - each command's module graph (ES and CommonJS modules, counted by bench/module-count.ts)
 *    and spawn → exit;
 *  - spawn → attached and reading: `eunomia run <tracker>` for every tracker (its "started"
 *    line comes after attach, with the readers open), `eunomia server` with the defaults (the
 *    API answers once every tracker is attached);
 *  - RSS: `run process` idle; the server idle, at ~100,000 events/s for 90 s, and a minute
 *    after a burst of API work (hot loads, bad bodies, lists);
 *  - the exec storm: its speed with `run process` ÷ without, the consumer's CPU (exec-storm.ts).
 * By turns with another build's bin/eunomia.js when EUNOMIA_BENCH_VS names one. Commands run
 * as programs, as users run them (the #! line's Node flags apply).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBpf, repoRoot } from '../test/helpers.js';
import { trackers } from '../src/trackers/registry.js';
import { requiredFlags } from '../test/helpers.js';
import { bin, quantiles, refuseUnbundled, startServer, stopServer, vsBin } from './server.js';
import { execStormBench } from './exec-storm.js';

const COMMANDS = [['version'], ['trackers'], ['run', 'process', '--help'], ['rules', 'list'], ['client', '--help'], ['server', '--help']];
const counter = join(repoRoot, 'dist/bench/module-count.js');
const bins = vsBin ? [bin, vsBin] : [bin];
const who = (b: string): string => (vsBin ? `  [${b}]` : '');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The server's defaults include Prometheus metrics; only their port is the bench's own. */
function metricsOn(): { args: string[]; url: string } {
  const at = `127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}`;
  return { args: ['--metrics-listen', at], url: `http://${at}/metrics` };
}

/**
 * Where a process's RSS is, from /proc/PID/smaps: Node's own binary (its code and data as
 * touched), the malloc heap, the rings mapped in (BPF maps), other anonymous memory (V8's heap,
 * thread stacks, other malloc arenas); and V8's heap by space, from the agent's own metrics.
 */
export async function whereItIs(pid: number, metricsUrl: string): Promise<string> {
  const kib = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const what = head[1]!;
      name = what === process.execPath || what.endsWith('/node') ? 'node binary' : what === '[heap]' ? 'malloc heap' : what.startsWith('anon_inode:bpf-map') ? 'rings' : what === '' || what.startsWith('[') ? 'anonymous' : 'libraries';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kib.set(name, (kib.get(name) ?? 0) + Number(rss[1]));
  }
  const parts = [...kib].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`);
  const text = await (await fetch(metricsUrl)).text();
  const spaces = [...text.matchAll(/^nodejs_heap_space_size_used_bytes\{space="(\w+)"\} (\d+)/gm)].filter((m) => Number(m[2]) >= 1 << 20).map((m) => `${m[1]} ${(Number(m[2]) / 1048576).toFixed(1)}`);
  return `${parts.join(', ')} MiB; V8 heap used: ${spaces.join(', ')} MiB`;
}

/** Spawn → exit, without the counting hooks (they slow the load). */
function time(b: string, args: string[]): number {
  const t0 = performance.now();
  spawnSync(b, args, { stdio: 'ignore' });
  return performance.now() - t0;
}

function modulesOf(b: string, args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', counter, b, ...args], { encoding: 'utf8' });
  return /modules: (.*)/.exec(r.stderr)?.[1] ?? `? (${r.stderr.trim().split('\n').pop()})`;
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

function commandGraphs(runs = 7): void {
  console.log(`command footprint: spawn → exit, median of ${runs} (by turns with other builds), and the modules it loads:`);
  for (const args of COMMANDS) {
    const times = bins.map(() => [] as number[]);
    const modules = bins.map((b) => modulesOf(b, args));
    for (let i = 0; i < runs; i++) for (const [k, b] of bins.entries()) times[k]!.push(time(b, args));
    for (const [k, b] of bins.entries()) {
      const med = [...times[k]!].sort((x, y) => x - y)[Math.floor(runs / 2)]!;
      console.log(`  eunomia ${args.join(' ').padEnd(20)} ${med.toFixed(0).padStart(5)} ms  modules: ${modules[k]}${who(b)}`);
    }
  }
}

/** `eunomia run <tracker>`: spawn → its "started" line; then SIGINT. */
async function runStart(b: string, tracker: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(b, ['run', tracker, '-o', '/dev/null', ...requiredFlags(tracker)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const end = Date.now() + 20_000;
  while (!/tracker started/.test(err)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`eunomia run ${tracker} did not start: ${err}`);
    await sleep(2);
  }
  const t = performance.now() - t0;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  return t;
}

async function startTimes(runs: number): Promise<void> {
  console.log(`spawn → attached and reading, ${runs} runs each (targets: run p50 ≤ 250 ms, server p50 ≤ 600 ms):`);
  for (const t of trackers) {
    const xs = bins.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) for (const [k, b] of bins.entries()) xs[k]!.push(await runStart(b, t.name));
    for (const [k, b] of bins.entries()) console.log(`  run ${t.name.padEnd(12)} ${quantiles(xs[k]!)}${who(b)}`);
  }
  const xs = bins.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, b] of bins.entries()) {
      const t0 = performance.now();
      const { child } = await startServer(metricsOn().args, b);
      xs[k]!.push(performance.now() - t0);
      await stopServer(child);
    }
  }
  for (const [k, b] of bins.entries()) console.log(`  server (defaults)    ${quantiles(xs[k]!)}${who(b)}`);
}

async function runIdle(b: string): Promise<void> {
  const child = spawn(b, ['run', 'process', '-o', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  while (!/started/.test(err) && child.exitCode === null) await sleep(20);
  await sleep(10_000);
  const rss = rssMiB(child.pid!);
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  console.log(`  run process, idle 10 s after start: RSS ${rss.toFixed(1)} MiB (target ≤ 60 MB)${who(b)}`);
}

/** 9,000 requests: hot loads (and their stops), bad bodies, lists. */
async function apiBurst(base: string, object: string): Promise<void> {
  const post = (body: string): Promise<Response> => fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  for (let i = 0; i < 300; i++) {
    const r = await post(JSON.stringify({ program: { name: 'opensnoop-lite', object } }));
    const { id } = (await r.json()) as { id: number };
    await (await fetch(`${base}/instances/${id}`, { method: 'DELETE' })).arrayBuffer();
  }
  for (let i = 0; i < 4200; i++) {
    await (await post(i % 2 ? '{"tracker": 12}' : `{"program": {"name": "x", "object": "${'A'.repeat(4096)}"}}`)).arrayBuffer();
    await (await fetch(`${base}/instances`)).arrayBuffer();
  }
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, 100/s
}

/** Events every instance counted, and records lost (in the kernel's ring or the reader's queue). */
async function eventsSeen(base: string): Promise<{ events: number; lost: number }> {
  const { instances } = (await (await fetch(`${base}/instances`)).json()) as { instances: { stats: { events: number; lostKernel: number; lostQueue: number } }[] };
  return instances.reduce((n, i) => ({ events: n.events + i.stats.events, lost: n.lost + i.stats.lostKernel + i.stats.lostQueue }), { events: 0, lost: 0 });
}

/**
 * Opens at 100,000/s for `seconds` (opensnoop's and files' events through the rules, the streams,
 * metrics): the server's RSS every 10 s while they run, and where its memory is at the last.
 */
async function underLoad(pid: number, work: string, seconds: number, metricsUrl: string): Promise<{ rss: number[]; where: string }> {
  const load = spawn(work, ['openclose', String(seconds), '100000'], { stdio: 'ignore' });
  const done = new Promise((r) => load.once('exit', r));
  const rss: number[] = [];
  for (let t = 10; t < seconds; t += 10) {
    await sleep(10_000);
    rss.push(rssMiB(pid));
  }
  const where = await whereItIs(pid, metricsUrl);
  await done;
  return { rss, where };
}

async function serverMemory(b: string, work: string, viaNode = false): Promise<void> {
  const metrics = metricsOn();
  const { child, base } = await startServer(metrics.args, b, viaNode);
  try {
    await sleep(25_000);
    const idle = rssMiB(child.pid!);
    const idleWhere = await whereItIs(child.pid!, metrics.url);
    const [ticks0, events0] = [cpuTicks(child.pid!), await eventsSeen(base)];
    const { rss: under, where: loadWhere } = await underLoad(child.pid!, work, 90, metrics.url);
    const seen = await eventsSeen(base);
    const events = seen.events - events0.events;
    const lost = seen.lost - events0.lost;
    const usPerEvent = (((cpuTicks(child.pid!) - ticks0) / 100) * 1e6) / events;
    const object = readFileSync(buildBpf(join(repoRoot, 'examples/opensnoop-lite/opensnoop.bpf.c'))).toString('base64');
    await apiBurst(base, object);
    const burst = rssMiB(child.pid!);
    await sleep(60_000);
    const after = rssMiB(child.pid!);
    console.log(
      `  server (defaults${viaNode ? ', as node bin/eunomia.js: without the #! line\'s flags' : ''}): idle ${idle.toFixed(1)} MiB (target ≤ 80 MB); ` +
        `at 100,000 opens/s every 10 s: ${under.map((x) => x.toFixed(0)).join(' ')} MiB (target ≤ 100 MB), ${usPerEvent.toFixed(2)} µs of CPU per event, ${lost} lost of ${events + lost}; ` +
        `after 9,000 API requests ${burst.toFixed(1)} MiB, a minute later ${after.toFixed(1)} MiB (target < 100 MB)${who(b)}`,
    );
    console.log(`    where, idle: ${idleWhere}`);
    console.log(`    where, at 100,000 opens/s: ${loadWhere}`);
  } finally {
    await stopServer(child);
  }
}

/**
 * The server loaded from its first second: what its start left in V8's young generation is not
 * shrunk by an idle spell first (as it is before serverMemory's load, 25 s after the start).
 */
export async function serverLoadedAtOnce(b: string, work: string): Promise<void> {
  const metrics = metricsOn();
  const { child, base } = await startServer(metrics.args, b);
  try {
    const { rss: under, where: loadWhere } = await underLoad(child.pid!, work, 70, metrics.url);
    const { events, lost } = await eventsSeen(base);
    console.log(`  server (defaults) at 100,000 opens/s from the moment it listens, every 10 s: ${under.map((x) => x.toFixed(0)).join(' ')} MiB (target ≤ 100 MB), ${lost} lost of ${events + lost}${who(b)}`);
    console.log(`    where, at the end: ${loadWhere}`);
  } finally {
    await stopServer(child);
  }
}

/** `part`: only one of commands, start, memory, exec (`npm run bench -- footprint memory`). */
export async function footprintBench(work: string, part?: string): Promise<void> {
  const parts = ['commands', 'start', 'memory', 'exec'];
  if (part !== undefined && !parts.includes(part)) throw new Error(`footprint has no part "${part}" (parts: ${parts.join(', ')})`);
  refuseUnbundled(bins);
  const want = (p: string): boolean => part === undefined || part === p;
  if (want('commands')) commandGraphs();
  if (want('start')) await startTimes(7);
  if (want('memory')) {
    console.log('memory (RSS):');
    for (const b of bins) await runIdle(b);
    for (const b of bins) await serverMemory(b, work);
    for (const b of bins) await serverLoadedAtOnce(b, work);
    // What the launcher's Node flags (#! line) buy and cost: the same server without them.
    await serverMemory(bin, work, true);
  }
  // The exec storm's slow-down with `run process`, and its consumer's CPU (bench/exec-storm.ts).
  if (want('exec')) await execStormBench();
}
