/**
 * What `eunomia run profile` writes when it stops: every row it reported (./stacks.ts) summed
 * into one profile, rendered to the files its options name (./formats), and a line per process
 * saying how much of its user stacks are whole, and why not.
 */
import { writeFileSync } from 'node:fs';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { OptionValues, TrackerOutput } from '../runtime/types.js';
import type { Profile, ProfileStack } from './formats/index.js';
import type { StackRow, UserStack } from './stacks.js';

export const PROFILE_FILES = [
  { option: 'svg', format: 'svg', what: 'an interactive SVG flame graph' },
  { option: 'folded', format: 'folded', what: 'folded stacks ("a;b;c 12", flamegraph.pl\'s input)' },
  { option: 'pprof', format: 'pprof', what: 'a gzipped pprof profile (go tool pprof, Pyroscope, Parca)' },
  { option: 'speedscope', format: 'speedscope', what: 'a speedscope JSON profile' },
] as const;

/** Per process: samples by the state of their user stack, and the first reason met for each state. */
interface ProcessTally {
  comm: string;
  samples: number;
  states: Map<UserStack, number>;
  reasons: Map<UserStack, string>;
  hint?: string;
}

/** Sums reported rows into a profile (the same stack over several reports is one). */
export class ProfileCollector {
  private readonly stacks = new Map<string, ProfileStack>();
  private readonly processes = new Map<number, ProcessTally>();
  private readonly started = new Date();
  samples = 0;

  constructor(private readonly hz: number) {}

  add(row: StackRow & { container?: { name?: string } }): void {
    const container = row.container?.name;
    const id = `${row.pid}\0${container ?? ''}\0${row.stack.join('\0')}`;
    const known = this.stacks.get(id);
    if (known) known.count += row.count;
    else {
      this.stacks.set(id, {
        frames: row.stack,
        count: row.count,
        pid: row.pid,
        comm: row.comm,
        kernelFrames: row.kernel_frames,
        ...(container ? { container } : {}),
      });
    }
    this.samples += row.count;
    let p = this.processes.get(row.pid);
    if (!p) this.processes.set(row.pid, (p = { comm: row.comm, samples: 0, states: new Map(), reasons: new Map() }));
    p.samples += row.count;
    p.states.set(row.user, (p.states.get(row.user) ?? 0) + row.count);
    if (row.reason && !p.reasons.has(row.user)) p.reasons.set(row.user, row.reason);
    if (row.hint) p.hint = row.hint;
  }

  profile(): Profile {
    return { stacks: [...this.stacks.values()], hz: this.hz, durationMs: Date.now() - this.started.getTime(), startedAt: this.started };
  }

  /** One line per process with samples, busiest first: how much of its user stacks are whole. */
  report(limit = 10): string[] {
    const procs = [...this.processes.entries()].sort((a, b) => b[1].samples - a[1].samples).slice(0, limit);
    return procs.map(([pid, p]) => {
      const parts = [...p.states.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([state, n]) => `${Math.round((100 * n) / p.samples)} % ${state}${p.reasons.has(state) ? ` (${p.reasons.get(state)})` : ''}`);
      return `${p.comm} (${pid}): ${p.samples} samples, user stacks ${parts.join(', ')}${p.hint ? `; ${p.hint}` : ''}`;
    });
  }
}

/** The run's output for these options, or undefined when they name no file. */
export function profileOutput(options: OptionValues): TrackerOutput | undefined {
  const files = PROFILE_FILES.filter((f) => typeof options[f.option] === 'string');
  if (!files.length) return undefined;
  const collector = new ProfileCollector(Number(options.frequency ?? 49));
  return {
    add: (data) => collector.add(data as StackRow),
    finish: async () => {
      // The renderers (pprof's protobuf among them) load only when a run writes a file.
      const { FORMATS } = await import('./formats/index.js');
      const profile = collector.profile();
      const lines: string[] = [];
      for (const f of files) {
        const path = options[f.option] as string;
        try {
          writeFileSync(path, FORMATS[f.format].render(profile, { process: 'comm-pid' }));
        } catch (e) {
          throw new EunomiaError(ErrorCodes.IO, `profile: cannot write ${f.what} to ${path}: ${(e as Error).message}`);
        }
        lines.push(`${path}: ${f.what}, ${collector.samples} samples in ${profile.stacks.length} stacks`);
      }
      return [...lines, ...collector.report()];
    },
  };
}
