/**
 * What each command loads before it does anything: its module graph (ES and CommonJS modules,
 * counted by bench/module-count.ts) and spawn → exit. By turns with another build's
 * bin/eunomia.js when EUNOMIA_BENCH_VS names one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers.js';

const COMMANDS = [['version'], ['trackers'], ['run', 'process', '--help'], ['rules', 'list'], ['client', '--help'], ['server', '--help']];
const counter = join(repoRoot, 'dist/bench/module-count.js');

/** Spawn → exit, without the counting hooks (they slow the load). */
function time(bin: string, args: string[]): number {
  const t0 = performance.now();
  spawnSync(process.execPath, [bin, ...args], { stdio: 'ignore' });
  return performance.now() - t0;
}

function modulesOf(bin: string, args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', counter, bin, ...args], { encoding: 'utf8' });
  return /modules: (.*)/.exec(r.stderr)?.[1] ?? `? (${r.stderr.trim().split('\n').pop()})`;
}

export function footprintBench(runs = 7): void {
  const bins = [join(repoRoot, 'bin/eunomia.js'), ...(process.env.EUNOMIA_BENCH_VS ? [process.env.EUNOMIA_BENCH_VS] : [])];
  console.log(`command footprint: spawn → exit, median of ${runs} (by turns with other builds), and the modules it loads:`);
  for (const args of COMMANDS) {
    const times = bins.map(() => [] as number[]);
    const modules = bins.map((b) => modulesOf(b, args));
    for (let i = 0; i < runs; i++) for (const [k, b] of bins.entries()) times[k]!.push(time(b, args));
    for (const [k, b] of bins.entries()) {
      const med = [...times[k]!].sort((x, y) => x - y)[Math.floor(runs / 2)]!;
      console.log(`  eunomia ${args.join(' ').padEnd(20)} ${med.toFixed(0).padStart(5)} ms  modules: ${modules[k]}${bins.length > 1 ? `  [${b}]` : ''}`);
    }
  }
}
