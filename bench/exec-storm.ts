/**
 * The exec path's cost (issue 16): a loop fork+exec-ing /bin/true, untraced and with the real
 * CLI (`eunomia run process`, to /dev/null and to a drained pipe: the default table), by turns,
 * each traced run between two untraced ones (the machine's load drifts), medians. For each traced run the consumer's CPU (utime + stime of all
 * its threads, /proc/PID/stat) over the loop's window: % of a core and µs per event (an exec
 * and an exit per loop). Then a paced run at EXEC_STORM_PACE exec/s (default 500) for the
 * "% of a core at 500 exec/s" figure. Prints figures, asserts nothing.
 *
 *   node dist/bench/exec-storm.js
 *   EXEC_STORM_VS=/tmp/exec-before/bin/eunomia.js node dist/bench/exec-storm.js   # by turns with another build
 *   EXEC_STORM_ROUNDS=5 EXEC_STORM_SECONDS=3 EXEC_STORM_PACE=500 EXEC_STORM_WARMUP=4 (unmeasured seconds of the loop first: V8 optimizes the event path only after a few thousand events; 0: none)
 *   EXEC_STORM_C_TOOL='/path/execsnoop'   # also a C tool, by turns (its output to /dev/null; EXEC_STORM_C_TOOL_EVENTS=1 events per exec)
 *   EXEC_STORM_BPF_STATS=1                # also the programs' kernel time per run (BPF stats on meanwhile)
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fdInfos } from './server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { repoRoot } from '../test/helpers.js';

/** fork + exec /bin/true for SECONDS, paced to RATE exec/s when given; prints "execs seconds". */
const LOOP_C = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	double secs = atof(argv[1]), rate = argc > 2 ? atof(argv[2]) : 0, t0 = now(), el;
	unsigned long n = 0;
	while ((el = now() - t0) < secs) {
		if (rate > 0) {
			double due = t0 + n / rate;
			struct timespec ts = { (time_t)due, (long)((due - (time_t)due) * 1e9) };
			if (due > now()) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		pid_t p = fork();
		if (p == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
		waitpid(p, NULL, 0);
		n++;
	}
	printf("%lu %.4f\\n", n, el);
	return 0;
}
`;

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const env = (k: string, d: number): number => (process.env[k] ? Number(process.env[k]) : d);

interface Loop {
  execs: number;
  seconds: number;
  rate: number;
}

async function loop(bin: string, seconds: number, pace = 0): Promise<Loop> {
  const args = [String(seconds), ...(pace ? [String(pace)] : [])];
  const { stdout } = await promisify(execFile)(bin, args, { encoding: 'utf8' });
  const [n, s] = stdout.trim().split(' ').map(Number) as [number, number];
  return { execs: n, seconds: s, rate: n / s };
}

/** utime + stime of every thread of the process, in seconds. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // fields 14 and 15, counted after "pid (comm) "
}

/** What is traced by: a build's CLI (to /dev/null, or its table to a drained pipe), or a C tool. */
interface Tracer {
  label: string;
  start(): ChildProcess;
  /** stderr text that says it is attached; undefined: wait a fixed while. */
  ready?: RegExp;
  /** Events it reports per loop iteration: Eunomia an exec and an exit; execsnoop the exec. */
  eventsPerExec: number;
}

function cliTracer(bin: string, tag: string, mode: 'devnull' | 'pipe'): Tracer {
  const args = [bin, 'run', 'process', ...(mode === 'devnull' ? ['-o', '/dev/null'] : [])];
  return {
    label: `${tag} ${mode === 'devnull' ? '-o /dev/null' : 'table | pipe'}`,
    start: () => spawn(process.execPath, args, { stdio: ['ignore', mode === 'devnull' ? 'ignore' : 'pipe', 'pipe'] }),
    ready: /tracker started/,
    eventsPerExec: 2,
  };
}

function cTracer(cmd: string): Tracer {
  const [file, ...args] = cmd.split(' ');
  return {
    label: `C tool (${[file, ...args].map((a) => a.split('/').pop()).join(' ')})`,
    start: () => spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'] }),
    eventsPerExec: env('EXEC_STORM_C_TOOL_EVENTS', 1),
  };
}

interface Traced extends Loop {
  /** Consumer CPU over the loop's window, % of one core. */
  cpuPct: number;
  /** Consumer CPU per event (eventsPerExec per loop iteration), µs. */
  usPerEvent: number;
  summary: string;
}

async function traced(t: Tracer, loopBin: string, seconds: number, pace = 0, warmup = 0): Promise<Traced> {
  const child = t.start();
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', () => {}); // drained, as a terminal or `| less` would
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const deadline = Date.now() + 30_000;
  if (t.ready) {
    while (!t.ready.test(err)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${t.label}: did not start: ${err.trim()}`);
      await sleep(50);
    }
  } else {
    await sleep(3000);
  }
  await sleep(700); // the start's garbage collected, the reader gone idle
  // Unmeasured: until V8 has optimized the event path (a few thousand events) an event costs several times more; steady state is what this measures.
  if (warmup > 0) await loop(loopBin, warmup, pace);
  const pid = child.pid!;
  const c0 = cpuOf(pid);
  const t0 = performance.now();
  const l = await loop(loopBin, seconds, pace);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuOf(pid) - c0;
  child.kill('SIGINT');
  await exited;
  const summary = /\d+ events seen.*$/m.exec(err)?.[0] ?? '';
  return { ...l, cpuPct: (100 * cpu) / wall, usPerEvent: (1e6 * cpu) / Math.max(1, t.eventsPerExec * l.execs), summary };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Turns kernel.bpf_stats_enabled on while `fn` runs (restored after), for run_time_ns per program. */
async function withBpfStats<T>(fn: () => Promise<T>): Promise<T> {
  const path = '/proc/sys/kernel/bpf_stats_enabled';
  const old = readFileSync(path, 'utf8').trim();
  writeFileSync(path, '1');
  try {
    return await fn();
  } finally {
    writeFileSync(path, old);
  }
}

/** Run time per run of the programs the process holds (their fds' fdinfo), by program name (bpftool). */
function programTimes(pid: number): Map<string, { cnt: number; ns: number }> {
  const names = new Map<number, string>();
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as { id: number; name: string }[];
  for (const p of progs) names.set(p.id, p.name);
  const out = new Map<string, { cnt: number; ns: number }>();
  for (const info of fdInfos(pid)) {
    const id = /^prog_id:\s+(\d+)/m.exec(info)?.[1];
    if (!id || !/^run_cnt:/m.test(info)) continue; // a link's fd names its program too
    const num = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    out.set(names.get(Number(id)) ?? `prog ${id}`, { cnt: num('run_cnt'), ns: num('run_time_ns') });
  }
  return out;
}

/** The kernel side: ns per run of each program, over one loop (BPF stats on meanwhile). */
async function bpfCost(t: Tracer, loopBin: string, seconds: number): Promise<string> {
  return withBpfStats(async () => {
    const child = t.start();
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    while (!t.ready!.test(err) && child.exitCode === null) await sleep(50);
    await sleep(500);
    const a = programTimes(child.pid!);
    await loop(loopBin, seconds);
    const b = programTimes(child.pid!);
    child.kill('SIGINT');
    await exited;
    const parts: string[] = [];
    for (const [name, x] of b) {
      const y = a.get(name) ?? { cnt: 0, ns: 0 };
      const runs = x.cnt - y.cnt;
      if (runs > 0) parts.push(`${name} ${((x.ns - y.ns) / runs / 1000).toFixed(1)} µs × ${runs}`);
    }
    return parts.join(', ');
  });
}

export async function execStormBench(): Promise<void> {
  const rounds = env('EXEC_STORM_ROUNDS', 5);
  const seconds = env('EXEC_STORM_SECONDS', 3);
  const pace = env('EXEC_STORM_PACE', 500);
  const warmup = env('EXEC_STORM_WARMUP', 4);
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-exec-storm-'));
  try {
    const loopBin = join(dir, 'execloop');
    writeFileSync(join(dir, 'execloop.c'), LOOP_C);
    execFileSync('cc', ['-O2', '-o', loopBin, join(dir, 'execloop.c')]);
    const builds: [string, string][] = [['this build', join(repoRoot, 'bin/eunomia.js')]];
    if (process.env.EXEC_STORM_VS) builds.push(['other build', process.env.EXEC_STORM_VS]);
    const tracers: Tracer[] = [];
    for (const [tag, bin] of builds) tracers.push(cliTracer(bin, tag, 'devnull'), cliTracer(bin, tag, 'pipe'));
    if (process.env.EXEC_STORM_C_TOOL) tracers.push(cTracer(process.env.EXEC_STORM_C_TOOL));
    if (builds.length > 1) for (const [tag, bin] of builds) console.log(`${tag}: ${bin}`);

    console.log(
      `exec storm: fork+exec /bin/true, ${seconds} s per run, ${rounds} rounds of each tracer by turns with untraced runs between, medians; ` +
        `each tracer attached and warmed by ${warmup} s of the same loop before its measured run`,
    );
    // untraced, tracer 1, untraced, tracer 2, … : each traced run is compared with the untraced
    // runs just before and after it, since the machine's load drifts.
    const untraced: number[] = [(await loop(loopBin, seconds)).rate];
    const runs = tracers.map(() => [] as Traced[]);
    const ratios = tracers.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [k, t] of tracers.entries()) {
        const x = await traced(t, loopBin, seconds, 0, warmup);
        untraced.push((await loop(loopBin, seconds)).rate);
        runs[k]!.push(x);
        ratios[k]!.push(x.rate / ((untraced.at(-1)! + untraced.at(-2)!) / 2));
      }
    }
    const base = median(untraced);
    console.log(`  untraced                     ${base.toFixed(0).padStart(6)} exec/s  (runs: ${untraced.map((x) => x.toFixed(0)).join(' ')})`);
    for (const [k, t] of tracers.entries()) {
      const rs = runs[k]!;
      const rate = median(rs.map((x) => x.rate));
      const ratio = ratios[k]!;
      console.log(
        `  ${t.label.padEnd(28)} ${rate.toFixed(0).padStart(6)} exec/s  ${median(ratio).toFixed(3)}×  consumer ${median(rs.map((x) => x.cpuPct)).toFixed(1).padStart(5)} % of a core, ` +
          `${median(rs.map((x) => x.usPerEvent)).toFixed(1).padStart(6)} µs/event  (ratios: ${ratio.map((x) => x.toFixed(2)).join(' ')}; last run: ${rs.at(-1)!.summary})`,
      );
    }

    console.log(`paced at ${pace} exec/s, ${seconds} s per run, ${rounds} rounds by turns, medians`);
    const paced = tracers.map(() => [] as Traced[]);
    for (let r = 0; r < rounds; r++) for (const [k, t] of tracers.entries()) if (!t.label.includes('pipe')) paced[k]!.push(await traced(t, loopBin, seconds, pace, warmup));
    for (const [k, t] of tracers.entries()) {
      const rs = paced[k]!;
      if (rs.length === 0) continue;
      const rate = median(rs.map((x) => x.rate));
      const pct = median(rs.map((x) => x.cpuPct));
      const us = median(rs.map((x) => x.usPerEvent));
      console.log(
        `  ${t.label.padEnd(28)} ${rate.toFixed(0).padStart(6)} exec/s  consumer ${pct.toFixed(1).padStart(5)} % of a core, ${us.toFixed(1).padStart(6)} µs/event` +
          // Not scaled to the pace: an event costs less in bigger batches, so a slower run overstates it.
          (rate < pace * 0.95 ? `  (the loop did not reach ${pace} exec/s here: a busy machine)` : ''),
      );
    }

    if (process.env.EXEC_STORM_BPF_STATS) {
      console.log('kernel time per program run (BPF stats on), one unpaced run each:');
      for (const t of tracers) if (t.ready && !t.label.includes('pipe')) console.log(`  ${t.label.padEnd(28)} ${await bpfCost(t, loopBin, seconds)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  execStormBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
