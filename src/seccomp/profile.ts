/**
 * Recordings → a Docker seccomp profile: allow what was seen (and the base list), refuse the
 * rest, and restrict by argument the calls Docker's default profile restricts (clone, clone3,
 * unshare, socket, prctl, personality). Eunomia's provenance goes under "eunomia", which
 * Docker, Podman and the OCI runtimes ignore. Output is deterministic (sorted) so files diff well.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { cloneFlags } from '../trackers/names/clone.js';
import { addressFamilyName } from '../trackers/names/socket-names.js';
import { BASE_PRCTL_OPTIONS, baseNames } from './base.js';
import { isKnownSyscall, knownSyscallName, X32_BIT } from './read.js';
import type { ArgUse, DenyMode, DockerArg, DockerProfile, DockerRule, Provenance, Recording } from './types.js';

/**
 * The namespace flags a clone(2) filter checks: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER,
 * NEWPID and NEWNET — Docker's mask (2114060288). CLONE_NEWTIME (0x80) is not among them: in
 * clone's first argument that byte is the exit signal.
 */
export const CLONE_NAMESPACES = 0x7e020000;
/** unshare(2) also takes CLONE_NEWTIME. */
export const UNSHARE_NAMESPACES = (CLONE_NAMESPACES | 0x80) >>> 0;
export const EPERM = 1;
export const ENOSYS = 38;
/** Calls allowed by argument, in rules of their own; the others go in one plain ALLOW rule. */
export const ARG_RESTRICTED = ['clone', 'clone3', 'unshare', 'socket', 'prctl', 'personality'] as const;
/** The one architecture written: the profile's names are x86-64's (x86 and x32 calls are refused). */
export const ARCHITECTURES = ['SCMP_ARCH_X86_64'];

const DEFAULT_ACTIONS: Record<DenyMode, string> = { errno: 'SCMP_ACT_ERRNO', kill: 'SCMP_ACT_KILL_PROCESS', log: 'SCMP_ACT_LOG' };

/** The default action of a deny mode. */
export const defaultActionOf = (mode: DenyMode): string => DEFAULT_ACTIONS[mode];
/** The deny mode of a default action, if it is one of the three. */
export const modeOf = (action: string): DenyMode | undefined =>
  (Object.keys(DEFAULT_ACTIONS) as DenyMode[]).find((m) => DEFAULT_ACTIONS[m] === action);

export interface ProfileOptions {
  /** What calls outside the profile get: errno (EPERM, the default), kill (the process), log (allowed, logged). */
  mode?: DenyMode;
  /** Add the base list (src/seccomp/base.ts): what the runtime calls after the filter. Default true. */
  base?: boolean;
}

/** What a profile is made of: the provenance without its version and base (which the making decides). */
export type ProfileFacts = Omit<Provenance, 'version' | 'base'>;

export const noArgs = (): ArgUse => ({ cloneNamespaces: 0, unshareNamespaces: 0, socketFamilies: [], prctlOptions: [], personalities: [], unrestricted: [] });
const sortedUnion = (a: readonly number[], b: readonly number[]): number[] => [...new Set([...a, ...b])].sort((x, y) => x - y);
const textUnion = <T extends string>(a: readonly T[], b: readonly T[]): T[] => [...new Set([...a, ...b])].sort();

/** Two argument uses as one (flags ORed, value lists unioned and sorted). */
export function unionArgs(a: ArgUse, b: ArgUse): ArgUse {
  return {
    cloneNamespaces: (a.cloneNamespaces | b.cloneNamespaces) >>> 0,
    unshareNamespaces: (a.unshareNamespaces | b.unshareNamespaces) >>> 0,
    socketFamilies: sortedUnion(a.socketFamilies, b.socketFamilies),
    prctlOptions: sortedUnion(a.prctlOptions, b.prctlOptions),
    personalities: sortedUnion(a.personalities, b.personalities),
    unrestricted: textUnion(a.unrestricted, b.unrestricted),
  };
}

/** The capability checks of several runs as one (sorted names). */
export const unionCapabilities = (a: ProfileFacts['capabilities'], b: ProfileFacts['capabilities']): ProfileFacts['capabilities'] =>
  ({ used: textUnion(a.used, b.used), denied: textUnion(a.denied, b.denied) });

const rule = (names: string[], comment?: string, args?: DockerArg[]): DockerRule =>
  ({ names, action: 'SCMP_ACT_ALLOW', ...(args ? { args } : {}), ...(comment ? { comment } : {}) });
const eq = (value: number): DockerArg[] => [{ index: 0, value, op: 'SCMP_CMP_EQ' }];
/** Allowed when none of `mask`'s bits is set: (arg0 & mask) == 0. */
const noneOf = (mask: number): DockerArg[] => [{ index: 0, value: mask, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }];

/** A namespace rule: the flags not seen are refused; with every flag seen, nothing is left to check. */
function namespaceRule(name: string, seen: number, all: number): DockerRule {
  const allowed = (seen & all) >>> 0;
  const mask = (all & ~allowed) >>> 0;
  if (mask === 0) return rule([name], `${name}: every namespace flag was seen, so it is not restricted`);
  return rule([name], allowed ? `${name} may create only ${cloneFlags(allowed)}` : `${name} without namespace flags: none was seen`, noneOf(mask));
}

/** Per-value rules (socket families, prctl options, personas), or one plain rule when values went unrecorded. */
function valueRules(name: string, values: readonly number[], unrestricted: boolean, word: string, label: (v: number) => string | undefined): DockerRule[] {
  if (unrestricted) return [rule([name], `${name}: ${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word} the recorder does not keep was seen, so any ${word} is allowed`)];
  if (!values.length) return [rule([name], `${name}: seen with no ${word} recorded, so any ${word} is allowed`)];
  return values.map((v) => rule([name], label(v), eq(v)));
}

/**
 * The profile of `facts`: the one place rules are made (toProfile and merge both come here).
 * Its provenance lists every syscall seen (clone3 too when it gets ENOSYS: merge needs to know it
 * was called), and every one allowed unseen with count 0 and no runs: the base list's (also in
 * `base`) and clone when it is only clone3's fallback. `args` is the runs' own: the base list's
 * prctl options are in the rules, not in it.
 */
export function profileFrom(facts: ProfileFacts, opts: ProfileOptions = {}): DockerProfile {
  const mode = opts.mode ?? 'errno';
  const withBase = opts.base ?? true;
  const seen = new Set(Object.keys(facts.syscalls));
  const base = withBase ? baseNames().filter((n) => !seen.has(n)) : [];
  const allowed = new Set([...seen, ...base]);
  // clone3 gets ENOSYS (below), so libc falls back to clone: clone must then be allowed too.
  if (seen.has('clone3')) allowed.add('clone');
  const { args } = facts;
  const restricted = new Set<string>(ARG_RESTRICTED);
  const rules: DockerRule[] = [];
  const plain = [...allowed].filter((n) => !restricted.has(n)).sort();
  if (plain.length) rules.push(rule(plain));
  if (allowed.has('clone')) {
    rules.push(namespaceRule('clone', args.cloneNamespaces, CLONE_NAMESPACES));
    const namespacesByClone3 = seen.has('clone3') && !seen.has('clone') && (args.cloneNamespaces & UNSHARE_NAMESPACES) !== 0;
    rules.push(namespacesByClone3
      ? rule(['clone3'], 'clone3 created namespaces and clone was never called: clone3 is allowed unrestricted (its flags are in memory a filter cannot read)')
      : { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, comment: "clone3's flags are in memory a filter cannot read: ENOSYS makes libc fall back to clone, whose flags are checked (as Docker does)" });
  }
  if (allowed.has('unshare')) rules.push(namespaceRule('unshare', args.unshareNamespaces, UNSHARE_NAMESPACES));
  if (allowed.has('socket')) rules.push(...valueRules('socket', args.socketFamilies, false, 'family', addressFamilyName));
  if (allowed.has('prctl')) {
    // The base list's prctl calls come with their options.
    const options = withBase ? sortedUnion(args.prctlOptions, BASE_PRCTL_OPTIONS.map((o) => o.option)) : args.prctlOptions;
    rules.push(...valueRules('prctl', options, args.unrestricted.includes('prctl'), 'option', () => undefined));
  }
  if (allowed.has('personality')) {
    rules.push(...valueRules('personality', args.personalities, args.unrestricted.includes('personality'), 'persona', (v) => `persona 0x${v.toString(16)}`));
  }
  const syscalls: Provenance['syscalls'] = {};
  for (const n of [...allowed].sort()) syscalls[n] = facts.syscalls[n] ?? { count: 0, runs: [] };
  return {
    defaultAction: defaultActionOf(mode),
    ...(mode === 'errno' ? { defaultErrnoRet: EPERM } : {}),
    // Written, and no archMap: Docker refuses a profile with both.
    architectures: [...ARCHITECTURES],
    syscalls: rules,
    eunomia: {
      version: 1,
      runs: facts.runs,
      syscalls,
      base: base.sort(),
      args: facts.args,
      capabilities: facts.capabilities,
      compatCalls: facts.compatCalls,
      unnamed: facts.unnamed,
    },
  };
}

const targetText = (r: Recording): string => `${r.target.kind} ${r.target.name}`;

/**
 * A profile from recordings (runs r1, r2… in their order). Numbers the recorder could not name
 * are named from later kernels' table when they can be (their calls uncounted: count 0); x32
 * numbers are never written — each counts as one compat call (the profile refuses both).
 */
export function toProfile(recordings: Recording[], opts: ProfileOptions = {}): DockerProfile {
  const facts: ProfileFacts = { runs: [], syscalls: {}, args: noArgs(), capabilities: { used: [], denied: [] }, compatCalls: 0, unnamed: [] };
  const unnamed = new Set<number>();
  const see = (name: string, count: number, run: string): void => {
    const e = (facts.syscalls[name] ??= { count: 0, runs: [] });
    e.count += count;
    if (!e.runs.includes(run)) e.runs.push(run);
  };
  recordings.forEach((r, i) => {
    const id = `r${i + 1}`;
    facts.runs.push({ id, target: r.target, started: r.started, ended: r.ended, gate: r.gate, ...(r.midRun ? { midRun: true as const } : {}) });
    for (const [name, count] of Object.entries(r.syscalls)) {
      if (!isKnownSyscall(name)) throw new EunomiaError(ErrorCodes.PROFILE, `recording ${id} (${targetText(r)}): unknown syscall "${name}" — a recording names x86-64 syscalls (unknown numbers go in "unnamed")`);
      see(name, count, id);
    }
    for (const nr of r.unnamed) {
      const name = knownSyscallName(nr);
      if (name) see(name, 0, id);
      else if (nr & X32_BIT) facts.compatCalls++;
      else unnamed.add(nr);
    }
    facts.compatCalls += r.compatCalls;
    facts.args = unionArgs(facts.args, r.args);
    facts.capabilities = unionCapabilities(facts.capabilities, r.capabilities);
  });
  facts.unnamed = [...unnamed].sort((a, b) => a - b);
  return profileFrom(facts, opts);
}
