/**
 * What profiling costs (issue 18), printed, asserted nowhere (`npm run bench -- profile`):
 *  1. `profile` on a CPU-bound loop: its rate (iterations per CPU-second) with no profiler, with
 *     the profile tracker sampling every CPU at 49 Hz and at 999 Hz, by turns; and the user-space
 *     time of a report (reading the double-buffered maps, naming the stacks);
 *  2. naming addresses in a process with many mapped libraries (a Node process: libnode, ICU,
 *     OpenSSL, libuv …): 10,000 addresses from its executable mappings, cold (the ELF symbol
 *     tables parsed) and warm (cached by build id).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import type { NativeBinding } from '../src/core/native.js';
import { TrackerManager } from '../src/runtime/manager.js';
import { profileTracker } from '../src/trackers/profile/index.js';
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
const TURNS = 5;
const WINDOW_S = 1.5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function spin(binPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(binPath, [String(WINDOW_S)], { stdio: ['ignore', 'pipe', 'inherit'] });
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

export async function profileBench(native: NativeBinding): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-bench-profile-'));
  writeFileSync(join(dir, 'spin.c'), SPIN_C);
  const spinBin = join(dir, 'spin');
  execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', spinBin, join(dir, 'spin.c')]);
  console.log('profiling:');
  await samplingCost(native, spinBin);
  await symbolization();
}
