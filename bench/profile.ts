/**
 * What profiling costs (issue 18), printed, asserted nowhere (`npm run bench -- profile`):
 *  1. `profile` on a CPU-bound loop: its rate (iterations per CPU-second) with no profiler, with
 *     the profile tracker sampling every CPU at 49 Hz and at 999 Hz, by turns; and the user-space
 *     time of a report (reading the double-buffered maps, naming the stacks);
 *  2. naming addresses in a process with many mapped libraries (a Node process: libnode, ICU,
 *     OpenSSL, libuv …): 10,000 addresses from its executable mappings, cold (the ELF symbol
 *     tables parsed) and warm (cached by build id);
 *  3. `funclatency` per call: a loop calling an empty function, untraced and with the function
 *     measured (a uprobe and a uretprobe), by turns;
 *  4. `memleak`'s slow-down of its target: a malloc+free loop (user mode, -p) and a socket+close
 *     loop (kernel mode), at sample rate 1 (the default, as bcc's) and 100, by turns.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import type { NativeBinding } from '../src/core/native.js';
import { TrackerManager } from '../src/runtime/manager.js';
import { profileTracker } from '../src/trackers/profile/index.js';
import { funclatencyTracker } from '../src/trackers/funclatency/index.js';
import { memleakTracker } from '../src/trackers/memleak/index.js';
import { Symbolizer } from '../src/profiling/symbols/index.js';

const SPIN_C = `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static volatile unsigned long sink;
static __attribute__((noinline)) void work(void) { for (int i = 0; i < 1000; i++) sink += i * i; }
int main(int argc, char **argv) {
	double secs = atof(argv[1]), t0 = cpu();
	unsigned long n = 0;
	while (cpu() - t0 < secs) { for (int i = 0; i < 100; i++) work(); n += 100; }
	printf("%.0f\\n", n / (cpu() - t0));
	return 0;
}
`;
// Calls an empty function for SECONDS of CPU time; prints calls per CPU-second.
const CALLS_C = `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
__attribute__((noinline)) void empty_fn(void) { __asm__ volatile(""); }
int main(int argc, char **argv) {
	double secs = atof(argv[1]), t0 = cpu();
	unsigned long n = 0;
	while (cpu() - t0 < secs) { for (int i = 0; i < 64; i++) empty_fn(); n += 64; }
	printf("%.0f\\n", n / (cpu() - t0));
	return 0;
}
`;
// Waits for a line on stdin (the tracker attached), then for SECONDS of CPU time mallocs and frees
// 64 bytes ("malloc") or opens and closes a socket ("socket"); prints operations per CPU-second.
const ALLOC_C = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	char c;
	if (read(0, &c, 1) != 1) return 1;
	int sock = !strcmp(argv[1], "socket");
	double secs = atof(argv[2]), t0 = cpu();
	unsigned long n = 0;
	while (cpu() - t0 < secs) {
		for (int i = 0; i < 16; i++) {
			if (sock) close(socket(AF_INET, SOCK_DGRAM, 0));
			else { void *volatile p = malloc(64); free(p); }
		}
		n += 16;
	}
	printf("%.0f\\n", n / (cpu() - t0));
	return 0;
}
`;
const TURNS = 5;
const WINDOW_S = 1.5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function spin(binPath: string, args: string[] = [String(WINDOW_S)]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(binPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`spin exited ${code}`))));
  });
}

async function samplingCost(native: NativeBinding, spinBin: string): Promise<void> {
  const rates: Record<string, number[]> = { none: [], '49': [], '999': [] };
  const reportMs: Record<string, number[]> = { '49': [], '999': [] };
  const samples: Record<string, number[]> = { '49': [], '999': [] };
  for (let t = 0; t < TURNS; t++) {
    rates.none!.push(await spin(spinBin));
    for (const hz of ['49', '999']) {
      let n = 0;
      const m = new TrackerManager({ native, clock: systemClock(), emit: (ev) => void (n += Number((ev.data as { count: number }).count)) });
      // Every CPU, every process: what `eunomia run profile` does by default. A long interval:
      // the report is timed once, at stop.
      const inst = m.start(profileTracker, { frequency: Number(hz), interval: 3600 });
      rates[hz]!.push(await spin(spinBin));
      const t0 = performance.now();
      await m.stop(inst.id);
      reportMs[hz]!.push(performance.now() - t0);
      samples[hz]!.push(n);
    }
    rates.none!.push(await spin(spinBin));
  }
  const base = median(rates.none!);
  console.log(`1. profile on a CPU-bound loop (iterations per CPU-second, ${WINDOW_S} s runs by turns, ${TURNS} each, medians; ±5 % is noise here):`);
  console.log(`     no profiler ${fmt(base)}`);
  for (const hz of ['49', '999']) {
    const r = median(rates[hz]!);
    console.log(
      `     -F ${hz.padEnd(3)} ${fmt(r)}: ${(base / r).toFixed(3)}× slow-down; ${fmt(median(samples[hz]!))} samples on 2 CPUs per run; ` +
        `the stop's report (read the maps, name the stacks, every process on the host) ${median(reportMs[hz]!).toFixed(0)} ms`,
    );
  }
}

/** 10,000 addresses from the executable mappings of a Node process, named cold and warm. */
async function symbolization(): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const pid = child.pid!;
    const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
    const exec = maps.map((l) => l.split(/\s+/)).filter((f) => f[1]!.includes('x') && f[5]?.startsWith('/'));
    const files = new Set(exec.map((f) => f[5]));
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const addrs: bigint[] = [];
    for (let i = 0; i < 10_000; i++) {
      const [range] = exec[Math.floor(rand() * exec.length)]!;
      const [lo, hi] = range!.split('-').map((x) => BigInt(`0x${x}`)) as [bigint, bigint];
      addrs.push(lo + BigInt(Math.floor(rand() * Number(hi - lo))));
    }
    const sym = new Symbolizer();
    const t0 = performance.now();
    const cold = sym.user(pid, addrs);
    const t1 = performance.now();
    sym.user(pid, addrs);
    const t2 = performance.now();
    const named = cold.filter((f) => f.resolved).length;
    const s = sym.stats();
    console.log(`2. naming 10,000 addresses of a Node process (${files.size} mapped files with code):`);
    console.log(
      `     cold ${(t1 - t0).toFixed(0)} ms (${s.parsedFiles} symbol tables parsed, ${(s.cachedBytes / 2 ** 20).toFixed(1)} MiB cached), ` +
        `warm ${(t2 - t1).toFixed(1)} ms (${(((t2 - t1) * 1000) / addrs.length).toFixed(2)} µs per address); ${named} named`,
    );
  } finally {
    child.kill();
  }
}

/** funclatency on an empty function: ns per call added (the uprobe and uretprobe traps dominate). */
async function funclatencyCost(native: NativeBinding, callsBin: string): Promise<void> {
  const untraced: number[] = [];
  const traced: number[] = [];
  for (let t = 0; t < TURNS; t++) {
    untraced.push(await spin(callsBin));
    const m = new TrackerManager({ native, clock: systemClock(), emit: () => {} });
    const inst = m.start(funclatencyTracker, { func: `${callsBin}:empty_fn`, interval: 3600 });
    traced.push(await spin(callsBin));
    await m.stop(inst.id);
  }
  untraced.push(await spin(callsBin));
  const u = median(untraced);
  const tr = median(traced);
  console.log(`3. funclatency on an empty function (calls per CPU-second, ${WINDOW_S} s runs by turns, medians):`);
  console.log(`     untraced ${fmt(u)} (${(1e9 / u).toFixed(1)} ns per call), measured ${fmt(tr)}: ${((1e9 / tr - 1e9 / u) / 1000).toFixed(1)} µs added per call (a uprobe and a uretprobe: two traps into the kernel)`);
}

/** One run of the alloc workload, with memleak on it (options) or not (undefined). */
async function allocRun(native: NativeBinding, allocBin: string, mode: string, options?: Record<string, unknown>): Promise<number> {
  const c = spawn(allocBin, [mode, String(WINDOW_S)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => c.on('exit', r));
  // Until its C library is mapped (it then waits on stdin): memleak probes the one it maps.
  for (let i = 0; i < 200 && !readFileSync(`/proc/${c.pid}/maps`, 'utf8').includes('libc'); i++) await new Promise((r) => setTimeout(r, 10));
  const m = new TrackerManager({ native, clock: systemClock(), emit: () => {} });
  const inst = options ? m.start(memleakTracker, { ...options, ...(mode === 'malloc' ? { pid: c.pid! } : { kernel: true, pid: c.pid! }), interval: 3600 }) : undefined;
  c.stdin.end('\n');
  await exited;
  if (inst) await m.stop(inst.id);
  return Number(out.trim());
}

async function memleakCost(native: NativeBinding, allocBin: string): Promise<void> {
  console.log(`4. memleak on its target (operations per CPU-second, ${WINDOW_S} s runs by turns, medians):`);
  for (const mode of ['malloc', 'socket']) {
    const rates: Record<string, number[]> = { none: [], '1': [], '100': [] };
    for (let t = 0; t < 3; t++) {
      rates.none!.push(await allocRun(native, allocBin, mode));
      for (const rate of ['1', '100']) rates[rate]!.push(await allocRun(native, allocBin, mode, { sampleRate: Number(rate) }));
    }
    rates.none!.push(await allocRun(native, allocBin, mode));
    const base = median(rates.none!);
    const what = mode === 'malloc' ? 'malloc(64)+free, user mode (-p)' : 'socket+close, kernel mode (--kernel -p)';
    console.log(
      `     ${what.padEnd(42)} untraced ${fmt(base)}; --sample-rate 1 (default) ${fmt(median(rates['1']!))} (${(base / median(rates['1']!)).toFixed(1)}×), ` +
        `--sample-rate 100 ${fmt(median(rates['100']!))} (${(base / median(rates['100']!)).toFixed(1)}×)`,
    );
  }
}

export async function profileBench(native: NativeBinding): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-bench-profile-'));
  writeFileSync(join(dir, 'spin.c'), SPIN_C);
  const spinBin = join(dir, 'spin');
  execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', spinBin, join(dir, 'spin.c')]);
  writeFileSync(join(dir, 'calls.c'), CALLS_C);
  const callsBin = join(dir, 'calls');
  execFileSync('cc', ['-O1', '-o', callsBin, join(dir, 'calls.c')]);
  writeFileSync(join(dir, 'alloc.c'), ALLOC_C);
  const allocBin = join(dir, 'alloc');
  execFileSync('cc', ['-O1', '-o', allocBin, join(dir, 'alloc.c')]);
  console.log('profiling:');
  await samplingCost(native, spinBin);
  await symbolization();
  await funclatencyCost(native, callsBin);
  await memleakCost(native, allocBin);
}
