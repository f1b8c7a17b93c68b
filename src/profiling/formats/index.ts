/**
 * The output formats of on-CPU profiles, picked by name: `render(profile, 'svg', opts)`.
 * Every format is a row of FORMATS (its renderer, file extension and content type), so the
 * CLI and the HTTP API name files and answer requests from the table, not from a switch.
 */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { renderFlameGraph, type FlameGraphOptions } from './flamegraph.js';
import { renderFolded, type FoldedOptions } from './folded.js';
import { renderPprof, type PprofOptions } from './pprof.js';
import { renderSpeedscope, type SpeedscopeOptions } from './speedscope.js';
import type { Profile } from './types.js';

export type { Profile, ProfileStack, ProcessFrame } from './types.js';
export { checkProfile, totalSamples } from './types.js';
export { renderFolded, parseFolded, foldedFrame, type FoldedOptions, type ParseFoldedOptions } from './folded.js';
export { renderFlameGraph, xmlEscape, type FlameGraphOptions } from './flamegraph.js';
export { renderPprof, pprofProfile, samplePeriodNs, type PprofOptions } from './pprof.js';
export { renderSpeedscope, speedscopeFile, type SpeedscopeOptions, type SpeedscopeFile } from './speedscope.js';

export type ProfileFormat = 'folded' | 'svg' | 'pprof' | 'speedscope';

/** Every format's options in one bag (the CLI and the API pass one); each renderer reads its own. */
export type RenderOptions = FoldedOptions & FlameGraphOptions & PprofOptions & SpeedscopeOptions;

export interface FormatInfo {
  /** The usual file name ending. */
  extension: string;
  contentType: string;
  /** Bytes (a Buffer), not text. */
  binary: boolean;
  render: (profile: Profile, opts: RenderOptions) => string | Buffer;
}

export const FORMATS: Readonly<Record<ProfileFormat, FormatInfo>> = {
  folded: { extension: '.folded', contentType: 'text/plain; charset=utf-8', binary: false, render: renderFolded },
  svg: { extension: '.svg', contentType: 'image/svg+xml', binary: false, render: renderFlameGraph },
  pprof: { extension: '.pb.gz', contentType: 'application/octet-stream', binary: true, render: renderPprof },
  speedscope: { extension: '.speedscope.json', contentType: 'application/json', binary: false, render: renderSpeedscope },
};

export const PROFILE_FORMATS = Object.keys(FORMATS) as ProfileFormat[];

const ALIASES = new Map<string, ProfileFormat>([
  ...PROFILE_FORMATS.map((f) => [f, f] as const),
  ['collapsed', 'folded'],
  ['flamegraph', 'svg'],
]);

/** A format by name (case-insensitive; also "collapsed" and "flamegraph"); E_OPTION for any other. */
export function parseProfileFormat(name: string): ProfileFormat {
  const f = typeof name === 'string' ? ALIASES.get(name.trim().toLowerCase()) : undefined;
  if (f === undefined) {
    throw new EunomiaError(ErrorCodes.OPTION, `profile format ${JSON.stringify(name)}: unknown — use ${PROFILE_FORMATS.join(', ')}`);
  }
  return f;
}

/** The profile in `format`: text for folded, svg and speedscope, bytes (gzipped protobuf) for pprof. */
export function render(profile: Profile, format: 'pprof', opts?: RenderOptions): Buffer;
export function render(profile: Profile, format: 'folded' | 'svg' | 'speedscope', opts?: RenderOptions): string;
export function render(profile: Profile, format: string, opts?: RenderOptions): string | Buffer;
export function render(profile: Profile, format: string, opts: RenderOptions = {}): string | Buffer {
  return FORMATS[parseProfileFormat(format)].render(profile, opts);
}
