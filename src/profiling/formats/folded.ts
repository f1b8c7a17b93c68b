/**
 * Folded stacks, the input of flamegraph.pl, inferno and speedscope: one line per unique stack,
 * frames root first joined by `;`, a space, then the sample count (`main;work;spin 12`).
 *
 * Frame names are rewritten so that they cannot break the format (documented in docs and
 * here): `;` becomes `:` (as Brendan Gregg's stackcollapse scripts do), line breaks and the
 * other control characters become `?`, and an empty name is `[unknown]`. A space is kept: the
 * count is after the line's last space. Lines are sorted, so the same profile gives the same
 * text; stacks that become the same line (the same frames in two processes, without a process
 * frame) are one line with the counts summed.
 */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import {
  checkChoice, checkProfile, firstKernelFrame, frameName, framesOf, processFrame, PROCESS_FRAMES,
  type ProcessFrame, type Profile, type ProfileStack,
} from './types.js';

export interface FoldedOptions {
  /** Put the process above each stack's root: `comm;main;...` or `comm-pid;main;...` (default none). */
  process?: ProcessFrame;
  /**
   * Mark kernel frames with the `_[k]` suffix perf's stackcollapse uses, which flamegraph.pl's
   * `--colors=java|js|perl` paint as kernel (default false). parseFolded({ kernelSuffix: true }) reads it back.
   */
  kernelSuffix?: boolean;
}

const UNSAFE = /[;\x00-\x1f\x7f]/;
const UNSAFE_ALL = /[;\x00-\x1f\x7f]/g;

/** A frame name as it appears in a folded line: no `;`, no line break, not empty. */
export function foldedFrame(name: string): string {
  const n = frameName(name);
  return UNSAFE.test(n) ? n.replace(UNSAFE_ALL, (c) => (c === ';' ? ':' : '?')) : n;
}

export const KERNEL_SUFFIX = '_[k]';

/** The folded lines of a profile, `frames count\n` each, sorted. */
export function renderFolded(profile: Profile, opts: FoldedOptions = {}): string {
  checkProfile(profile);
  const mode = checkChoice('process', opts.process, PROCESS_FRAMES);
  const suffix = opts.kernelSuffix === true;
  const lines = new Map<string, number>();
  for (const s of profile.stacks) {
    if (s.count === 0) continue;
    const key = foldedLine(s, mode, suffix);
    const had = lines.get(key);
    lines.set(key, had === undefined ? s.count : had + s.count);
  }
  const keys = [...lines.keys()].sort();
  const out: string[] = new Array<string>(keys.length + 1);
  for (let i = 0; i < keys.length; i++) out[i] = `${keys[i]!} ${lines.get(keys[i]!)!}`;
  out[keys.length] = '';
  return keys.length === 0 ? '' : out.join('\n');
}

function foldedLine(s: ProfileStack, mode: ProcessFrame | undefined, suffix: boolean): string {
  const frames = framesOf(s);
  const kernelFrom = suffix ? firstKernelFrame(s, frames) : frames.length;
  const parts: string[] = [];
  const proc = processFrame(s, mode);
  if (proc !== undefined) parts.push(foldedFrame(proc));
  for (let i = 0; i < frames.length; i++) {
    const f = foldedFrame(frames[i]!);
    parts.push(i >= kernelFrom ? f + KERNEL_SUFFIX : f);
  }
  return parts.join(';');
}

export interface ParseFoldedOptions {
  /** Read a trailing run of `_[k]` frames as kernel frames (the suffix removed), as renderFolded writes them. */
  kernelSuffix?: boolean;
}

/**
 * Reads folded stacks back (ours, or any stackcollapse script's): one stack per non-empty line.
 * Throws E_OPTION naming the line when a line has no count.
 */
export function parseFolded(text: string, opts: ParseFoldedOptions = {}): ProfileStack[] {
  const out: ProfileStack[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const sp = line.lastIndexOf(' ');
    const countText = line.slice(sp + 1);
    const count = Number(countText);
    if (sp <= 0 || countText === '' || !Number.isSafeInteger(count) || count < 0) {
      throw new EunomiaError(ErrorCodes.OPTION, `folded stacks: line ${n + 1}: expected "frame;frame;... COUNT", got ${JSON.stringify(line.slice(0, 80))}`);
    }
    const frames = line.slice(0, sp).split(';');
    const stack: ProfileStack = { frames, count };
    if (opts.kernelSuffix === true) {
      let k = 0;
      while (k < frames.length && frames[frames.length - 1 - k]!.endsWith(KERNEL_SUFFIX)) k++;
      for (let i = frames.length - k; i < frames.length; i++) frames[i] = frames[i]!.slice(0, -KERNEL_SUFFIX.length);
      if (k > 0) stack.kernelFrames = k;
    }
    out.push(stack);
  }
  return out;
}
