/**
 * The input of every output format: an on-CPU profile as plain data (unique stacks and their
 * sample counts), and what the formats share — validation, the process frame, frame kinds.
 */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';

/** One unique call stack and how many samples landed in it. */
export interface ProfileStack {
  /** Symbolized frame names, root first, leaf last. An empty list is one `[unknown]` frame. */
  frames: readonly string[];
  /** Samples in this stack: a non-negative integer (0 is allowed and left out of the output). */
  count: number;
  pid?: number;
  /** The process name (attacker-controlled, like the frame names). */
  comm?: string;
  /** The container's name or id, when the stack ran in one. */
  container?: string;
  /** How many of the leaf-most frames are kernel frames (0 when absent). */
  kernelFrames?: number;
}

export interface Profile {
  stacks: readonly ProfileStack[];
  /** Sampling frequency in Hz: one sample stands for 1e9 / hz nanoseconds of CPU. */
  hz: number;
  durationMs: number;
  startedAt: Date;
  unit?: 'samples';
}

/**
 * A frame put above the stack's root, so that the graph splits by process first:
 * `comm` (`nginx`), `comm-pid` (`nginx-42`, as stackcollapse-perf.pl --pid), or none.
 */
export type ProcessFrame = 'none' | 'comm' | 'comm-pid';

/** What a frame is, for colours and pprof mappings. */
export type FrameKind = 'user' | 'kernel' | 'unknown' | 'process' | 'root';

export const UNKNOWN = '[unknown]';

/**
 * A frame that names no function: `[unknown]`, the symbolizer's `[unknown] libc.so.6+0x1f2e3`,
 * `[lost user stack]` (drawn grey in the flame graph).
 */
export function isUnknownFrame(name: string): boolean {
  return name.startsWith('[unknown') || name.startsWith('[lost ');
}

/** Throws E_OPTION naming the first thing in `p` that no format could render. */
export function checkProfile(p: Profile): void {
  const bad = (what: string): never => {
    throw new EunomiaError(ErrorCodes.OPTION, `profile: ${what}`);
  };
  if (p === null || typeof p !== 'object' || !Array.isArray(p.stacks)) bad('expected { stacks: [...], hz, durationMs, startedAt }');
  if (typeof p.hz !== 'number' || !Number.isFinite(p.hz) || p.hz <= 0) bad(`hz must be a positive number, got ${String(p.hz)}`);
  if (typeof p.durationMs !== 'number' || !Number.isFinite(p.durationMs) || p.durationMs < 0) bad(`durationMs must be a non-negative number, got ${String(p.durationMs)}`);
  if (!(p.startedAt instanceof Date) || Number.isNaN(p.startedAt.getTime())) bad('startedAt must be a valid Date');
  if (p.unit !== undefined && p.unit !== 'samples') bad(`unit must be "samples", got ${JSON.stringify(p.unit)}`);
  const stacks = p.stacks;
  for (let i = 0; i < stacks.length; i++) {
    const s = stacks[i]!;
    if (s === null || typeof s !== 'object' || !Array.isArray(s.frames)) bad(`stack ${i}: expected { frames: string[], count }`);
    if (!Number.isSafeInteger(s.count) || s.count < 0) bad(`stack ${i}: count must be a non-negative integer, got ${String(s.count)}`);
    const f = s.frames;
    for (let j = 0; j < f.length; j++) if (typeof f[j] !== 'string') bad(`stack ${i}: frame ${j} is not a string`);
    const k = s.kernelFrames;
    if (k !== undefined && (!Number.isSafeInteger(k) || k < 0 || k > f.length)) bad(`stack ${i}: kernelFrames must be an integer 0..${f.length}, got ${String(k)}`);
    if (s.pid !== undefined && (!Number.isSafeInteger(s.pid) || s.pid < 0)) bad(`stack ${i}: pid must be a non-negative integer, got ${String(s.pid)}`);
    if (s.comm !== undefined && typeof s.comm !== 'string') bad(`stack ${i}: comm must be a string`);
    if (s.container !== undefined && typeof s.container !== 'string') bad(`stack ${i}: container must be a string`);
  }
}

/** Checks an option that is one of a few words. */
export function checkChoice<T extends string>(what: string, v: unknown, choices: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new EunomiaError(ErrorCodes.OPTION, `option ${what}: expected ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Checks a numeric option: a finite number in min..max (inclusive), or undefined for the default. */
export function checkNumber(what: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new EunomiaError(ErrorCodes.OPTION, `option ${what}: expected a number ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The stack's frames; an empty stack (the walk failed) is one `[unknown]` frame, so its samples still count. */
export function framesOf(s: ProfileStack): readonly string[] {
  return s.frames.length === 0 ? UNKNOWN_STACK : s.frames;
}
const UNKNOWN_STACK: readonly string[] = Object.freeze([UNKNOWN]);

/** A frame's name; an empty name is `[unknown]`. */
export function frameName(name: string): string {
  return name === '' ? UNKNOWN : name;
}

/** Index of the first kernel frame of `s` (frames.length when it has none). */
export function firstKernelFrame(s: ProfileStack, frames: readonly string[]): number {
  const k = s.frames.length === 0 ? 0 : (s.kernelFrames ?? 0);
  return frames.length - k;
}

/** The process frame of a stack for `mode`, or undefined for 'none'. */
export function processFrame(s: ProfileStack, mode: ProcessFrame | undefined): string | undefined {
  if (mode === undefined || mode === 'none') return undefined;
  const comm = s.comm === undefined || s.comm === '' ? UNKNOWN : s.comm;
  return mode === 'comm-pid' && s.pid !== undefined ? `${comm}-${s.pid}` : comm;
}

export const PROCESS_FRAMES: readonly ProcessFrame[] = ['none', 'comm', 'comm-pid'];

/** The sum of the stacks' counts. */
export function totalSamples(p: Profile): number {
  let n = 0;
  for (const s of p.stacks) n += s.count;
  return n;
}
