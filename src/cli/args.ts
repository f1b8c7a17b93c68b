/** Command-line parsing for `eunomia run <tracker>`: common flags plus the tracker's own options. */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { parseFormat, type Format } from '../exporters/index.js';
import { allOptions } from '../runtime/options.js';
import { parseTrackerArgv, parseUintFlag, type FlagSpecs } from '../runtime/argv.js';
import type { OptionValues, TrackerDescriptor } from '../runtime/types.js';
import { DEFAULT_METRICS_LISTEN } from '../agent/config.js';

export interface RunArgs {
  tracker: TrackerDescriptor;
  format: Format;
  output?: string;
  /** Stop after this many seconds. */
  seconds?: number;
  options: OptionValues;
  help: boolean;
  /** Attribute events to containers (default); --no-containers turns it off. */
  containers: boolean;
  /** Serve the tracker's metric families for Prometheus on this host:port (--prometheus). */
  metricsListen?: string;
  /** With --prometheus: its programs' CPU time too (kernel BPF stats, ~80 ns per program run). */
  bpfStats: boolean;
  /** The original Eunomia's flags read as this release's: one line each, for stderr. */
  notes: string[];
}

const runFlags: FlagSpecs = {
  fmt: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
  time: { type: 'string', short: 'T' },
  help: { type: 'boolean', short: 'h' },
  'no-containers': { type: 'boolean' },
  prometheus: { type: 'boolean' },
  'metrics-listen': { type: 'string' },
  'bpf-stats': { type: 'boolean' },
};

function usage(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, msg);
}

/** Parses the arguments after `run <tracker>`; unknown flags are errors naming the flag. */
export function parseRunArgs(tracker: TrackerDescriptor, argv: string[]): RunArgs {
  const { options, flags: v, notes } = parseTrackerArgv(tracker, argv, runFlags);
  const out: RunArgs = {
    tracker,
    format: parseFormat((v.fmt as string | undefined) ?? 'plain'),
    options,
    help: v.help === true,
    containers: v['no-containers'] !== true,
    bpfStats: v['bpf-stats'] === true,
    notes,
  };
  if (v.output !== undefined) out.output = v.output as string;
  if (v['metrics-listen'] !== undefined && v.prometheus !== true) throw usage('--metrics-listen needs --prometheus');
  if (v['bpf-stats'] === true && v.prometheus !== true) throw usage('--bpf-stats needs --prometheus');
  if (v.prometheus === true) out.metricsListen = (v['metrics-listen'] as string | undefined) ?? DEFAULT_METRICS_LISTEN;
  if (v.time !== undefined) {
    const t = parseUintFlag('time', v.time as string);
    if (t === 0) throw usage('-T expects a number of seconds greater than 0');
    out.seconds = t;
  }
  return out;
}

export function runHelp(tracker: TrackerDescriptor): string {
  const lines = [
    `Usage: eunomia run ${tracker.name} [options]`,
    '',
    tracker.summary,
    '',
    'Output:',
    '  -f, --fmt FORMAT    plain (default), json or csv (also plain_text, plain_txt, json_format)',
    '  -o, --output FILE   write events to FILE instead of stdout',
    '  -T, --time SECONDS  stop after SECONDS',
    '  --no-containers     do not attribute events to containers (no runtime API, no enrichment)',
    `  --prometheus        serve its metrics for Prometheus on ${DEFAULT_METRICS_LISTEN}/metrics (docs/metrics.md)`,
    '  --metrics-listen HOST:PORT  with --prometheus: serve them there instead',
    '  --bpf-stats         with --prometheus: also its eBPF programs\' CPU time (~80 ns more per program run)',
    '  -h, --help          this help',
    '',
    'Tracker options:',
  ];
  for (const s of allOptions(tracker)) {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.flag}${s.type === 'bool' ? '' : ` ${s.arg ?? 'VALUE'}`}`;
    lines.push(`  ${flag.padEnd(21)} ${s.description}`);
  }
  lines.push('', 'Examples:');
  if (tracker.examples) lines.push(...tracker.examples.map((e) => `  ${e}`));
  else {
    lines.push(
      `  sudo eunomia run ${tracker.name}                 # table on stdout until Ctrl-C`,
      `  sudo eunomia run ${tracker.name} --fmt json -T 10 -o events.jsonl`,
      `  sudo eunomia run ${tracker.name} -p 1234          # one process only`,
    );
  }
  return lines.join('\n');
}
