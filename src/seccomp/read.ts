/**
 * Reading a seccomp profile: its file — JSON parsed, then every key checked as Docker (moby)
 * and the OCI runtimes would take it, each problem in words naming the file and the key
 * (`profile.json: syscalls[3].names[1]: unknown syscall "opne" …`) — and what its rules allow
 * (`verdict` and the helpers after it, shared by summary, diff, check and merge).
 *
 * Plain code rather than ajv: most checks are about meaning (a name in the syscall table, an x32
 * number, both architecture keys, a provenance run id that exists), the messages must name keys
 * as the file writes them, and a profile is read once — ajv would add a schema, a translation of
 * its errors into words, and its load time for no check we could not write in a line.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { SYSCALLS_X86_64 } from '../trackers/names/syscalls-x86_64.js';
import { LATER_SYSCALLS } from '../trackers/names/syscalls-later.js';

export { LATER_SYSCALLS };
import type { ArgUse, DockerArg, DockerProfile, DockerRule, Provenance } from './types.js';

/** Bit 30 of a syscall number: the x32 ABI's calls (same kernel, 32-bit pointers). */
export const X32_BIT = 0x40000000;

let byName: Map<string, number> | undefined;
let byNumber: Map<number, string> | undefined;
function tables(): { byName: Map<string, number>; byNumber: Map<number, string> } {
  if (!byName || !byNumber) {
    byName = new Map();
    byNumber = new Map();
    SYSCALLS_X86_64.forEach((n, nr) => { if (n) { byName!.set(n, nr); byNumber!.set(nr, n); } });
    for (const [nr, n] of LATER_SYSCALLS) if (!byName.has(n)) { byName.set(n, nr); byNumber.set(nr, n); }
  }
  return { byName, byNumber };
}

/** Whether `name` is an x86-64 syscall (this build's table, or a later kernel's). */
export const isKnownSyscall = (name: string): boolean => tables().byName.has(name);
/** The x86-64 name of a number (this build's table, or a later kernel's). */
export const knownSyscallName = (nr: number): string | undefined => tables().byNumber.get(nr);
/** Every known x86-64 syscall name, sorted. */
export const knownSyscalls = (): string[] => [...tables().byName.keys()].sort();

/** The actions the OCI runtime spec (and so Docker and runc) accepts; NOTIFY is the user-notification one. */
export const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_NOTIFY'] as const;
export const OPS: readonly DockerArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE',
  'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
/** The architectures the runtime spec names (archMap, as in Docker's default profile, may list any of them). */
const ARCHES = ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'];
/** What `architectures` may list here: the x86-64 machine's three ABIs (Docker's default maps all three). */
const X86_ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
/** seccomp(2) flags the runtime spec knows; runc refuses others. */
const FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];
/** moby's names for the x86 machine's ABIs in a rule's includes/excludes `arches`. */
const MOBY_X86 = ['amd64', 'x32', 'x86'];

const TOP_KEYS = ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls', 'flags', 'listenerPath', 'listenerMetadata', 'eunomia'];
const RULE_KEYS = ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes'];
const ARG_KEYS = ['index', 'value', 'valueTwo', 'op'];
const FILTER_KEYS = ['caps', 'arches', 'minKernel'];
const PROVENANCE_KEYS = ['version', 'runs', 'syscalls', 'base', 'args', 'capabilities', 'compatCalls', 'unnamed'];
const ARGUSE_KEYS = ['cloneNamespaces', 'unshareNamespaces', 'socketFamilies', 'prctlOptions', 'personalities', 'unrestricted'];

type Obj = Record<string, unknown>;

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}
const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : kindOf(v));
const key = (path: string, k: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`);

/** The checks of one file: each failure throws E_PROFILE naming the file and the key. */
class Reader {
  constructor(private readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new EunomiaError(ErrorCodes.PROFILE, `${this.file}: ${path ? `${path}: ` : ''}${problem}`);
  }

  object(v: unknown, path: string, keys: readonly string[], what: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be ${what}, got ${kindOf(v)}`);
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.fail(path, `unknown key "${k}" (known here: ${keys.join(', ')})`);
    return v as Obj;
  }

  array(v: unknown, path: string, what = 'an array'): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be ${what}, got ${kindOf(v)}`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${kindOf(v)}`);
    return v;
  }

  strings(v: unknown, path: string): string[] {
    return this.array(v, path, 'an array of strings').map((s, i) => this.string(s, `${path}[${i}]`));
  }

  /** A non-negative integer JSON can carry exactly (argument values up to 2^53 − 1). */
  count(v: unknown, path: string, max = Number.MAX_SAFE_INTEGER, what = `an integer from 0 to ${max}`): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) this.fail(path, `${shown(v)} is not ${what}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], what: string): T {
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(path, `${shown(v)} is not ${what} — use one of ${allowed.join(', ')}`);
    return v as T;
  }

  errno(v: unknown, path: string): number {
    return this.count(v, path, 4095, 'an errno number — give an integer from 0 to 4095');
  }

  /**
   * A syscall name as the profile may write it: a known x86-64 name (returned as is), or its number
   * as a string of digits (returned as the name). `foreign`: the profile also serves other
   * architectures, whose names this table cannot check.
   */
  syscall(v: unknown, path: string, foreign: boolean): string {
    const s = this.string(v, path);
    if (/^\d+$/.test(s)) {
      const nr = Number(s);
      if (nr & X32_BIT) this.fail(path, `x32 syscall numbers are not supported: "${s}" (0x${nr.toString(16)}) — Eunomia profiles are for the x86-64 ABI`);
      const name = knownSyscallName(nr);
      if (name === undefined) this.fail(path, `unknown syscall number "${s}" (not an x86-64 syscall this build or a later kernel knows)`);
      return name;
    }
    if (!foreign && !isKnownSyscall(s)) this.fail(path, `unknown syscall "${s}" (x86-64 names, e.g. openat)`);
    return s;
  }
}

/** `includes`/`excludes`: moby's conditions on the machine, the capabilities and the kernel. */
function readFilter(r: Reader, v: unknown, path: string): Obj {
  const o = r.object(v, path, FILTER_KEYS, 'an object of conditions (caps, arches, minKernel)');
  if (o.caps !== undefined) r.strings(o.caps, `${path}.caps`);
  if (o.arches !== undefined) r.strings(o.arches, `${path}.arches`);
  if (o.minKernel !== undefined && !/^\d+\.\d+$/.test(r.string(o.minKernel, `${path}.minKernel`))) {
    r.fail(`${path}.minKernel`, `${shown(o.minKernel)} is not a kernel version — write "<kernel>.<major>", e.g. "4.8"`);
  }
  return o;
}

function readArg(r: Reader, v: unknown, path: string): DockerArg {
  const o = r.object(v, path, ARG_KEYS, 'an object {index, value, valueTwo, op}');
  if (o.index === undefined) r.fail(path, 'index is missing (the argument, 0 to 5)');
  if (o.op === undefined) r.fail(path, 'op is missing (the comparison, e.g. SCMP_CMP_EQ)');
  const arg: DockerArg = {
    index: r.count(o.index, `${path}.index`, 5, 'an argument index — give 0 to 5'),
    value: o.value === undefined ? 0 : r.count(o.value, `${path}.value`),
    op: r.oneOf(o.op, `${path}.op`, OPS, 'a comparison'),
  };
  if (o.valueTwo !== undefined) arg.valueTwo = r.count(o.valueTwo, `${path}.valueTwo`);
  return arg;
}

function readRule(r: Reader, v: unknown, path: string, foreignProfile: boolean): DockerRule {
  const o = r.object(v, path, RULE_KEYS, 'an object {names, action, …}');
  if (o.name !== undefined && o.names !== undefined) r.fail(path, 'both name and names are given — Docker refuses such a rule; use names');
  const includes = o.includes === undefined ? undefined : readFilter(r, o.includes, `${path}.includes`);
  const excludes = o.excludes === undefined ? undefined : readFilter(r, o.excludes, `${path}.excludes`);
  // A rule Docker only applies on other machines never reaches an x86-64 filter: its names are not ours to check.
  const arches = includes?.arches as string[] | undefined;
  const foreign = foreignProfile || (arches !== undefined && !arches.some((a) => MOBY_X86.includes(a)));
  let names: string[];
  if (o.name !== undefined) names = [r.syscall(o.name, `${path}.name`, foreign)];
  else {
    if (o.names === undefined) r.fail(path, 'names is missing (the syscalls the rule is for)');
    names = r.array(o.names, `${path}.names`, 'an array of syscall names').map((n, i) => r.syscall(n, `${path}.names[${i}]`, foreign));
    if (!names.length) r.fail(`${path}.names`, 'is empty — a rule names at least one syscall');
  }
  if (o.action === undefined) r.fail(path, 'action is missing (e.g. SCMP_ACT_ALLOW)');
  const rule: DockerRule = { names, action: r.oneOf(o.action, `${path}.action`, ACTIONS, 'a seccomp action') };
  if (o.errnoRet !== undefined) rule.errnoRet = r.errno(o.errnoRet, `${path}.errnoRet`);
  if (o.args !== undefined) {
    const args = r.array(o.args, `${path}.args`, 'an array of argument conditions');
    if (args.length > 6) r.fail(`${path}.args`, `${args.length} conditions: a syscall has 6 arguments at most`);
    rule.args = args.map((a, i) => readArg(r, a, `${path}.args[${i}]`));
  }
  if (o.comment !== undefined) rule.comment = r.string(o.comment, `${path}.comment`);
  if (includes) rule.includes = includes;
  if (excludes) rule.excludes = excludes;
  return rule;
}

function readArgUse(r: Reader, v: unknown, path: string): ArgUse {
  const o = r.object(v, path, ARGUSE_KEYS, 'an object of argument values');
  const numbers = (k: string): number[] => r.array(o[k] ?? [], `${path}.${k}`).map((n, i) => r.count(n, `${path}.${k}[${i}]`));
  const unrestricted = r.array(o.unrestricted ?? [], `${path}.unrestricted`)
    .map((s, i) => r.oneOf(s, `${path}.unrestricted[${i}]`, ['prctl', 'personality'] as const, 'a call whose arguments went unrecorded'));
  return {
    cloneNamespaces: r.count(o.cloneNamespaces ?? 0, `${path}.cloneNamespaces`, 0xffffffff),
    unshareNamespaces: r.count(o.unshareNamespaces ?? 0, `${path}.unshareNamespaces`, 0xffffffff),
    socketFamilies: numbers('socketFamilies'),
    prctlOptions: numbers('prctlOptions'),
    personalities: numbers('personalities'),
    unrestricted,
  };
}

/** A run's midRun: true, or absent (a recording from the container's start). */
function midRunOf(r: Reader, v: unknown, path: string): true {
  if (v !== true) r.fail(path, `must be true, got ${JSON.stringify(v) ?? kindOf(v)} — leave midRun out for a recording from the container's start`);
  return true;
}

/** Eunomia's provenance, version 1 (src/seccomp/types.ts, Provenance). */
function readProvenance(r: Reader, v: unknown): Provenance {
  const p = 'eunomia';
  const o = r.object(v, p, PROVENANCE_KEYS, "Eunomia's provenance object");
  for (const k of PROVENANCE_KEYS) if (o[k] === undefined) r.fail(p, `${k} is missing (a provenance has ${PROVENANCE_KEYS.join(', ')})`);
  if (o.version !== 1) r.fail(`${p}.version`, `${shown(o.version)} is not a provenance version this Eunomia reads (1)`);
  const ids = new Set<string>();
  const runs = r.array(o.runs, `${p}.runs`).map((run, i) => {
    const at = `${p}.runs[${i}]`;
    const ro = r.object(run, at, ['id', 'target', 'started', 'ended', 'gate', 'midRun'], 'a run {id, target, started, ended, gate, midRun}');
    const id = r.string(ro.id, `${at}.id`);
    if (!/^r[1-9]\d*$/.test(id)) r.fail(`${at}.id`, `"${id}" is not a run id (r1, r2, …)`);
    if (ids.has(id)) r.fail(`${at}.id`, `run "${id}" is given twice`);
    ids.add(id);
    const to = r.object(ro.target, `${at}.target`, ['kind', 'name', 'id', 'image'], 'a target {kind, name, id, image}');
    const target: Provenance['runs'][number]['target'] = {
      kind: r.oneOf(to.kind, `${at}.target.kind`, ['container', 'command'] as const, 'a kind of target'),
      name: r.string(to.name, `${at}.target.name`),
    };
    if (to.id !== undefined) target.id = r.string(to.id, `${at}.target.id`);
    if (to.image !== undefined) target.image = r.string(to.image, `${at}.target.image`);
    return {
      id, target,
      started: r.string(ro.started, `${at}.started`),
      ended: r.string(ro.ended, `${at}.ended`),
      gate: r.oneOf(ro.gate, `${at}.gate`, ['filter', 'exec'] as const, 'a gate'),
      ...(ro.midRun === undefined ? {} : { midRun: midRunOf(r, ro.midRun, `${at}.midRun`) }),
    };
  });
  return {
    version: 1,
    runs,
    syscalls: readProvenanceSyscalls(r, o.syscalls, `${p}.syscalls`, ids),
    base: r.array(o.base, `${p}.base`).map((n, i) => r.syscall(n, `${p}.base[${i}]`, false)),
    args: readArgUse(r, o.args, `${p}.args`),
    capabilities: (() => {
      const c = r.object(o.capabilities, `${p}.capabilities`, ['used', 'denied'], 'an object {used, denied}');
      return { used: r.strings(c.used ?? [], `${p}.capabilities.used`), denied: r.strings(c.denied ?? [], `${p}.capabilities.denied`) };
    })(),
    compatCalls: r.count(o.compatCalls, `${p}.compatCalls`),
    unnamed: r.array(o.unnamed, `${p}.unnamed`).map((n, i) => {
      const nr = r.count(n, `${p}.unnamed[${i}]`, 0xffffffff, 'a syscall number');
      if (nr & X32_BIT) r.fail(`${p}.unnamed[${i}]`, `x32 syscall numbers are not supported: ${nr} (0x${nr.toString(16)}) — Eunomia profiles are for the x86-64 ABI`);
      return nr;
    }),
  };
}

function readProvenanceSyscalls(r: Reader, v: unknown, path: string, runs: Set<string>): Provenance['syscalls'] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) r.fail(path, `must be an object of syscalls, got ${kindOf(v)}`);
  const out: Provenance['syscalls'] = {};
  for (const [k, e] of Object.entries(v)) {
    const at = key(path, k);
    const name = r.syscall(k, at, false);
    const eo = r.object(e, at, ['count', 'runs'], 'an object {count, runs}');
    const ids = r.strings(eo.runs, `${at}.runs`);
    ids.forEach((id, i) => { if (!runs.has(id)) r.fail(`${at}.runs[${i}]`, `"${id}" is not one of the provenance's runs`); });
    out[name] = { count: r.count(eo.count, `${at}.count`), runs: ids };
  }
  return out;
}

/**
 * A profile file's text as a DockerProfile, every key checked (E_PROFILE naming the file and the
 * key otherwise). Syscalls given by number come back as their names. Names must be x86-64
 * syscalls — except in a profile that also serves other architectures (SCMP_ARCH_X86, or others
 * in archMap, as Docker's default does), whose names this table cannot check, and in rules
 * Docker applies only on other machines (includes.arches without amd64, x32 or x86).
 * listenerPath and listenerMetadata are kept on the object as read.
 */
export function readProfile(text: string, file: string): DockerProfile {
  const r = new Reader(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    r.fail('', `not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) r.fail('', `a seccomp profile is a JSON object ({"defaultAction": …, "syscalls": […]}), not ${kindOf(json)}`);
  const o = json as Obj;
  for (const k of Object.keys(o)) {
    if (!TOP_KEYS.includes(k)) r.fail('', `unknown key "${k}" — a profile has defaultAction, defaultErrnoRet, architectures or archMap, syscalls, flags, listenerPath, listenerMetadata, and Eunomia's eunomia`);
  }
  if (o.architectures !== undefined && o.archMap !== undefined) r.fail('', 'both architectures and archMap are given — Docker refuses such a profile; keep one of them');
  if (o.defaultAction === undefined) r.fail('', `defaultAction is missing — give one of ${ACTIONS.join(', ')}`);
  const profile: DockerProfile = { defaultAction: r.oneOf(o.defaultAction, 'defaultAction', ACTIONS, 'a seccomp action'), syscalls: [] };
  if (o.defaultErrnoRet !== undefined) profile.defaultErrnoRet = r.errno(o.defaultErrnoRet, 'defaultErrnoRet');
  const listed: string[] = [];
  if (o.architectures !== undefined) {
    profile.architectures = r.array(o.architectures, 'architectures', 'an array of architectures').map((a, i) =>
      r.oneOf(a, `architectures[${i}]`, X86_ARCHES, 'an architecture Eunomia reads (the x86-64 machine\'s ABIs)'));
    listed.push(...profile.architectures);
  }
  if (o.archMap !== undefined) {
    profile.archMap = r.array(o.archMap, 'archMap', 'an array of {architecture, subArchitectures}').map((m, i) => {
      const mo = r.object(m, `archMap[${i}]`, ['architecture', 'subArchitectures'], 'an object {architecture, subArchitectures}');
      const architecture = r.oneOf(mo.architecture, `archMap[${i}].architecture`, ARCHES, 'an architecture');
      // Docker's default writes null for "no sub-architectures".
      const subs = mo.subArchitectures === undefined || mo.subArchitectures === null ? [] : r.array(mo.subArchitectures, `archMap[${i}].subArchitectures`);
      const subArchitectures = subs.map((s, j) => r.oneOf(s, `archMap[${i}].subArchitectures[${j}]`, ARCHES, 'an architecture'));
      listed.push(architecture, ...subArchitectures);
      return { architecture, subArchitectures };
    });
  }
  const foreign = listed.some((a) => a !== 'SCMP_ARCH_X86_64' && a !== 'SCMP_ARCH_X32');
  if (o.syscalls === undefined) r.fail('', 'syscalls is missing (the rules: [] for none)');
  profile.syscalls = r.array(o.syscalls, 'syscalls', 'an array of rules').map((rule, i) => readRule(r, rule, `syscalls[${i}]`, foreign));
  if (o.flags !== undefined) {
    profile.flags = r.array(o.flags, 'flags', 'an array of flags').map((f, i) => r.oneOf(f, `flags[${i}]`, FLAGS, 'a seccomp filter flag'));
  }
  const extra = profile as DockerProfile & { listenerPath?: string; listenerMetadata?: string };
  if (o.listenerPath !== undefined) extra.listenerPath = r.string(o.listenerPath, 'listenerPath');
  if (o.listenerMetadata !== undefined) extra.listenerMetadata = r.string(o.listenerMetadata, 'listenerMetadata');
  if (o.eunomia !== undefined) profile.eunomia = readProvenance(r, o.eunomia);
  return profile;
}

// ---------------------------------------------------------------------------------------------
// What a profile's rules allow, as an x86-64 machine running a default `docker run` would load
// them: moby's includes/excludes resolved for amd64, Docker's default capabilities and a kernel
// newer than any minKernel. Shared by summary, diff and check.

/** Docker's default capabilities (moby daemon/pkg/oci/caps/defaults.go): what `includes.caps` is resolved against. */
export const DOCKER_DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

/** Actions that let the call run (LOG logs it, and runs it). */
export const allowing = (action: string): boolean => action === 'SCMP_ACT_ALLOW' || action === 'SCMP_ACT_LOG';

/** Whether moby keeps a rule on this machine (see above). */
function applies(rule: DockerRule): boolean {
  const inc = rule.includes as { arches?: string[]; caps?: string[] } | undefined;
  const exc = rule.excludes as { arches?: string[]; caps?: string[]; minKernel?: string } | undefined;
  if (inc?.arches?.length && !inc.arches.includes('amd64')) return false;
  if (inc?.caps?.length && !inc.caps.every((c) => DOCKER_DEFAULT_CAPS.includes(c))) return false;
  if (exc?.arches?.includes('amd64')) return false;
  if (exc?.caps?.some((c) => DOCKER_DEFAULT_CAPS.includes(c))) return false;
  if (exc?.minKernel) return false;
  return true;
}

const COMPARE: Record<DockerArg['op'], (v: bigint, a: DockerArg) => boolean> = {
  SCMP_CMP_NE: (v, a) => v !== BigInt(a.value),
  SCMP_CMP_LT: (v, a) => v < BigInt(a.value),
  SCMP_CMP_LE: (v, a) => v <= BigInt(a.value),
  SCMP_CMP_EQ: (v, a) => v === BigInt(a.value),
  SCMP_CMP_GE: (v, a) => v >= BigInt(a.value),
  SCMP_CMP_GT: (v, a) => v > BigInt(a.value),
  SCMP_CMP_MASKED_EQ: (v, a) => (v & BigInt(a.value)) === BigInt(a.valueTwo ?? 0),
};

/** A rule's conditions against known argument values; a condition on an unknown argument may pass. */
const matches = (rule: DockerRule, args: Readonly<Record<number, number>>): boolean =>
  (rule.args ?? []).every((a) => args[a.index] === undefined || COMPARE[a.op](BigInt(args[a.index]!), a));

/** The rules of a profile that apply to a syscall on this machine. */
const rulesFor = (profile: DockerProfile, name: string): DockerRule[] =>
  profile.syscalls.filter((r) => r.names.includes(name) && applies(r));

/**
 * What a profile does with a call with these argument values (index → value; others unknown,
 * so conditions on them may pass): an allowing rule that matches wins, then any other matching
 * rule, then the default action.
 */
export function verdict(profile: DockerProfile, name: string, args: Readonly<Record<number, number>> = {}): { allowed: boolean; action: string; rule?: DockerRule } {
  const hits = rulesFor(profile, name).filter((r) => matches(r, args));
  const rule = hits.find((r) => allowing(r.action)) ?? hits[0];
  const action = rule?.action ?? profile.defaultAction;
  return { allowed: allowing(action), action, ...(rule ? { rule } : {}) };
}

/** Whether a call is allowed whatever its arguments: an allowing rule without conditions, or an allowing default no rule overrides. */
export function allowsAnyArgs(profile: DockerProfile, name: string): boolean {
  const rules = rulesFor(profile, name);
  if (rules.some((r) => allowing(r.action) && !r.args?.length)) return true;
  return allowing(profile.defaultAction) && rules.every((r) => allowing(r.action));
}

/** The names a profile's rules allow (with some arguments at least), sorted. */
export function allowedNames(profile: DockerProfile): string[] {
  const names = new Set<string>();
  for (const r of profile.syscalls) if (allowing(r.action) && applies(r)) for (const n of r.names) names.add(n);
  return [...names].sort();
}

/**
 * The values a profile allows for a call's first argument (socket families, prctl options,
 * personas): those its SCMP_CMP_EQ rules name, and those of `candidates` any rule lets through
 * (Docker's default allows socket families by ranges). Sorted.
 */
export function allowedValues(profile: DockerProfile, name: string, candidates: readonly number[] = []): number[] {
  const values = new Set<number>();
  for (const r of rulesFor(profile, name)) {
    const a = r.args?.length === 1 ? r.args[0]! : undefined;
    if (allowing(r.action) && a?.index === 0 && a.op === 'SCMP_CMP_EQ') values.add(a.value);
  }
  for (const v of candidates) if (verdict(profile, name, { 0: v }).allowed) values.add(v);
  return [...values].sort((x, y) => x - y);
}

/** Address families 0 to 45 (AF_UNSPEC to AF_MCTP): the candidates for socket's first argument. */
export const FAMILY_CANDIDATES: readonly number[] = Array.from({ length: 46 }, (_, i) => i);
/** prctl options 1 to 80: the candidates for prctl's first argument. */
export const PRCTL_CANDIDATES: readonly number[] = Array.from({ length: 80 }, (_, i) => i + 1);

/** The namespace flags (of `all`) a call may pass under a profile, each tried alone. */
export function namespacesAllowed(profile: DockerProfile, name: string, all: number): number {
  if (allowsAnyArgs(profile, name)) return all;
  let ok = 0;
  for (let bit = 1; bit; bit = (bit << 1) >>> 0) if (all & bit && verdict(profile, name, { 0: bit }).allowed) ok = (ok | bit) >>> 0;
  return ok;
}
