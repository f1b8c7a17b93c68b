/**
 * What one profile's workload uses that another profile refuses: `diff(profile, recording)` —
 * what a new recording adds to a profile — and, the same question asked the other way,
 * `check(profile, against)`'s "what a workload would lose" (src/seccomp/check.ts).
 */
import { noArgs, CLONE_NAMESPACES, ENOSYS, UNSHARE_NAMESPACES } from './profile.js';
import { allowedNames, allowedValues, allowsAnyArgs, FAMILY_CANDIDATES, namespacesAllowed, PRCTL_CANDIDATES, verdict } from './read.js';
import { familyName, namespaceNames, personaName, prctlName } from './summary.js';
import type { ArgUse, DockerProfile } from './types.js';

/** What a workload used: from Eunomia's provenance when the profile has it, else what its rules allow. */
export interface Usage {
  syscalls: string[];
  args: ArgUse;
  capabilities: string[];
}

/**
 * A profile's workload: the syscalls its runs saw (provenance), or — for a profile made
 * elsewhere — everything its rules allow, with the argument values its equality rules name.
 */
export function usageOf(p: DockerProfile): Usage {
  const prov = p.eunomia;
  if (prov) {
    return {
      syscalls: Object.keys(prov.syscalls).filter((n) => prov.syscalls[n]!.runs.length > 0).sort(),
      args: prov.args,
      capabilities: prov.capabilities.used,
    };
  }
  const names = allowedNames(p);
  const args = noArgs();
  if (names.includes('clone')) args.cloneNamespaces = namespacesAllowed(p, 'clone', CLONE_NAMESPACES);
  if (names.includes('unshare')) args.unshareNamespaces = namespacesAllowed(p, 'unshare', UNSHARE_NAMESPACES);
  if (names.includes('socket')) args.socketFamilies = allowedValues(p, 'socket', FAMILY_CANDIDATES);
  if (names.includes('prctl')) args.prctlOptions = allowedValues(p, 'prctl', PRCTL_CANDIDATES);
  if (names.includes('personality')) args.personalities = allowedValues(p, 'personality');
  args.unrestricted = (['prctl', 'personality'] as const).filter((n) => names.includes(n) && allowsAnyArgs(p, n));
  return { syscalls: names, args, capabilities: [] };
}

/** clone3 fails with ENOSYS and clone is allowed: libc falls back, so refusing clone3 loses nothing. */
const clone3FallsBack = (p: DockerProfile): boolean => {
  const v = verdict(p, 'clone3');
  return v.action === 'SCMP_ACT_ERRNO' && v.rule?.errnoRet === ENOSYS && verdict(p, 'clone').allowed;
};

/** What `usage` needs that `profile` refuses: syscalls, and argument values (as an ArgUse). */
export function missing(profile: DockerProfile, usage: Usage): { syscalls: string[]; args: ArgUse } {
  const syscalls = usage.syscalls.filter((n) => !verdict(profile, n).allowed && !(n === 'clone3' && clone3FallsBack(profile)));
  const { args } = usage;
  const clone3 = verdict(profile, 'clone3').allowed;
  const lostBits = (name: string, used: number, all: number): number => {
    let lost = 0;
    for (let bit = 1; bit; bit = (bit << 1) >>> 0) {
      if (used & all & bit && !verdict(profile, name, { 0: bit }).allowed && !(name === 'clone' && clone3)) lost = (lost | bit) >>> 0;
    }
    return lost;
  };
  const lostValues = (name: string, values: readonly number[]): number[] => values.filter((v) => !verdict(profile, name, { 0: v }).allowed);
  return {
    syscalls,
    args: {
      cloneNamespaces: lostBits('clone', args.cloneNamespaces, UNSHARE_NAMESPACES),
      unshareNamespaces: lostBits('unshare', args.unshareNamespaces, UNSHARE_NAMESPACES),
      socketFamilies: lostValues('socket', args.socketFamilies),
      prctlOptions: lostValues('prctl', args.prctlOptions),
      personalities: lostValues('personality', args.personalities),
      unrestricted: args.unrestricted.filter((n) => !allowsAnyArgs(profile, n)),
    },
  };
}

/** Argument values in words, one item each: "socket family AF_PACKET (17)". */
export function argItems(a: ArgUse): string[] {
  return [
    ...(a.cloneNamespaces ? [`clone namespaces ${namespaceNames(a.cloneNamespaces)}`] : []),
    ...(a.unshareNamespaces ? [`unshare namespaces ${namespaceNames(a.unshareNamespaces)}`] : []),
    ...a.socketFamilies.map((f) => `socket family ${familyName(f)}`),
    ...a.prctlOptions.map((o) => `prctl option ${prctlName(o)}`),
    ...a.personalities.map((v) => `personality ${personaName(v)}`),
    ...a.unrestricted.map((n) => `${n} with any ${n === 'prctl' ? 'option' : 'persona'} (a value the recorder does not keep was seen)`),
  ];
}

export interface Diff {
  /** Syscalls the recording used that the profile refuses, sorted. */
  added: string[];
  /** Argument values the recording used that the profile refuses. */
  argsAdded: ArgUse;
  /** Capabilities the recording used that the profile's provenance has not seen. */
  capsAdded: string[];
  text: string;
}

/** What a new recording (a profile made from it) adds to a profile: syscalls, argument values, capabilities. */
export function diff(profile: DockerProfile, recording: DockerProfile): Diff {
  const usage = usageOf(recording);
  const m = missing(profile, usage);
  const known = new Set(profile.eunomia?.capabilities.used ?? []);
  const capsAdded = usage.capabilities.filter((c) => !known.has(c)).sort();
  const args = argItems(m.args);
  const lines: string[] = [];
  if (!m.syscalls.length && !args.length && !capsAdded.length) lines.push('Nothing new: the profile already allows everything the recording used.');
  else {
    lines.push('What the recording adds to the profile:');
    if (m.syscalls.length) lines.push(`  syscalls (${m.syscalls.length}): ${m.syscalls.join(', ')}`);
    for (const a of args) lines.push(`  ${a}`);
    if (capsAdded.length) lines.push(`  capabilities: ${capsAdded.join(', ')}`);
  }
  return { added: m.syscalls, argsAdded: m.args, capsAdded, text: lines.join('\n') + '\n' };
}
