/**
 * `eunomia doctor`'s run time: spawn → exit of `eunomia doctor --json` as users run it, the
 * report's own time (it says), and each kernel probe's (open + load + attach + detach; they
 * run at once, so they add up to more than the whole). `npm run bench -- doctor`.
 */
import { spawnSync } from 'node:child_process';
import { bin, quantiles } from './server.js';

interface Report {
  ms: number;
  programKinds: { kind: string; ok: boolean; ms: number }[];
}

export function doctorBench(runs = 9): void {
  console.log(`eunomia doctor --json, ${runs} runs (spawn → exit; the report's own time; each probe's):`);
  const wall: number[] = [];
  const own: number[] = [];
  const perKind = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(bin, ['doctor', '--json'], { encoding: 'utf8', timeout: 60_000 });
    wall.push(performance.now() - t0);
    if (r.status !== 0 && r.status !== 1) throw new Error(`eunomia doctor failed (${r.status}): ${r.stderr}`);
    const rep = JSON.parse(r.stdout) as Report;
    own.push(rep.ms);
    for (const k of rep.programKinds) perKind.set(k.kind, [...(perKind.get(k.kind) ?? []), k.ms]);
  }
  console.log(`  spawn → exit        ${quantiles(wall)}`);
  console.log(`  the report itself   ${quantiles(own)}`);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`  probes, median ms:  ${[...perKind].map(([k, xs]) => `${k} ${median(xs).toFixed(0)}`).join(', ')}`);
}
