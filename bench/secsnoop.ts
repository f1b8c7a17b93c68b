/**
 * secsnoop's path and option filters: what its hooks cost a storm of calls none of which
 * matches (renames and deletions in /tmp, by absolute and by relative path; setsockopt
 * SO_REUSEADDR). Alternating rounds of three configurations: untraced, secsnoop without the
 * rename/mkdir/utime/xattr/reboot/mknod/setsockopt programs, secsnoop whole. Per round and
 * workload the traced time per call minus the untraced one; medians over the rounds. Also the
 * hook program's own run time, as the kernel counts it (BPF stats on while this runs): on a
 * busy machine the wall-clock differences are noisy, this is not.
 */
import { execFile } from 'node:child_process';
import { closeSync } from 'node:fs';
import { promisify } from 'node:util';
import { systemClock } from '../src/core/clock.js';
import { TrackerManager } from '../src/runtime/manager.js';
import type { NativeBinding } from '../src/core/native.js';
import { countingSink } from '../src/pipeline/handlers.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { secsnoopTracker } from '../src/trackers/secsnoop/index.js';
import type { TrackerDescriptor } from '../src/runtime/types.js';

/** bench/work.c modes: each operation is one call. */
const MODES = ['rename', 'rename-rel', 'unlink', 'unlink-rel', 'setsockopt', 'getppid'];
/** The programs of the calls added with the path filters for renames, new directories, times … */
const NEWER = /^enter_(rename|mkdir|utime|futimesat|(f|l)?setxattr|reboot|mknod|setsockopt)/;

const CONFIGS: { name: string; tracker?: TrackerDescriptor }[] = [
  { name: 'untraced' },
  { name: 'without the newer programs', tracker: { ...secsnoopTracker, programs: (o) => secsnoopTracker.programs!(o).filter((p) => !NEWER.test(p)) } },
  { name: 'whole', tracker: secsnoopTracker },
];

async function nsPerCall(work: string, mode: string, seconds: number): Promise<number> {
  const { stdout } = await promisify(execFile)(work, [mode, String(seconds)], { encoding: 'utf8' });
  return 1e9 / Number(stdout.trim());
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function secsnoopBench(native: NativeBinding, work: string, rounds = 9, seconds = 0.4): Promise<void> {
  // ns[config][mode][round]
  const ns = CONFIGS.map(() => MODES.map(() => [] as number[]));
  /** Per mode and round: ns per run of its hook (enter_<call>) in the whole tracker. */
  const run = MODES.map(() => [] as number[]);
  const statsFd = native.enableBpfStats();
  let events = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < CONFIGS.length; k++) {
      const c = (k + r) % CONFIGS.length; // rotated, so that no configuration always runs first
      const tracker = CONFIGS[c]!.tracker;
      const pipeline = new Pipeline({ sinks: [countingSink()] });
      const m = new TrackerManager({ native, clock: systemClock(), emit: pipeline.push });
      const inst = tracker && m.start(tracker);
      for (let i = 0; i < MODES.length; i++) {
        const before = new Map(inst?.programStats().map((p) => [p.program, p]));
        ns[c]![i]!.push(await nsPerCall(work, MODES[i]!, seconds));
        const hook = inst && c === 2 && inst.programStats().find((p) => p.program === `enter_${MODES[i]!.replace('-rel', '')}`);
        if (!hook) continue;
        const runs = hook.runCount - before.get(hook.program)!.runCount;
        if (runs > 1000) run[i]!.push((hook.runTimeNs - before.get(hook.program)!.runTimeNs) / runs);
      }
      if (inst) events += (await m.stop(inst.id)).events;
      await pipeline.close();
    }
  }
  if (statsFd >= 0) closeSync(statsFd);
  console.log(`secsnoop: ns per call, untraced and added by the tracker (medians of ${rounds} alternating rounds of ${seconds} s; ${events} events reported meanwhile)`);
  console.log(`workload      untraced  ${CONFIGS.slice(1).map((c) => `+${c.name}`).join('  ')}  new programs alone  hook's run time`);
  for (let i = 0; i < MODES.length; i++) {
    const base = ns[0]![i]!;
    const added = CONFIGS.slice(1).map((_, j) => median(ns[j + 1]![i]!.map((v, r) => v - base[r]!)));
    const alone = median(ns[2]![i]!.map((v, r) => v - ns[1]![i]![r]!));
    console.log(
      `${MODES[i]!.padEnd(12)} ${median(base).toFixed(0).padStart(9)}  ${added.map((a, j) => `${a.toFixed(0)} ns`.padStart(CONFIGS[j + 1]!.name.length + 1)).join('  ')}  ` +
        `${`${alone.toFixed(0)} ns`.padStart(18)}  ${(run[i]!.length ? `${median(run[i]!).toFixed(0)} ns` : '-').padStart(15)}`,
    );
  }
}
