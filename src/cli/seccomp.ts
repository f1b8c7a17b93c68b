/**
 * `eunomia seccomp …`: record what a container or a command calls, turn it into a profile,
 * merge, diff and check profiles, and run a command under one (log, then enforce).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { loadNative } from '../core/native.js';
import { Agent } from '../agent/agent.js';
import { defaultConfig, type ServerConfig } from '../agent/config.js';
import type { Sink } from '../pipeline/types.js';
import { seccompTracker, type SeccompRow } from '../trackers/seccomp/index.js';
import { seccomplogTracker, type SeccomplogData } from '../trackers/seccomplog/index.js';
import { recordingsOf, type RecordedRow } from '../seccomp/recording.js';
import { toProfile } from '../seccomp/profile.js';
import { readProfile } from '../seccomp/read.js';
import { toSpo } from '../seccomp/spo.js';
import { summary } from '../seccomp/summary.js';
import { merge } from '../seccomp/merge.js';
import { diff } from '../seccomp/diff.js';
import { check } from '../seccomp/check.js';
import { makeCgroup } from '../seccomp/cgroup.js';
import { launch } from '../seccomp/launch.js';
import { stopSignals } from './signals.js';
import type { DenyMode, DockerProfile, RecordTarget } from '../seccomp/types.js';

export const SECCOMP_HELP = `Usage: eunomia seccomp <command> [options]

Commands:
  record --container NAME|ID [-T SECONDS] [-o FILE]   record a container (also one started later)
  record [-o FILE] -- CMD [ARGS…]                      record a command, from its exec until it exits
  run --profile FILE [--mode log|errno|kill] -- CMD    run a command under a profile
  check FILE [--against FILE]                          validate a profile; what a workload would lose
  merge FILE… [-o FILE] [--mode MODE]                  union of recorded profiles, with provenance (one
                                                       file: rewritten, e.g. --mode log before enforcing)
  diff PROFILE NEW                                     what a new recording adds to a profile
  summary FILE [--previous FILE]                       syscalls by group, arguments, capabilities
  spo FILE --name NAME [--namespace NS]                the profile as a Security Profiles Operator SeccompProfile

Options of record:
  -c, --container NAME|ID  the container to record (a name not running yet: recorded from its start)
  -T, --time SECONDS       stop after SECONDS (default: when the container or command exits, or Ctrl-C)
  -o, --output FILE        write the profile (Docker/OCI JSON) there (default: stdout); an existing
                           profile there is replaced, and the summary says what is new since it
      --spo FILE           also write the SeccompProfile resource (YAML) there
      --mode MODE          what the profile does to other calls: errno (default, EPERM), kill, log
      --no-base            leave out the container runtime's base list (src/seccomp/base.ts; never
                           added for a command)

Examples:
  sudo eunomia seccomp record --container web -T 60 -o web.json
  docker run --security-opt seccomp=web.json …
  sudo eunomia seccomp record -o ls.json -- ls -l /
  sudo eunomia seccomp run --profile ls.json --mode log -- ls -l /
`;

function usage(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, `${msg} — see "eunomia seccomp --help"`);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node's parseArgs, with its errors as ours; `--` ends the options (the command follows). */
function parse(argv: string[], options: Options): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[]; command: string[] } {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  try {
    const { values, positionals } = parseArgs({ args: own, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals, command };
  } catch (e) {
    throw usage((e as Error).message.replace(/\. To specify.*$/s, ''));
  }
}

function modeOf(v: unknown): DenyMode | undefined {
  if (v === undefined) return undefined;
  if (v === 'errno' || v === 'kill' || v === 'log') return v;
  throw usage(`--mode: "${String(v)}" is not a mode (log, errno or kill)`);
}

function seconds(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw usage(`-T expects a whole number of seconds above 0, got "${String(v)}"`);
  return n;
}

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new EunomiaError(ErrorCodes.IO, `cannot read ${file}: ${(e as Error).message}`);
  }
}

function writeFile(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new EunomiaError(ErrorCodes.IO, `cannot write ${file}: ${(e as Error).message}`);
  }
}

const profileJson = (p: DockerProfile): string => JSON.stringify(p, null, 2) + '\n';

/** Keeps the latest row of each recorded cgroup (each report is the recording so far). */
class RowCollector implements Sink {
  readonly name = 'seccomp-record';
  readonly rows = new Map<number, RecordedRow>();
  private written = 0;
  write(ev: { data: Record<string, unknown> }): void {
    const row = ev.data as unknown as SeccompRow;
    const container = ev.data.container as RecordedRow['container'];
    // Host-side rows carry the "host" container: a command's cgroup is no container.
    this.rows.set(row.cgroup_id, container && container.full_id !== 'host' ? { row, container } : { row });
    this.written++;
  }
  stats(): { written: number; dropped: number } {
    return { written: this.written, dropped: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function recordConfig(options: Record<string, string | number>, containers: boolean): ServerConfig {
  const config = defaultConfig();
  // Reports every second: the last one before the stop is at most that old, and the stop adds a final one.
  config.trackers = [{ name: seccompTracker.name, options: { ...options, interval: 1 } }];
  config.containers = containers;
  config.rules.enabled = false;
  config.otel.enabled = false;
  return config;
}

/** Waits for the child to exit: its exit code (128 + signal number when killed, as shells say). */
function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? ({ SIGKILL: 9, SIGSYS: 31, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 0 : 0)));
  });
}

async function record(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { values: v, positionals, command } = parse(argv, {
    container: { type: 'string', short: 'c' },
    time: { type: 'string', short: 'T' },
    output: { type: 'string', short: 'o' },
    spo: { type: 'string' },
    mode: { type: 'string' },
    'no-base': { type: 'boolean' },
  });
  if (v.help) {
    out.write(SECCOMP_HELP);
    return 0;
  }
  if (positionals.length) throw usage(`record: unexpected "${positionals[0]}" (a command goes after --)`);
  const container = v.container as string | undefined;
  if (!container === !command.length) throw usage('record needs --container NAME|ID or -- CMD (one of them)');
  const mode = modeOf(v.mode);
  const limit = seconds(v.time);
  const output = v.output as string | undefined;
  if (command.length && !output) throw usage('record -- CMD needs -o FILE: the command writes to stdout itself');
  const previous = output && existsSync(output) ? readProfile(readFile(output), output) : undefined;
  const log = (line: string): void => void err.write(`eunomia: ${line}\n`);

  const collector = new RowCollector();
  const cgroup = command.length ? makeCgroup('record') : undefined;
  const started = new Date();
  let code = 0;
  try {
    const options: Record<string, string | number> = cgroup ? { cgroup: cgroup.id } : { container: container! };
    const agent = await Agent.start(recordConfig(options, !cgroup), { native: loadNative(), log, trackers: [seccompTracker], sinks: [collector], metrics: false, streams: false });
    const sig = stopSignals();
    try {
      const inst = agent.manager.instancesNow()[0]!;
      for (const s of inst.unmatchedContainers) log(`no container "${s}" yet: recording it from its start`);
      if (inst.containersJoinedRunning.length) log(`container ${container} is running: its start-up will not be in the recording (to record it, start the recording before the container)`);
      const waits: Promise<unknown>[] = [sig.promise];
      let timer: NodeJS.Timeout | undefined;
      if (limit) waits.push(new Promise((r) => (timer = setTimeout(r, limit * 1000))));
      let child: ChildProcess | undefined;
      if (cgroup) {
        child = launch(command, { allowAll: true, cgroupDir: cgroup.dir, stdio: 'inherit' });
        waits.push(exited(child).then((c) => (code = c)));
      } else {
        waits.push(containerGone(agent, container!));
      }
      log(`recording ${cgroup ? `"${command.join(' ')}"` : `container ${container}`}${limit ? ` for ${limit}s` : ''}; Ctrl-C to stop`);
      await Promise.race(waits);
      clearTimeout(timer);
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
      const joined = inst.containersJoinedRunning;
      await agent.stop(inst.id);
      await agent.pipeline.close();
      // Written before the agent's teardown (its container watcher's links take ~140 ms to close).
      return writeRecording(joined);
    } finally {
      sig.dispose();
      agent.closeNow();
    }
  } finally {
    cgroup?.remove();
  }

  /** `joined`: the containers that were running when the recording selected them. */
  function writeRecording(joined: readonly string[]): number {
    const ended = new Date();
    // The launcher could not execute the command (125: its own failure, 126/127 as a shell says):
    // what it recorded is its own failed exec and message, not the command's.
    if (cgroup && code >= 125 && code <= 127) {
      log(`"${command[0]}" did not run (exit ${code}): nothing recorded${output ? `, ${output} left as it was` : ''}`);
      return code;
    }
    const recordings = recordingsOf(collector.rows.values(), started, ended, cgroup ? { command: { kind: 'command', name: command.join(' ') } } : { joinedRunning: joined });
    if (!recordings.length) {
      throw new EunomiaError(ErrorCodes.CONTAINER, cgroup ? `nothing recorded: "${command.join(' ')}" made no call after its exec` : `nothing recorded: container "${container}" did not run while recording (or made no call under its seccomp filter)`);
    }
    // The base list is what a container runtime calls after installing the filter; a command run
    // by `eunomia seccomp run` makes no call between its filter and its exec but the exec.
    const profile = toProfile(recordings, { ...(mode ? { mode } : {}), base: !cgroup && v['no-base'] !== true });
    if (output) writeFile(output, profileJson(profile));
    else out.write(profileJson(profile));
    if (v.spo) writeFile(v.spo as string, toSpo(profile, spoName(recordings[0]!.target)));
    err.write(summary(profile, previous));
    return code;
  }
}

/** A Kubernetes object name from a target (lowercase, [a-z0-9-], ≤ 63). */
function spoName(t: RecordTarget): string {
  const base = (t.kind === 'container' ? t.name : t.name.split(' ')[0]!.split('/').pop()!) || 'recorded';
  return base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'recorded';
}

/** Resolves when the recorded container has run and then died (its cgroups are gone). */
function containerGone(agent: Agent, selector: string): Promise<void> {
  const resolver = agent.containers?.resolver;
  if (!resolver) return new Promise(() => undefined);
  return new Promise((resolve) => {
    const on = (info: { id: string; name: string }, action: string): void => {
      if ((action === 'die' || action === 'destroy') && (info.name === selector || info.id.startsWith(selector))) {
        resolver.off('container', on);
        resolve();
      }
    };
    resolver.on('container', on);
  });
}

function readProfiles(files: string[]): DockerProfile[] {
  return files.map((f) => readProfile(readFile(f), f));
}

/** Prints each call outside the profile as it is reported (seccomplog events), and counts them. */
class OutsideReporter implements Sink {
  readonly name = 'seccomp-outside';
  readonly seen: string[] = [];
  constructor(private readonly err: NodeJS.WritableStream) {}
  write(ev: { data: Record<string, unknown> }): void {
    const d = ev.data as SeccomplogData;
    const what = d.outside === 'capability' ? `capability ${d.capability} (${d.cap_ret ? 'refused' : 'used'})` : d.outside === 'argument' ? `${d.syscall}(${d.arg_text})` : `${d.syscall}`;
    this.seen.push(what);
    this.err.write(`eunomia: outside the profile: ${what} — pid ${d.pid} (${d.comm})\n`);
  }
  stats(): { written: number; dropped: number } {
    return { written: this.seen.length, dropped: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function runUnder(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { values: v, positionals, command } = parse(argv, { profile: { type: 'string', short: 'p' }, mode: { type: 'string' } });
  if (v.help) {
    out.write(SECCOMP_HELP);
    return 0;
  }
  if (positionals.length) throw usage(`run: unexpected "${positionals[0]}" (the command goes after --)`);
  if (!v.profile) throw usage('run needs --profile FILE');
  if (!command.length) throw usage('run needs a command after --');
  const file = v.profile as string;
  const profile = readProfile(readFile(file), file);
  const mode = modeOf(v.mode) ?? (profile.defaultAction === 'SCMP_ACT_LOG' ? 'log' : undefined);
  if (mode !== 'log') {
    const code = await exited(launch(command, { profile, ...(mode ? { mode } : {}), stdio: 'inherit' }));
    if (code === 128 + 31) err.write(`eunomia: "${command[0]}" was killed by its seccomp profile (SIGSYS): a call outside ${file}\n`);
    return code;
  }
  // Log mode: the command runs in a cgroup of its own, watched by seccomplog for what its
  // filter lets through but the profile would refuse.
  const cgroup = makeCgroup('run');
  const reporter = new OutsideReporter(err);
  try {
    const config = recordConfig({}, false);
    config.trackers = [{ name: seccomplogTracker.name, options: { cgroup: cgroup.id, profile: file } }];
    const agent = await Agent.start(config, { native: loadNative(), log: (l) => void err.write(`eunomia: ${l}\n`), trackers: [seccomplogTracker], sinks: [reporter], metrics: false, streams: false });
    try {
      const inst = agent.manager.instancesNow()[0]!;
      const code = await exited(launch(command, { profile, mode, cgroupDir: cgroup.dir, stdio: 'inherit' }));
      const stats = await agent.stop(inst.id);
      await agent.pipeline.close();
      const lost = stats.lostKernel + stats.lostQueue;
      err.write(reporter.seen.length
        ? `eunomia: ${reporter.seen.length} call${reporter.seen.length === 1 ? '' : 's'} or capabilit${reporter.seen.length === 1 ? 'y' : 'ies'} outside ${file} (one report per process and call)${lost ? `, ${lost} reports lost` : ''}: enforce it only once these are in the profile (record again, or merge)\n`
        : `eunomia: nothing outside ${file}${lost ? ` (but ${lost} reports were lost)` : ''}\n`);
      return code;
    } finally {
      agent.closeNow();
    }
  } finally {
    cgroup.remove();
  }
}

export async function seccompCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
      err.write(SECCOMP_HELP);
      return 2;
    case '--help':
    case '-h':
    case 'help':
      out.write(SECCOMP_HELP);
      return 0;
    case 'record':
      return record(rest, out, err);
    case 'run':
      return runUnder(rest, out, err);
    case 'merge': {
      const { values: v, positionals } = parse(rest, { output: { type: 'string', short: 'o' }, mode: { type: 'string' } });
      // One profile: rewritten, e.g. in log mode (--mode log) before it is enforced.
      if (positionals.length < 1) throw usage('merge needs one profile or more');
      const mode = modeOf(v.mode);
      const merged = merge(readProfiles(positionals), mode);
      if (v.output) writeFile(v.output as string, profileJson(merged));
      else out.write(profileJson(merged));
      return 0;
    }
    case 'diff': {
      const { positionals } = parse(rest, {});
      if (positionals.length !== 2) throw usage('diff needs a profile and a new recording (two files)');
      const [a, b] = readProfiles(positionals);
      out.write(diff(a!, b!).text);
      return 0;
    }
    case 'check': {
      const { values: v, positionals } = parse(rest, { against: { type: 'string' } });
      if (positionals.length !== 1) throw usage('check needs one profile');
      const [p] = readProfiles(positionals);
      const against = v.against ? readProfiles([v.against as string])[0] : undefined;
      const r = check(p!, against);
      out.write(r.text);
      return r.errors.length ? 1 : 0;
    }
    case 'summary': {
      const { values: v, positionals } = parse(rest, { previous: { type: 'string' } });
      if (positionals.length !== 1) throw usage('summary needs one profile');
      const [p] = readProfiles(positionals);
      out.write(summary(p!, v.previous ? readProfiles([v.previous as string])[0] : undefined));
      return 0;
    }
    case 'spo': {
      const { values: v, positionals } = parse(rest, { name: { type: 'string' }, namespace: { type: 'string' } });
      if (positionals.length !== 1 || !v.name) throw usage('spo needs one profile and --name NAME');
      const [p] = readProfiles(positionals);
      out.write(toSpo(p!, v.name as string, v.namespace as string | undefined));
      return 0;
    }
    default:
      throw usage(`unknown seccomp command "${cmd}"`);
  }
}
