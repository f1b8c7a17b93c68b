/**
 * The process tracker's environment scan, timed in the kernel: handle_exec's mean run time
 * (BPF run-time stats) over execs of /bin/true (bench/work.c exec) that inherit environments
 * of 0 to 350 variables. The scan is the only part of the program whose work depends on the
 * environment, so its cost is the time minus the time with the empty environment.
 *
 *   node dist/bench/process-env.js [BEFORE_DIR]
 *
 * BEFORE_DIR holds another build's process.bpf.o: both builds are then attached together, so
 * they time the same execs, and Δ is this build's figure minus that one's.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../src/core/clock.js';
import { preflight } from '../src/core/kernel.js';
import { TrackerManager } from '../src/runtime/manager.js';
import { findTracker } from '../src/trackers/registry.js';
import { loadNative } from '../src/core/native.js';
import { objectDir } from '../src/core/paths.js';
import { enableBpfStats } from '../src/metrics/bpf-stats.js';
import { isRoot, repoRoot } from '../test/helpers.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function vars(n: number, make: (i: number) => string): Record<string, string> {
  const env: Record<string, string> = { PATH };
  for (let i = 1; i < n; i++) {
    const [k, v] = make(i).split('=');
    env[k!] = v!;
  }
  return env;
}

/** A container's, a login shell's, a Kubernetes pod's with service links, and one where every value the tracker reads is set. */
const ENVS: Record<string, Record<string, string>> = {
  empty: {},
  'small (3)': { PATH, HOME: '/root', HOSTNAME: '4f2a9c1e7b3d' },
  'shell (39)': vars(39, (i) => `SHELL_VARIABLE_${i}=/home/user/.local/app${i}`),
  'k8s (350)': vars(350, (i) => `BACKEND_SERVICE_${i}_PORT_8080_TCP=tcp://10.96.${i >> 8}.${i & 255}:8080`),
  'all read (8)': {
    PATH,
    HOME: '/root',
    LD_PRELOAD: '/tmp/x.so',
    LD_LIBRARY_PATH: '/opt/lib',
    HTTPS_PROXY: 'http://proxy.internal:3128',
    http_proxy: 'http://proxy.internal:3128',
    GLIBC_TUNABLES: 'glibc.malloc.mxfast=0',
    LANG: 'C.UTF-8',
  },
};

const envBytes = (env: Record<string, string>): number => Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length + 2, 0);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('process-env bench: needs root (CAP_BPF and CAP_PERFMON) — run with sudo');
    process.exitCode = 1;
    return;
  }
  const native = loadNative();
  preflight(native);
  const work = join(mkdtempSync(join(tmpdir(), 'eunomia-work-')), 'work');
  execFileSync('cc', ['-O2', '-o', work, join(repoRoot, 'bench/work.c')]);
  const builds: Record<string, string> = process.argv[2] ? { before: process.argv[2], after: objectDir } : { now: objectDir };
  const statsOff = enableBpfStats(native, console.log);
  if (!statsOff) return;
  const managers = Object.fromEntries(Object.entries(builds).map(([b, dir]) => [b, new TrackerManager({ native, clock: systemClock(), emit: () => {}, objectDir: dir })]));
  const rounds = 20; // an even number: pairs of rounds
  const ns: Record<string, Record<string, number[]>> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [envName, env] of Object.entries(ENVS)) {
        // Both builds attached at once see the same execs under the same load; which one
        // runs first (and warms the caches for the other) alternates.
        const order = Object.keys(builds);
        if (r % 2) order.reverse();
        const insts = order.map((b) => [b, managers[b]!.start(findTracker('process'))] as const);
        await promisify(execFile)(work, ['exec', '0.4'], { env });
        for (const [b, inst] of insts) {
          await managers[b]!.stop(inst.id);
          const p = inst.programStats().find((x) => x.program === 'handle_exec')!;
          ((ns[b] ??= {})[envName] ??= []).push(p.runTimeNs / p.runCount);
        }
      }
    }
  } finally {
    for (const m of Object.values(managers)) await m.stopAll();
    statsOff();
  }
  // Which build ran first weighs much (the first meets the task's memory cold): each figure is
  // taken over a pair of rounds, one in each order, and the median over the pairs is shown.
  const pairs = (xs: number[]): number[] => xs.filter((_, r) => r % 2 === 0).map((x, p) => (x + xs[2 * p + 1]!) / 2);
  const cols = Object.keys(builds);
  const runs = (b: string, envName: string): number[] => pairs(ns[b]![envName]!);
  const scan = (b: string, envName: string): number[] => runs(b, envName).map((x, p) => x - runs(b, 'empty')[p]!);
  const diff = (f: (b: string, e: string) => number[], envName: string): number[] => f(cols[1]!, envName).map((y, p) => y - f(cols[0]!, envName)[p]!);
  const us = (x: number[]): string => `${(median(x) / 1000).toFixed(2)} µs`.padStart(9);
  console.log(`process tracker, handle_exec per exec of /bin/true, and the environment scan in it (medians over ${rounds / 2} pairs of 0.4 s rounds):`);
  const delta = cols.length === 2 ? '   Δ program      Δ scan' : '';
  console.log(`${'environment'.padEnd(14)} ${'bytes'.padStart(6)}${cols.map((b) => `${b}: program`.padStart(18) + 'scan'.padStart(10)).join('')}${delta}`);
  for (const [envName, env] of Object.entries(ENVS)) {
    let line = `${envName.padEnd(14)} ${String(envBytes(env)).padStart(6)}`;
    for (const b of cols) line += `${us(runs(b, envName)).padStart(18)} ${us(scan(b, envName))}`;
    if (cols.length === 2) line += `   ${us(diff(runs, envName))}   ${us(diff(scan, envName))}`;
    console.log(line);
  }
}

await main();
