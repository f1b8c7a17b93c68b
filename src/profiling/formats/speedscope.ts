/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json), "sampled"
 * profiles: frames shared by name (kernel frames apart, with file `[kernel.kallsyms]`), each
 * sample a list of frame indices root first, its weight the number of samples (unit "none"),
 * startValue 0 and endValue the profile's total, as speedscope's own importers write them.
 *
 * By default one profile per process (pid; comm when there is no pid), heaviest first and
 * shown first — speedscope lists them in its profile picker. `byProcess: false` gives one
 * merged profile, which `process` can split by a process frame as in the other formats.
 */
import { eunomiaVersion } from '../../core/version.js';
import {
  checkChoice, checkProfile, firstKernelFrame, frameName, framesOf, processFrame, PROCESS_FRAMES, UNKNOWN,
  type ProcessFrame, type Profile, type ProfileStack,
} from './types.js';

export interface SpeedscopeOptions {
  /** One profile per process (default true), or one merged profile. */
  byProcess?: boolean;
  /** With byProcess false: a process frame above each stack's root (default none). */
  process?: ProcessFrame;
  /** The file's name, shown by speedscope (default "eunomia on-CPU profile <start>"). */
  name?: string;
}

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

export interface SpeedscopeFrame {
  name: string;
  file?: string;
}

export interface SpeedscopeSampledProfile {
  type: 'sampled';
  name: string;
  unit: 'none';
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeSampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

interface Group {
  name: string;
  order: string;
  total: number;
  samples: Map<string, { stack: number[]; weight: number }>;
}

/** The speedscope document of `profile` (JSON.stringify it, or use renderSpeedscope). */
export function speedscopeFile(profile: Profile, opts: SpeedscopeOptions = {}): SpeedscopeFile {
  checkProfile(profile);
  const byProcess = opts.byProcess !== false;
  const mode = byProcess ? undefined : checkChoice('process', opts.process, PROCESS_FRAMES);

  const frames: SpeedscopeFrame[] = [];
  const userIds = new Map<string, number>();
  const kernelIds = new Map<string, number>();
  const frameId = (name: string, kernel: boolean): number => {
    const table = kernel ? kernelIds : userIds;
    let id = table.get(name);
    if (id === undefined) {
      id = frames.length;
      frames.push(kernel ? { name, file: '[kernel.kallsyms]' } : { name });
      table.set(name, id);
    }
    return id;
  };

  const groups = new Map<string, Group>();
  const groupOf = (s: ProfileStack): Group => {
    const key = !byProcess ? '' : s.pid !== undefined ? `p${s.pid}` : `c${s.comm ?? ''}`;
    let g = groups.get(key);
    if (g === undefined) {
      const name = !byProcess ? 'all' : processName(s);
      g = { name, order: key, total: 0, samples: new Map() };
      groups.set(key, g);
    }
    return g;
  };

  for (const s of profile.stacks) {
    if (s.count === 0) continue;
    const g = groupOf(s);
    const fs = framesOf(s);
    const kernelFrom = firstKernelFrame(s, fs);
    const stack: number[] = [];
    const proc = processFrame(s, mode);
    if (proc !== undefined) stack.push(frameId(proc, false));
    for (let i = 0; i < fs.length; i++) stack.push(frameId(frameName(fs[i]!), i >= kernelFrom));
    const key = stack.join(',');
    const same = g.samples.get(key);
    if (same !== undefined) same.weight += s.count;
    else g.samples.set(key, { stack, weight: s.count });
    g.total += s.count;
  }

  const ordered = [...groups.values()].sort((a, b) => b.total - a.total || (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const profiles: SpeedscopeSampledProfile[] = ordered.map((g) => {
    const samples: number[][] = [];
    const weights: number[] = [];
    for (const { stack, weight } of g.samples.values()) {
      samples.push(stack);
      weights.push(weight);
    }
    return { type: 'sampled', name: g.name, unit: 'none', startValue: 0, endValue: g.total, samples, weights };
  });
  if (profiles.length === 0) profiles.push({ type: 'sampled', name: 'all', unit: 'none', startValue: 0, endValue: 0, samples: [], weights: [] });

  return {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles,
    name: opts.name ?? `eunomia on-CPU profile ${profile.startedAt.toISOString()}`,
    activeProfileIndex: 0,
    exporter: `eunomia@${eunomiaVersion()}`,
  };
}

function processName(s: ProfileStack): string {
  const comm = s.comm === undefined || s.comm === '' ? UNKNOWN : s.comm;
  const parts: string[] = [];
  if (s.pid !== undefined) parts.push(`pid ${s.pid}`);
  if (s.container !== undefined) parts.push(`container ${s.container}`);
  return parts.length > 0 ? `${comm} (${parts.join(', ')})` : comm;
}

/** The speedscope JSON text of `profile`. */
export function renderSpeedscope(profile: Profile, opts: SpeedscopeOptions = {}): string {
  return JSON.stringify(speedscopeFile(profile, opts));
}
