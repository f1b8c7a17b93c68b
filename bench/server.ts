/**
 * `eunomia server`: how long POST /instances takes for a built-in tracker and for a hot-loaded
 * program, until its first event reaches a stream client; and what an idle server with the
 * default trackers costs (RSS, CPU). The server runs as its own process. Its start and memory
 * under load: bench/footprint.ts.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBpf, repoRoot } from '../test/helpers.js';
import { openStream } from '../test/server/sse.js';

export const bin = join(repoRoot, 'bin/eunomia.js');
/** Another build's bin/eunomia.js to compare with, run by turns with this one (EUNOMIA_BENCH_VS). */
export const vsBin = process.env.EUNOMIA_BENCH_VS;

/** A launcher that falls back to the unbundled modules (bin/eunomia.js) would measure another program. */
export function refuseUnbundled(bins: string[]): void {
  for (const b of bins) {
    const said = spawnSync(b, ['version'], { encoding: 'utf8' }).stderr;
    if (said.includes('unbundled')) throw new Error(`${b}: ${said.trim()} — run "bash scripts/setup.sh" in that build first`);
  }
}

let stores: string | undefined;
/**
 * A fresh event store for each server, in a directory of this run (removed when it exits): the
 * default one, /var/lib/eunomia/events.db, holds what earlier runs on the machine stored (a
 * 400 MB one moved the idle server's RSS by 4 MiB), and both builds compared would share it.
 */
function storeArgs(port: number): string[] {
  if (!stores) {
    const dir = (stores = mkdtempSync(join(tmpdir(), 'eunomia-bench-store-')));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return ['--store', join(stores, `events-${port}.db`)];
}

/** Run as a program, as users run it (its #! line's Node flags apply); `viaNode`: as `node bin/eunomia.js`, without them. */
export async function startServer(args: string[], which = bin, viaNode = false): Promise<{ child: ChildProcess; base: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const argv = ['server', '--listen', `127.0.0.1:${port}`, ...storeArgs(port), ...args];
  const child = viaNode ? spawn(process.execPath, [which, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(which, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  // Resolved by the line's arrival, not a poll: start times are measured to here.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s: ${err}`)), 20_000);
    const done = (e?: Error): void => {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    };
    const onData = (d: Buffer): void => {
      err += d;
      if (/server listening/.test(err)) done();
    };
    const onExit = (): void => done(new Error(`server did not start: ${err}`));
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
  // Keep draining stderr: a full pipe would block the server's log writes.
  child.stderr!.resume();
  return { child, base: `http://127.0.0.1:${port}` };
}

/** The /proc fdinfo texts of a process's open descriptors (those closed meanwhile left out). */
export function fdInfos(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      out.push(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

export async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

export function quantiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): string => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
  return `p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`;
}

async function startToFirstEvent(base: string, body: () => unknown, runs: number): Promise<{ start: number[]; first: number[] }> {
  const stream = await openStream(`${base}/events`);
  await stream.next('ready');
  const start: number[] = [];
  const first: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body()) });
      const t1 = performance.now();
      if (r.status !== 201) throw new Error(`POST /instances: ${r.status} ${await r.text()}`);
      const { id } = (await r.json()) as { id: number };
      await stream.until((e) => e.instance === id, 10_000);
      const t2 = performance.now();
      start.push(t1 - t0);
      first.push(t2 - t0);
      await fetch(`${base}/instances/${id}`, { method: 'DELETE' });
    }
  } finally {
    stream.close();
  }
  return { start, first };
}

/** RSS and CPU of the server process over `seconds`, after it settled. */
async function idle(seconds: number, args: string[], what: string, which = bin): Promise<void> {
  const { child } = await startServer([...args, '--metrics-listen', 'off'], which);
  try {
    // Settled: past the start's garbage and its first large collection (at 5 s a build could
    // show 40 MiB it was about to free, and less CPU than it spends idle).
    await new Promise((r) => setTimeout(r, 25_000));
    const ticks = (): number => {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
    };
    const t0 = ticks();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = ((ticks() - t0) / 100 / seconds) * 100;
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
    console.log(`idle server (${what})${which === bin ? '' : ` [${which}]`}, over ${seconds} s: RSS ${rss.toFixed(1)} MiB (target ≤ 80 MB), CPU ${cpu.toFixed(2)} % of a core (target ≤ 1 %)`);
  } finally {
    await stopServer(child);
  }
}

/** POST /instances for a built-in tracker and for a pushed object, against one build's server. */
async function apiTimes(object: string, which: string): Promise<void> {
  const label = which === bin ? '' : ` [${which}]`;
  const { child, base } = await startServer(['--no-trackers', '--no-containers'], which);
  try {
    const runs = 50;
    const t = await startToFirstEvent(base, () => ({ tracker: 'process' }), runs);
    console.log(`POST /instances {tracker: process}, ${runs} runs (server in its own process)${label}:`);
    // The process tracker drains its ring every 50 ms (LOW_RATE_POLL_MS): its first event waits up to that.
    console.log(`  answered: ${quantiles(t.start)} (target p95 ≤ 50 ms); first event on a stream client: ${quantiles(t.first)}`);
    const p = await startToFirstEvent(base, () => ({ program: { name: 'opensnoop-lite', object } }), runs);
    console.log(`POST /instances {program: examples/opensnoop-lite, ${Math.round((object.length * 3) / 4 / 1024)} KiB object}, ${runs} runs${label}:`);
    console.log(`  answered: ${quantiles(p.start)}; push to first event on a stream client: ${quantiles(p.first)} (target p95 ≤ 100 ms)`);
  } finally {
    await stopServer(child);
  }
}

export async function serverBench(): Promise<void> {
  refuseUnbundled(vsBin ? [bin, vsBin] : [bin]);
  // As examples/README.md builds it: compiled, then stripped of DWARF (the BTF stays).
  const built = buildBpf(join(repoRoot, 'examples/opensnoop-lite/opensnoop.bpf.c'));
  execFileSync('llvm-strip-16', ['-g', built]);
  const object = readFileSync(built).toString('base64');
  // Something to report: an exec (and its opens) every few ms, all through the runs.
  const load = spawn('sh', ['-c', 'while :; do /bin/true; sleep 0.005; done'], { stdio: 'ignore' });
  try {
    // By turns with the other build, when there is one.
    for (const b of vsBin ? [bin, vsBin, bin, vsBin] : [bin]) await apiTimes(object, b);
  } finally {
    load.kill();
  }
  for (const b of vsBin ? [bin, vsBin] : [bin]) {
    await idle(30, [], 'defaults: process, files, tcpconnect, containers, rules with opensnoop, mountsnoop, secsnoop, bindsnoop', b);
    await idle(30, ['--no-safe'], 'process, files, tcpconnect, containers; --no-safe', b);
  }
}
