/**
 * Per-tracker slow-down: a workload that hits the tracker's hook, its rate untraced and
 * traced, alternating (untraced, traced, untraced) in one run. Ratio = untraced / traced.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { systemClock } from '../src/core/clock.js';
import { TrackerManager } from '../src/runtime/manager.js';
import type { NativeBinding } from '../src/core/native.js';
import { countingSink } from '../src/pipeline/handlers.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { trackers } from '../src/trackers/registry.js';

/** Which bench/work.c mode hits each tracker's hottest hook. */
export const WORKLOADS: Record<string, { mode: string; note?: string }> = {
  process: { mode: 'exec' },
  files: { mode: 'readwrite' },
  syscall: { mode: 'getppid' },
  syscount: { mode: 'getppid' },
  opensnoop: { mode: 'openclose' },
  sigsnoop: { mode: 'kill' },
  mountsnoop: { mode: 'mount' },
  oomkill: { mode: 'mmap', note: 'its hook fires only on OOM kills' },
  bindsnoop: { mode: 'bind' },
  capable: { mode: 'mmap', note: 'mmap makes a CAP_SYS_ADMIN check per call' },
  ipc: { mode: 'ipc' },
  tcpconnect: { mode: 'connect' },
  tcpconnlat: { mode: 'connect' },
  tcprtt: { mode: 'pingpong' },
};

/** Asynchronous on purpose: Eunomia's event loop must keep consuming while the workload runs. */
async function rate(work: string, mode: string, seconds: number): Promise<number> {
  const { stdout } = await promisify(execFile)(work, [mode, String(seconds)], { encoding: 'utf8' });
  return Number(stdout.trim());
}

export interface Overhead {
  tracker: string;
  mode: string;
  untraced: number;
  traced: number;
  ratio: number;
  events: number;
  lost: number;
  note?: string;
}

export async function measureOverheads(native: NativeBinding, work: string, seconds = 1.5): Promise<Overhead[]> {
  const out: Overhead[] = [];
  for (const t of trackers) {
    const w = WORKLOADS[t.name];
    if (!w) {
      console.log(`${t.name}: no workload defined in bench/overhead.ts`);
      continue;
    }
    const before = await rate(work, w.mode, seconds);
    const sink = countingSink();
    const pipeline = new Pipeline({ sinks: [sink] });
    const m = new TrackerManager({ native, clock: systemClock(), emit: pipeline.push });
    const inst = m.start(t);
    const traced = await rate(work, w.mode, seconds);
    const stats = await m.stop(inst.id);
    await pipeline.close();
    const afterRate = await rate(work, w.mode, seconds);
    const untraced = (before + afterRate) / 2;
    const r: Overhead = { tracker: t.name, mode: w.mode, untraced, traced, ratio: untraced / traced, events: stats.events, lost: stats.lostKernel + stats.lostQueue };
    if (w.note) r.note = w.note;
    out.push(r);
  }
  return out;
}

export function overheadTable(rows: Overhead[]): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const lines = ['tracker      workload   untraced ops/s  traced ops/s  slow-down  events      lost'];
  for (const r of rows) {
    lines.push(
      `${r.tracker.padEnd(12)} ${r.mode.padEnd(10)} ${fmt(r.untraced).padStart(14)} ${fmt(r.traced).padStart(13)} ${(r.ratio.toFixed(2) + '×').padStart(9)}  ` +
        `${fmt(r.events).padEnd(11)} ${r.lost}${r.note ? `   (${r.note})` : ''}`,
    );
  }
  return lines.join('\n');
}
