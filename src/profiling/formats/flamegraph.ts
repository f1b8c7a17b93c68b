/**
 * A self-contained interactive SVG flame graph: no external script, stylesheet or font. Each
 * frame is a `<g>` with a `<title>` (tooltip: name, samples, percentage), a `<rect>` and, when
 * it fits, a `<text>` label; the script (flamegraph-script.ts, a constant) adds search,
 * click-to-zoom and reset. Without the script (an image viewer) the graph still draws.
 *
 * Children are sorted by name, as flamegraph.pl does, so the same profile gives the same bytes.
 * User frames are warm colours, kernel frames blue, `[unknown]` (and `[lost …]`) grey, process
 * frames violet; a name's colour comes from a hash of it, so a function has the same colour
 * in every graph.
 *
 * Frame names are attacker-controlled: they only ever appear as XML text, escaped (& < > " '),
 * with the characters XML 1.0 forbids even as references (C0 controls but tab, CR and LF; lone
 * surrogates; U+FFFE/U+FFFF) replaced by U+FFFD. They are never put into the script.
 */
import { FLAMEGRAPH_SCRIPT } from './flamegraph-script.js';
import {
  checkChoice, checkNumber, checkProfile, firstKernelFrame, frameName, framesOf, isUnknownFrame, processFrame, PROCESS_FRAMES,
  type FrameKind, type ProcessFrame, type Profile,
} from './types.js';

export interface FlameGraphOptions {
  /** Image width in pixels (default 1200). */
  width?: number;
  /** Height of one frame in pixels (default 16); the image is as tall as the deepest stack needs. */
  frameHeight?: number;
  /** Label font size in pixels (default 12). */
  fontSize?: number;
  /** Frames narrower than this many pixels are left out, with their children (default 0.1, as flamegraph.pl). */
  minWidth?: number;
  /** Heading (default "On-CPU flame graph"). */
  title?: string;
  /** Second heading line (default: samples, frequency, duration and start). */
  subtitle?: string;
  /** An icicle graph: the root at the top (default false). */
  inverted?: boolean;
  /** A process frame above each stack's root (default none). */
  process?: ProcessFrame;
}

/** Approximate advance of one character, as a fraction of the font size (Verdana-like fonts). */
const CHAR_WIDTH = 0.59;
const PAD = 10;

const XML_SPECIAL = /[&<>"'\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]/;
const XML_SPECIAL_ALL = /[&<>"']|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `s` as XML text or attribute value: markup escaped, characters XML cannot carry replaced by U+FFFD. */
export function xmlEscape(s: string): string {
  if (!XML_SPECIAL.test(s)) return s;
  return s.replace(XML_SPECIAL_ALL, (c) => ENTITIES[c] ?? '\ufffd');
}

/** The label of a frame `width` pixels wide: the name, or its head and '..', or '' (the script does the same). */
export function fitLabel(name: string, width: number, charWidth: number): string {
  const n = Math.floor((width - 6) / charWidth);
  if (n < 3) return '';
  if (name.length <= n) return name;
  let end = n - 2;
  const c = name.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return name.slice(0, end) + '..';
}

function r2(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A frame's tooltip: `name (1,234 samples, 5.67%)`; the script finds the name before the last ' ('. */
function titleOf(name: string, value: number, total: number): string {
  return `${name} (${grouped(value)} ${value === 1 ? 'sample' : 'samples'}, ${((value / total) * 100).toFixed(2)}%)`;
}

/** FNV-1a of the name: deterministic, so the same function has the same colour in every graph. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function hslToRgb(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `rgb(${f(0)},${f(8)},${f(4)})`;
}

/** Colour families: [hue from, hue span, saturation, lightness from, lightness span]. */
const PALETTE: Record<Exclude<FrameKind, 'unknown'>, [number, number, number, number, number]> = {
  user: [0, 50, 0.85, 0.5, 0.14], // red .. orange .. yellow
  kernel: [190, 45, 0.6, 0.58, 0.14], // cyan .. blue
  process: [265, 35, 0.45, 0.68, 0.1], // violet
  root: [35, 0, 0.25, 0.78, 0],
};

function colour(kind: FrameKind, name: string): string {
  if (kind === 'unknown') return 'rgb(190,190,190)';
  const [h0, hs, s, l0, ls] = PALETTE[kind];
  const v = hash(name);
  return hslToRgb(h0 + ((v & 0xffff) / 0xffff) * hs, s, l0 + ((v >>> 16) / 0xffff) * ls);
}

interface Path {
  /** The process frame, when the graph has one. */
  proc: string | undefined;
  frames: readonly string[];
  /** Index in `frames` of the first kernel frame. */
  kernelFrom: number;
  count: number;
}

/** Paths in the order of the graph: element by element, by name (so children come sorted by name). */
function byFrames(a: Path, b: Path): number {
  if (a.proc !== b.proc) return (a.proc ?? '') < (b.proc ?? '') ? -1 : 1;
  const fa = a.frames;
  const fb = b.frames;
  const n = Math.min(fa.length, fb.length);
  for (let i = 0; i < n; i++) {
    const x = fa[i]!;
    const y = fb[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return fa.length - fb.length;
}

function kindOf(name: string, kernel: boolean): FrameKind {
  return isUnknownFrame(name) ? 'unknown' : kernel || name.endsWith('_[k]') ? 'kernel' : 'user';
}

/**
 * The frames of the merged call tree whose width is at least `minSamples`, with their depth,
 * offset and samples, in post-order. One pass over the stacks sorted by frames (flamegraph.pl's
 * way): a frame opens where a stack leaves the previous one's prefix and closes where the next
 * stack leaves it; no tree of maps, so 50,000 stacks cost a sort and a walk.
 */
function layout(profile: Profile, mode: ProcessFrame | undefined, minSamples: number): Drawn[] {
  const paths: Path[] = [];
  for (const s of profile.stacks) {
    if (s.count === 0) continue;
    const raw = framesOf(s);
    const frames = raw.includes('') ? raw.map(frameName) : raw;
    paths.push({ proc: processFrame(s, mode), frames, kernelFrom: firstKernelFrame(s, raw), count: s.count });
  }
  paths.sort(byFrames);

  const out: Drawn[] = [];
  const names: string[] = [];
  const kinds: FrameKind[] = [];
  const starts: number[] = [];
  let open = 0; // frames open below the root: names[0..open)
  let cur = 0;
  const close = (to: number): void => {
    for (; open > to; open--) {
      const d = open - 1;
      const value = cur - starts[d]!;
      if (value >= minSamples) out.push({ name: names[d]!, kind: kinds[d]!, depth: open, offset: starts[d]!, value });
    }
  };
  let prev: Path | undefined;
  for (const p of paths) {
    const off = p.proc === undefined ? 0 : 1;
    const len = off + p.frames.length;
    // How much of the open path this stack shares.
    let k = 0;
    if (prev !== undefined && prev.proc === p.proc) {
      k = off;
      const n = Math.min(open, len);
      while (k < n && names[k] === p.frames[k - off]) k++;
    }
    close(k);
    // The same name at the same place seen as kernel in one stack and user in another: kernel.
    for (let i = Math.max(off + p.kernelFrom, 0); i < k; i++) if (kinds[i] === 'user') kinds[i] = 'kernel';
    for (let i = k; i < len; i++) {
      if (i < off) {
        names[i] = p.proc!;
        kinds[i] = 'process';
      } else {
        const name = p.frames[i - off]!;
        names[i] = name;
        kinds[i] = kindOf(name, i - off >= p.kernelFrom);
      }
      starts[i] = cur;
    }
    open = len;
    cur += p.count;
    prev = p;
  }
  close(0);
  if (cur > 0 && cur >= minSamples) out.push({ name: 'all', kind: 'root', depth: 0, offset: 0, value: cur });
  return out;
}

interface Drawn {
  name: string;
  kind: FrameKind;
  depth: number;
  offset: number;
  value: number;
}

/** The flame graph of `profile` as an SVG document. */
export function renderFlameGraph(profile: Profile, opts: FlameGraphOptions = {}): string {
  checkProfile(profile);
  const width = checkNumber('width', opts.width, 200, 100_000, 1200);
  const frameHeight = checkNumber('frameHeight', opts.frameHeight, 4, 200, 16);
  const fontSize = checkNumber('fontSize', opts.fontSize, 4, 100, 12);
  const minWidth = checkNumber('minWidth', opts.minWidth, 0, 1000, 0.1);
  const mode = checkChoice('process', opts.process, PROCESS_FRAMES);
  const inverted = opts.inverted === true;

  const plotW = width - 2 * PAD;
  let total = 0;
  for (const s of profile.stacks) total += s.count;
  const scale = total > 0 ? plotW / total : 0;
  // The frames wide enough to draw, and the deepest level.
  const drawn = total > 0 ? layout(profile, mode, minWidth / scale) : [];
  let maxDepth = 0;
  for (const f of drawn) if (f.depth > maxDepth) maxDepth = f.depth;

  const titleY = fontSize * 2;
  const subtitleY = titleY + fontSize * 1.5;
  const top = subtitleY + fontSize;
  const levels = drawn.length > 0 ? maxDepth + 1 : 1;
  const height = Math.ceil(top + levels * frameHeight + fontSize * 2 + 8);
  const detailsY = height - fontSize * 0.8;
  const textDy = frameHeight / 2 + fontSize * 0.35;
  const charW = fontSize * CHAR_WIDTH;

  const title = opts.title ?? 'On-CPU flame graph';
  const seconds = Math.round(profile.durationMs / 100) / 10;
  const subtitle = opts.subtitle ??
    `${grouped(total)} samples at ${profile.hz} Hz over ${seconds} s from ${profile.startedAt.toISOString()}`;

  const out: string[] = [];
  out.push(
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n',
    `<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="${r2(width)}" height="${height}" viewBox="0 0 ${r2(width)} ${height}">\n`,
    '<defs><linearGradient id="background" x1="0" y1="0" x2="0" y2="1">',
    '<stop offset="5%" stop-color="#eeeeee"/><stop offset="95%" stop-color="#eeeeb0"/></linearGradient></defs>\n',
    '<style type="text/css">',
    `text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: ${r2(fontSize)}px; fill: #000; }`,
    ' #title { font-size: ', r2(fontSize * 1.4), 'px; text-anchor: middle; }',
    ' #subtitle { text-anchor: middle; fill: #555; }',
    ' #search, #matched { text-anchor: end; }',
    ' #search, #unzoom { cursor: pointer; fill: #333; }',
    ' #frames > g { cursor: pointer; }',
    ' #frames > g:hover > rect { stroke: #000; stroke-width: 0.5; }',
    ' #frames text { pointer-events: none; }',
    ' .parent { opacity: 0.5; }',
    ' .hide { display: none; }',
    '</style>\n',
    `<rect x="0" y="0" width="${r2(width)}" height="${height}" fill="url(#background)"/>\n`,
    `<text id="title" x="${r2(width / 2)}" y="${r2(titleY)}">${xmlEscape(title)}</text>\n`,
    `<text id="subtitle" x="${r2(width / 2)}" y="${r2(subtitleY)}">${xmlEscape(subtitle)}</text>\n`,
    `<text id="unzoom" class="hide" x="${PAD}" y="${r2(titleY)}">Reset Zoom</text>\n`,
    `<text id="search" x="${r2(width - PAD)}" y="${r2(titleY)}">Search</text>\n`,
    `<text id="details" x="${PAD}" y="${r2(detailsY)}"> </text>\n`,
    `<text id="matched" x="${r2(width - PAD)}" y="${r2(detailsY)}"> </text>\n`,
  );
  if (total === 0) out.push(`<text x="${r2(width / 2)}" y="${r2(top + frameHeight)}" text-anchor="middle">no samples</text>\n`);
  out.push(`<g id="frames" data-total="${total}" data-x="${PAD}" data-w="${r2(plotW)}" data-cw="${r2(charW)}" data-ty="${r2(textDy)}">\n`);
  const colours = new Map<string, string>();
  for (const node of drawn) {
    const { depth, offset } = node;
    const x = PAD + offset * scale;
    const w = node.value * scale;
    const y = inverted ? top + depth * frameHeight : top + (maxDepth - depth) * frameHeight;
    const key = node.kind + '\0' + node.name;
    let fill = colours.get(key);
    if (fill === undefined) colours.set(key, (fill = colour(node.kind, node.name)));
    const label = fitLabel(node.name, w, charW);
    out.push(
      `<g data-o="${offset}" data-n="${node.value}" data-d="${depth}"><title>${xmlEscape(titleOf(node.name, node.value, total))}</title>`,
      `<rect x="${r2(x)}" y="${r2(y)}" width="${r2(w)}" height="${r2(frameHeight - 1)}" fill="${fill}" rx="2" ry="2"/>`,
      label === '' ? '</g>\n' : `<text x="${r2(x + 3)}" y="${r2(y + textDy)}">${xmlEscape(label)}</text></g>\n`,
    );
  }
  out.push('</g>\n', '<script type="text/ecmascript"><![CDATA[', FLAMEGRAPH_SCRIPT, ']]></script>\n', '</svg>\n');
  return out.join('');
}
