/**
 * `eunomia doctor`'s report: what this host gives eBPF (kernel, BTF, the program kinds the
 * kernel really loads and attaches, tracefs, cgroups, privileges, memlock, container runtimes),
 * and from that, for each tracker and rule, whether it can run here and, if not, why and what
 * to do. The faces render it (src/cli/doctor.ts); the server logs its summary once listening.
 */
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { hasBpfPrivileges } from '../core/kernel.js';
import { probeProgramKinds, PROGRAM_KINDS, type KindProbe, type ProgramKind } from '../core/kernel-probe.js';
import type { NativeBinding } from '../core/native.js';
import { objectPrograms, type ObjectProgram } from '../core/object-programs.js';
import { kindOfSection, sectionTracepoint } from '../core/sections.js';
import { objectDir } from '../core/paths.js';
import { eunomiaVersion } from '../core/version.js';
import { CONTAINER_FILTER_PROGRAM } from '../core/bpf-object.js';
import { allOptions, resolveOptions } from '../runtime/options.js';
import type { OptionValues, TrackerDescriptor } from '../runtime/types.js';
import { trackers as catalogue } from '../trackers/registry.js';
import { defaultClients, runtimeSockets } from '../containers/index.js';
import { DockerClient } from '../containers/docker.js';
import type { RuntimeName } from '../containers/types.js';
import type { RuleSet } from '../rules/index.js';
import { defaultConfig, type ServerConfig } from './config.js';
import { ruleSetOf, trackersToStart, type Agent } from './agent.js';
import {
  activeLsms, btfFacts, capabilities, cgroupFacts, kernelFacts, memlock, tracefsFacts,
  type BtfFacts, type Capabilities, type CgroupFacts, type KernelFacts, type Memlock, type TracefsFacts,
} from './host-facts.js';

export interface KindReport extends KindProbe {
  /** What the kernel's config says about it, where it was readable: evidence beside the answer. */
  config?: string;
}

export interface ProgramReport extends ObjectProgram {
  kind: ProgramKind | null;
  /**
   * runs: loaded by default and can run here; fallback: an alternative of its group runs
   * instead; left-out: optional or not available here, the tracker runs without it;
   * blocked: needed, and cannot run here; not-loaded: not chosen with the default options.
   */
  status: 'runs' | 'fallback' | 'left-out' | 'blocked' | 'not-loaded';
  reason?: string;
}

export interface TrackerReport {
  name: string;
  canRun: boolean;
  /** Started by `eunomia server` with its defaults (configured, or needed by an enabled rule). */
  byDefault: boolean;
  programs: ProgramReport[];
  /** The program kinds it loads here. */
  kinds: ProgramKind[];
  /** Alternatives used, programs left out, options it needs. */
  notes: string[];
  /** Why it cannot run, and what to do. */
  reason?: string;
  todo?: string;
}

export interface RuleReport {
  id: string;
  trackers: string[];
  canRun: boolean;
  reason?: string;
}

export interface RuntimeReport {
  runtime: RuntimeName;
  socket: string;
  present: boolean;
  /** Whether the agent talks to it (and how), and why not. */
  used: 'yes' | 'on-demand' | 'no';
  usedWhy?: string;
  /** Answered (doctor: `checked` says how), or connected (the server's own view); null: not asked. */
  answers: boolean | null;
  /** api: its API answered a ping; socket: its socket accepted a connection (containerd); agent: the running agent's connection. */
  checked?: 'api' | 'socket' | 'agent';
  error?: string;
}

export interface DoctorReport {
  eunomia: string;
  /** Everything the defaults (`eunomia server`) need can run here. */
  ok: boolean;
  /** Why not, each with what to do. */
  problems: string[];
  kernel: KernelFacts & { libbpf: string };
  btf: BtfFacts;
  privileges: { uid: number | null; bpf: boolean; capabilities: Capabilities };
  memlock: Memlock;
  tracefs: Omit<TracefsFacts, 'tracepoints'> & { tracepoints: number };
  cgroup: CgroupFacts;
  lsms: string[] | null;
  programKinds: KindReport[];
  runtimes: RuntimeReport[];
  trackers: TrackerReport[];
  rules: RuleReport[];
  /** The short form: what the server logs at start. */
  summary: string[];
  /** Time to build this report, ms. */
  ms: number;
}

export interface DoctorOptions {
  native: NativeBinding;
  /** Default: the catalogue. A descriptor's `object` may be an absolute path. */
  trackers?: readonly TrackerDescriptor[];
  /** What the defaults are (default: the built-in config). */
  config?: ServerConfig;
  /** The rules in force (default: those of `config`). */
  rules?: RuleSet;
  /**
   * How to learn which runtimes answer: 'ping' asks each (doctor); a list is what a running
   * agent already knows (the server: no second connection, no gRPC loaded for it).
   */
  runtimes?: 'ping' | 'off' | { answering: readonly RuntimeName[] };
  /** Kinds already probed (tests); default: probed now. */
  probes?: KindProbe[];
}

const TODO: Partial<Record<ProgramKind, string>> = {
  tracepoint: 'mount tracefs, and use a kernel with BPF events (CONFIG_BPF_EVENTS)',
  raw_tracepoint: 'use a kernel 4.17 or later with BPF events (CONFIG_BPF_EVENTS)',
  kprobe: 'use a kernel built with CONFIG_KPROBES and CONFIG_KPROBE_EVENTS, or a tracker with a tracepoint alternative',
  fentry: 'allow BPF trampolines (fentry/fexit) on this kernel, or use a tracker with a tracepoint alternative',
  fexit: 'allow BPF trampolines (fentry/fexit) on this kernel, or use a tracker with a tracepoint alternative',
  lsm: 'use a kernel with CONFIG_BPF_LSM and "bpf" in its lsm= boot list',
  uprobe: 'use a kernel built with CONFIG_UPROBE_EVENTS',
  perf_event: 'use a kernel with perf events (CONFIG_PERF_EVENTS); in a VM, a software clock event is enough',
  tp_btf: 'use a kernel with BTF (CONFIG_DEBUG_INFO_BTF) 5.5 or later',
};

/** The kernel config's word on a kind, as evidence (undefined when the config is unreadable). */
function configEvidence(kind: ProgramKind, k: KernelFacts): string | undefined {
  if (!k.configFrom) return undefined;
  const c = k.config;
  const says = (key: string): string => `${key}${c[key] === null ? ' is not set' : `=${c[key]}`}`;
  switch (kind) {
    case 'kprobe':
      return [says('CONFIG_KPROBES'), says('CONFIG_KPROBE_EVENTS')].join(', ');
    case 'uprobe':
      return says('CONFIG_UPROBE_EVENTS');
    case 'fentry':
    case 'fexit':
      return [says('CONFIG_FUNCTION_TRACER'), says('CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS')].join(', ');
    case 'lsm':
      return [says('CONFIG_BPF_LSM'), says('CONFIG_LSM')].join(', ');
    case 'tp_btf':
      return says('CONFIG_DEBUG_INFO_BTF');
    default:
      return says('CONFIG_BPF_EVENTS');
  }
}

function objectBytes(d: TrackerDescriptor): Buffer {
  return d.objectBytes ?? readFileSync(isAbsolute(d.object) ? d.object : join(objectDir, d.object));
}

/** Which programs the tracker loads with its default options; `needs` says why that is unknown. */
function defaultPrograms(d: TrackerDescriptor, all: ObjectProgram[]): { chosen: Set<string>; needs?: string } {
  // The container filter's program is on only with a container filter.
  const every = new Set(all.map((p) => p.name).filter((n) => n !== CONTAINER_FILTER_PROGRAM));
  let values: OptionValues;
  let needs: string | undefined;
  try {
    values = resolveOptions(d, {}, process.pid).values;
  } catch (e) {
    // Options it cannot start without: its programs are still chosen from the defaults.
    needs = (e as Error).message;
    values = Object.fromEntries(allOptions(d).filter((o) => o.default !== undefined).map((o) => [o.name, o.default]));
  }
  if (!d.programs) return { chosen: every, ...(needs ? { needs } : {}) };
  try {
    return { chosen: new Set(d.programs(values)), ...(needs ? { needs } : {}) };
  } catch (e) {
    return { chosen: every, needs: needs ?? (e as Error).message };
  }
}

/** Why one program cannot run here, or undefined when it can. */
function blockedBy(p: ObjectProgram, kind: ProgramKind | undefined, probes: Map<ProgramKind, KindProbe>, tracefs: TracefsFacts): string | undefined {
  if (!kind) return undefined; // a kind Eunomia does not probe (none of its trackers has one)
  const probe = probes.get(kind);
  if (probe && !probe.ok) return `${kind} ${probe.error ? `refused (${probe.stage}: ${probe.error})` : `not available (${probe.reason})`}`;
  const tp = sectionTracepoint(p.section);
  if (tp && tracefs.readable) {
    const cats = tracefs.tracepoints.get(tp.name);
    if (!cats || (tp.category !== undefined && !cats.includes(tp.category))) return `this kernel has no tracepoint ${tp.category ? `${tp.category}:` : ''}${tp.name}`;
  }
  return undefined;
}

/** Whether a tracker can run here with its default options, program by program. */
export function assessTracker(d: TrackerDescriptor, probes: Map<ProgramKind, KindProbe>, tracefs: TracefsFacts, byDefault: boolean): TrackerReport {
  const all = objectPrograms(objectBytes(d));
  const { chosen, needs } = defaultPrograms(d, all);
  const notes: string[] = [];
  if (needs) notes.push(`needs options to start (${needs.replace(/^tracker \S+: /, '')}); judged with its default programs`);
  const optional = new Set(d.optionalPrograms ?? []);
  const grouped = new Map<string, { programs: readonly string[]; optional?: boolean }>();
  for (const g of d.fallbacks ?? []) for (const n of g.programs) grouped.set(n, g);
  const programs: ProgramReport[] = all.map((p) => {
    const kind = kindOfSection(p.section);
    const base = { ...p, kind: kind ?? null };
    if (!chosen.has(p.name)) return { ...base, status: 'not-loaded' as const };
    const unavailable = d.unavailable?.[p.name];
    if (unavailable !== undefined) return { ...base, status: 'left-out' as const, reason: unavailable };
    const why = blockedBy(p, kind, probes, tracefs);
    if (why === undefined) return { ...base, status: 'runs' as const };
    return { ...base, status: optional.has(p.name) ? ('left-out' as const) : ('blocked' as const), reason: why };
  });
  const byName = new Map(programs.map((p) => [p.name, p]));
  const reasons: string[] = [];
  // One of each group: the first that can run; the others are alternatives left out.
  for (const g of d.fallbacks ?? []) {
    const members = g.programs.map((n) => byName.get(n)).filter((p): p is ProgramReport => p !== undefined && p.status !== 'not-loaded' && p.status !== 'left-out');
    const runner = members.find((p) => p.status === 'runs');
    for (const p of runner ? members : []) {
      if (p === runner) continue;
      if (p.status === 'blocked') notes.push(`${p.name}: ${p.reason}: uses ${runner!.name} (${runner!.kind}) instead`);
      else p.reason = `an alternative to ${runner!.name}, which runs`;
      p.status = 'fallback';
    }
    if (!runner && members.length > 0) {
      if (g.optional) {
        notes.push(`none of ${g.programs.join(', ')} can run: their events are missing`);
        for (const p of members) p.status = 'left-out';
      } else reasons.push(`none of ${g.programs.join(', ')} can run (${members.map((p) => `${p.name}: ${p.reason}`).join('; ')})`);
    }
  }
  // Blocked programs by reason: a tracker of 40 tracepoints refused for one reason says it once.
  const byReason = new Map<string, ProgramReport[]>();
  for (const p of programs) {
    if (p.status === 'blocked' && !grouped.has(p.name)) byReason.set(p.reason!, [...(byReason.get(p.reason!) ?? []), p]);
    if (p.status === 'left-out' && !grouped.has(p.name)) notes.push(`${p.name} left out: ${p.reason}`);
  }
  for (const [why, ps] of byReason) {
    const named = ps.slice(0, 3).map((p) => `${p.name} (${p.section})`).join(', ');
    reasons.push(`${why}: ${named}${ps.length > 3 ? ` and ${ps.length - 3} more programs` : ''}`);
  }
  const kinds = [...new Set(programs.filter((p) => p.status === 'runs' && p.kind).map((p) => p.kind!))];
  if (kinds.includes('uprobe')) notes.push('its uprobes attach where its options point');
  const report: TrackerReport = { name: d.name, canRun: reasons.length === 0, byDefault, programs, kinds, notes };
  if (reasons.length > 0) {
    report.reason = reasons.join('; ');
    const blockedKinds = [...new Set(programs.filter((p) => p.status === 'blocked').map((p) => p.kind).filter((k): k is ProgramKind => k !== null))];
    const probeFailed = blockedKinds.filter((k) => probes.get(k)?.ok === false);
    report.todo = probeFailed.length > 0
      ? probeFailed.map((k) => (!hasBpfPrivileges() ? 'run as root (or with CAP_BPF and CAP_PERFMON)' : TODO[k] ?? `make ${k} programs available`)).filter((t, i, a) => a.indexOf(t) === i).join('; ')
      : 'use a kernel that has these tracepoints (a newer one, or one built with them)';
  }
  return report;
}

/** Resolves when something accepts a connection on the unix socket (within 2 s). */
function accepts(socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const timer = setTimeout(() => (c.destroy(), reject(new Error('no answer in 2 s'))), 2000);
    c.once('connect', () => (clearTimeout(timer), c.destroy(), resolve()));
    c.once('error', (e: NodeJS.ErrnoException) => (clearTimeout(timer), c.destroy(), reject(new Error(e.code ?? e.message))));
  });
}

/**
 * Docker and Podman are asked their API's /_ping; containerd only whether its socket accepts a
 * connection: its gRPC client and protobuf definitions cost ~600 ms to load here, more than
 * the rest of the report, and the agent connects it only on demand.
 */
async function pingRuntimes(): Promise<Map<RuntimeName, { answers: boolean; error?: string }>> {
  const s = runtimeSockets();
  const asks: [RuntimeName, () => Promise<void>][] = [
    ['docker', () => new DockerClient({ socket: s.docker, runtime: 'docker', timeoutMs: 2000 }).ping()],
    ['podman', () => new DockerClient({ socket: s.podman, runtime: 'podman', timeoutMs: 2000 }).ping()],
    ['containerd', () => accepts(s.containerd)],
  ];
  const out = new Map<RuntimeName, { answers: boolean; error?: string }>();
  await Promise.all(
    asks.map(async ([runtime, ask]) => {
      try {
        await ask();
        out.set(runtime, { answers: true });
      } catch (e) {
        out.set(runtime, { answers: false, error: (e as Error).message });
      }
    }),
  );
  return out;
}

async function runtimeReports(how: DoctorOptions['runtimes']): Promise<RuntimeReport[]> {
  const s = runtimeSockets();
  const used = defaultClients(process.env, { containerdOnDemand: true });
  const present = (p: string): boolean => {
    try {
      return statSync(p).isSocket();
    } catch {
      return false;
    }
  };
  const pings = how === 'ping' || how === undefined ? await pingRuntimes() : undefined;
  return (Object.entries(s) as [RuntimeName, string][]).map(([runtime, socket]) => {
    const client = used.find((c) => c.runtime === runtime);
    const r: RuntimeReport = { runtime, socket, present: present(socket), used: client ? (client.onDemand ? 'on-demand' : 'yes') : 'no', answers: null };
    if (!client) r.usedWhy = runtime === 'containerd' ? 'not a Kubernetes node: containerd holds Docker\'s containers, which come from Docker' : 'no socket';
    else if (client.onDemand) r.usedWhy = 'connected when a container no other runtime knows appears';
    if (pings) {
      const p = pings.get(runtime)!;
      r.answers = r.present ? p.answers : false;
      r.checked = runtime === 'containerd' ? 'socket' : 'api';
      if (!p.answers && r.present && p.error) r.error = p.error;
    } else if (how === 'off') {
      r.used = 'no';
      r.usedWhy = 'container attribution is off';
    } else if (how && how !== 'ping' && client && !client.onDemand) {
      r.answers = how.answering.includes(runtime);
      r.checked = 'agent';
    }
    return r;
  });
}

function kindWord(k: KindReport): string {
  return k.ok ? k.kind : `${k.kind} (${k.stage}${k.error ? `: ${k.error}` : ''})`;
}

function mib(n: number | null): string {
  return n === null ? 'unlimited' : n >= 1 << 20 ? `${Math.round((n / (1 << 20)) * 10) / 10} MiB` : `${n} bytes`;
}

/** The short form, a few lines: what the server logs once it listens. */
export function summaryLines(r: Omit<DoctorReport, 'summary' | 'ms'>): string[] {
  const caps = r.privileges.capabilities;
  const priv = r.privileges.bpf
    ? `privileged (${caps.missing.length ? `lacks ${caps.missing.map((m) => m.name).join(', ')}` : 'every capability it uses'})`
    : 'NOT privileged: eBPF needs root (or CAP_BPF and CAP_PERFMON)';
  const lines = [
    `kernel ${r.kernel.release} (${r.kernel.arch}), libbpf ${r.kernel.libbpf}, BTF ${r.btf.present ? 'yes' : 'MISSING'}, tracefs ${r.tracefs.path ?? 'not mounted'}, cgroup ${r.cgroup.version}${r.cgroup.v2Root && r.cgroup.version !== 'v2' ? ` (v2 at ${r.cgroup.v2Root})` : ''}, memlock ${mib(r.memlock.soft)}${r.memlock.charged ? '' : ' (not charged since 5.11)'}; ${priv}`,
  ];
  const ok = r.programKinds.filter((k) => k.ok);
  const no = r.programKinds.filter((k) => !k.ok);
  lines.push(`program kinds: ${ok.length ? `${ok.map((k) => k.kind).join(', ')} load and attach` : 'none load'}${no.length ? `; refused: ${no.map(kindWord).join(', ')}` : ''}`);
  const rt = r.runtimes.map((x) => `${x.runtime} ${!x.present ? 'absent' : x.answers === true ? (x.checked === 'socket' ? 'accepts connections' : 'answers') : x.answers === false ? 'does not answer' : x.used === 'on-demand' ? 'on demand' : x.used === 'no' ? 'not used' : 'found'}`);
  lines.push(`container runtimes: ${rt.join(', ')}`);
  const cannot = r.trackers.filter((t) => !t.canRun);
  const rulesOk = r.rules.filter((x) => x.canRun).length;
  lines.push(
    `trackers: ${r.trackers.length - cannot.length} of ${r.trackers.length} can run here${cannot.length ? ` (not: ${cannot.length > 3 ? `${cannot.slice(0, 3).map((t) => t.name).join(', ')} and ${cannot.length - 3} more` : cannot.map((t) => `${t.name}: ${t.reason}`).join('; ')})` : ''}; rules: ${rulesOk} of ${r.rules.length} can run`,
  );
  lines.push(r.ok ? 'the defaults can all run here' : `the defaults cannot all run here: ${r.problems.join('; ')}`);
  return lines;
}

/** Builds the report. Probes the kernel (a few hundred ms, on worker threads); never throws for what the host lacks. */
export async function buildReport(opts: DoctorOptions): Promise<DoctorReport> {
  const t0 = performance.now();
  const known = opts.trackers ?? catalogue;
  const config = opts.config ?? defaultConfig();
  const bpf = hasBpfPrivileges();
  const kernel = kernelFacts();
  const btf = btfFacts();
  // The kernel probes (worker threads), the runtimes (sockets) and the rules (compiled) overlap.
  const probing = opts.probes ? Promise.resolve(opts.probes) : probeProgramKinds(opts.native);
  const runtimesP = runtimeReports(opts.runtimes);
  const rulesP = opts.rules ? Promise.resolve(opts.rules) : config.rules.enabled ? ruleSetOf(config) : Promise.resolve(undefined);
  const tracefs = tracefsFacts();
  const [probes, runtimes, rules] = await Promise.all([probing, runtimesP, rulesP]);
  const programKinds: KindReport[] = probes.map((p) => {
    const config = configEvidence(p.kind, kernel);
    return config === undefined ? p : { ...p, config };
  });
  const probeMap = new Map(probes.map((p) => [p.kind, p]));
  const defaults = new Set(trackersToStart(config, rules, known).map((t) => t.name));
  const trackers = known.map((d) => {
    try {
      return assessTracker(d, probeMap, tracefs, defaults.has(d.name));
    } catch (e) {
      return { name: d.name, canRun: false, byDefault: defaults.has(d.name), programs: [], kinds: [], notes: [], reason: `its object cannot be read: ${(e as Error).message}`, todo: 'run "npm run setup" to build the eBPF objects' };
    }
  });
  const byTracker = new Map(trackers.map((t) => [t.name, t]));
  const ruleReports: RuleReport[] = (rules?.rules() ?? [])
    .filter((x) => x.enabled)
    .map((x) => {
      const missing = x.events.filter((t) => byTracker.get(t)?.canRun !== true);
      const cannot = missing.filter((t) => byTracker.has(t));
      const unknown = missing.filter((t) => !byTracker.has(t));
      const why = [
        ...(cannot.length ? [`needs ${cannot.join(' and ')}, which cannot run here`] : []),
        ...(unknown.length ? [`reads ${unknown.join(' and ')}, not a tracker of this build`] : []),
      ].join('; ');
      return { id: x.id, trackers: x.events, canRun: missing.length === 0, ...(why ? { reason: why } : {}) };
    });
  const problems: string[] = [];
  if (!bpf) problems.push('this process may not load eBPF — run as root (or with CAP_BPF and CAP_PERFMON)');
  if (!btf.present) problems.push(`the kernel exposes no BTF (${btf.path}) — use a kernel built with CONFIG_DEBUG_INFO_BTF=y`);
  if (!tracefs.path && !capabilities().effective.includes('CAP_SYS_ADMIN')) problems.push('tracefs is not mounted and this process cannot mount it — mount -t tracefs tracefs /sys/kernel/tracing');
  // Without privileges every tracker fails for that one reason, said above.
  if (bpf) for (const t of trackers) if (t.byDefault && !t.canRun) problems.push(`tracker ${t.name} cannot run: ${t.reason} — ${t.todo}`);
  const { tracepoints, ...tracefsRest } = tracefs;
  const report = {
    eunomia: eunomiaVersion(),
    ok: problems.length === 0,
    problems,
    kernel: { ...kernel, libbpf: opts.native.libbpfVersion() },
    btf,
    privileges: { uid: process.getuid?.() ?? null, bpf, capabilities: capabilities() },
    memlock: memlock(),
    tracefs: { ...tracefsRest, tracepoints: tracepoints.size },
    cgroup: cgroupFacts(),
    lsms: activeLsms(),
    programKinds,
    runtimes,
    trackers,
    rules: ruleReports,
  };
  return { ...report, summary: summaryLines(report), ms: Math.round(performance.now() - t0) };
}

export { PROGRAM_KINDS };

/**
 * The running agent's view, for the server's start log: its config, rules and trackers, and the
 * runtimes it connected (after their first answer) — no second connection to any. The kernel
 * is probed all the same: no tracker tries fentry, kprobes or LSM, so the agent never asked.
 */
export async function agentReport(agent: Agent, native: NativeBinding): Promise<DoctorReport> {
  await agent.containers?.ready;
  return buildReport({
    native,
    trackers: agent.trackers,
    config: agent.config,
    ...(agent.analyzer ? { rules: agent.analyzer.rules } : {}),
    runtimes: agent.containers ? { answering: agent.containers.resolver.runtimes() } : 'off',
  });
}
