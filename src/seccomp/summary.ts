/**
 * A profile in words, for people: what it refuses with, the runs it came from, the syscalls it
 * allows by group (with counts from the provenance), argument restrictions, capabilities, what
 * the base list added, warnings, and what is new since the last run. Plain text, no colours.
 */
import { capabilityAdvice } from './capabilities.js';
import { cloneFlags } from '../trackers/names/clone.js';
import { errnoName } from '../trackers/names/errno.js';
import { addressFamilyName } from '../trackers/names/socket-names.js';
import { baseEntry, baseNames, baseReason } from './base.js';
import { GROUPS, syscallGroup } from './groups.js';
import { CLONE_NAMESPACES, ENOSYS, UNSHARE_NAMESPACES } from './profile.js';
import { allowedNames, allowedValues, allowsAnyArgs, FAMILY_CANDIDATES, namespacesAllowed, PRCTL_CANDIDATES, verdict } from './read.js';
import type { DockerProfile, ProfileRun } from './types.js';

/** prctl options (include/uapi/linux/prctl.h). */
const PRCTL: Record<number, string> = {
  1: 'PR_SET_PDEATHSIG', 2: 'PR_GET_PDEATHSIG', 3: 'PR_GET_DUMPABLE', 4: 'PR_SET_DUMPABLE', 5: 'PR_GET_UNALIGN',
  6: 'PR_SET_UNALIGN', 7: 'PR_GET_KEEPCAPS', 8: 'PR_SET_KEEPCAPS', 9: 'PR_GET_FPEMU', 10: 'PR_SET_FPEMU', 11: 'PR_GET_FPEXC',
  12: 'PR_SET_FPEXC', 13: 'PR_GET_TIMING', 14: 'PR_SET_TIMING', 15: 'PR_SET_NAME', 16: 'PR_GET_NAME', 19: 'PR_GET_ENDIAN',
  20: 'PR_SET_ENDIAN', 21: 'PR_GET_SECCOMP', 22: 'PR_SET_SECCOMP', 23: 'PR_CAPBSET_READ', 24: 'PR_CAPBSET_DROP',
  25: 'PR_GET_TSC', 26: 'PR_SET_TSC', 27: 'PR_GET_SECUREBITS', 28: 'PR_SET_SECUREBITS', 29: 'PR_SET_TIMERSLACK',
  30: 'PR_GET_TIMERSLACK', 31: 'PR_TASK_PERF_EVENTS_DISABLE', 32: 'PR_TASK_PERF_EVENTS_ENABLE', 33: 'PR_MCE_KILL',
  34: 'PR_MCE_KILL_GET', 35: 'PR_SET_MM', 36: 'PR_SET_CHILD_SUBREAPER', 37: 'PR_GET_CHILD_SUBREAPER',
  38: 'PR_SET_NO_NEW_PRIVS', 39: 'PR_GET_NO_NEW_PRIVS', 40: 'PR_GET_TID_ADDRESS', 41: 'PR_SET_THP_DISABLE',
  42: 'PR_GET_THP_DISABLE', 43: 'PR_MPX_ENABLE_MANAGEMENT', 44: 'PR_MPX_DISABLE_MANAGEMENT', 45: 'PR_SET_FP_MODE',
  46: 'PR_GET_FP_MODE', 47: 'PR_CAP_AMBIENT', 50: 'PR_SVE_SET_VL', 51: 'PR_SVE_GET_VL', 52: 'PR_GET_SPECULATION_CTRL',
  53: 'PR_SET_SPECULATION_CTRL', 54: 'PR_PAC_RESET_KEYS', 55: 'PR_SET_TAGGED_ADDR_CTRL', 56: 'PR_GET_TAGGED_ADDR_CTRL',
  57: 'PR_SET_IO_FLUSHER', 58: 'PR_GET_IO_FLUSHER', 59: 'PR_SET_SYSCALL_USER_DISPATCH', 60: 'PR_PAC_SET_ENABLED_KEYS',
  61: 'PR_PAC_GET_ENABLED_KEYS', 62: 'PR_SCHED_CORE', 63: 'PR_SME_SET_VL', 64: 'PR_SME_GET_VL', 65: 'PR_SET_MDWE',
  66: 'PR_GET_MDWE', 67: 'PR_SET_MEMORY_MERGE', 68: 'PR_GET_MEMORY_MERGE', 0x59616d61: 'PR_SET_PTRACER', 0x53564d41: 'PR_SET_VMA',
};

/** "PR_SET_NAME (15)"; "option 99" when unknown. */
export const prctlName = (option: number): string => (PRCTL[option] ? `${PRCTL[option]} (${option})` : `option ${option}`);

/** personality(2) flags (include/uapi/linux/personality.h). */
const PERSONA_FLAGS: readonly [number, string][] = [
  [0x0020000, 'UNAME26'], [0x0040000, 'ADDR_NO_RANDOMIZE'], [0x0080000, 'FDPIC_FUNCPTRS'], [0x0100000, 'MMAP_PAGE_ZERO'],
  [0x0200000, 'ADDR_COMPAT_LAYOUT'], [0x0400000, 'READ_IMPLIES_EXEC'], [0x0800000, 'ADDR_LIMIT_32BIT'],
  [0x1000000, 'SHORT_INODE'], [0x2000000, 'WHOLE_SECONDS'], [0x4000000, 'STICKY_TIMEOUTS'], [0x8000000, 'ADDR_LIMIT_3GB'],
];

/** "PER_LINUX32|UNAME26 (0x20008)"; 0xffffffff is the query of the current persona. */
export function personaName(v: number): string {
  if (v === 0xffffffff) return 'the query (0xffffffff)';
  const type = v & 0xff;
  const words = [type === 0 ? 'PER_LINUX' : type === 8 ? 'PER_LINUX32' : `type 0x${type.toString(16)}`];
  let rest = (v & ~0xff) >>> 0;
  for (const [bit, name] of PERSONA_FLAGS) if (rest & bit) { words.push(name); rest = (rest & ~bit) >>> 0; }
  if (rest) words.push(`0x${rest.toString(16)}`);
  return `${words.join('|')} (0x${v.toString(16)})`;
}

/** "CLONE_NEWNS, CLONE_NEWUSER" */
export const namespaceNames = (flags: number): string => cloneFlags(flags).split('|').join(', ');
export const familyName = (f: number): string => `${addressFamilyName(f)} (${f})`;

/** Words wrapped at ~100 columns, every line indented. */
function wrap(words: string[], indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + w.length + 2 > 100 - indent.length) { lines.push(indent + line + ','); line = w; } else line = line ? `${line}, ${w}` : w;
  }
  if (line) lines.push(indent + line);
  return lines;
}

const runText = (r: ProfileRun): string => {
  const what = [r.target.image, r.target.id?.slice(0, 12)].filter(Boolean).join(', ');
  return `${r.id}  ${r.target.kind} ${r.target.name}${what ? ` (${what})` : ''}, ${r.started} → ${r.ended}, gate ${r.gate}${r.midRun ? ', begun while it ran' : ''}`;
};

function defaultText(p: DockerProfile): string {
  const a = p.defaultAction;
  if (a === 'SCMP_ACT_ERRNO') return `${a}: calls not allowed fail with ${errnoName(p.defaultErrnoRet ?? 1)}`;
  if (a === 'SCMP_ACT_KILL_PROCESS' || a === 'SCMP_ACT_KILL') return `${a}: a call not allowed kills the ${a === 'SCMP_ACT_KILL' ? 'thread' : 'process'}`;
  if (a === 'SCMP_ACT_LOG') return `${a}: calls not allowed run, and the kernel logs them (audit)`;
  if (a === 'SCMP_ACT_ALLOW') return `${a}: calls not listed run`;
  return a;
}

/** A namespace call's restriction in words: which CLONE_NEW* flags it may pass. */
function namespaceWords(p: DockerProfile, name: string, all: number): string {
  if (allowsAnyArgs(p, name)) return `${name}: not restricted — may create any namespace`;
  const ok = namespacesAllowed(p, name, all);
  return ok ? `${name}: may create only ${namespaceNames(ok)}; other namespace flags are refused` : `${name}: may create no namespace (CLONE_NEW* flags are refused)`;
}

function valueWords(p: DockerProfile, name: string, word: string, label: (v: number) => string, candidates: readonly number[] = []): string {
  if (allowsAnyArgs(p, name)) return `${name}: any ${word} (not restricted)`;
  const values = allowedValues(p, name, candidates);
  const refused = candidates.filter((v) => !values.includes(v));
  // Range rules (Docker's socket rules) allow most values: say which are refused.
  if (candidates.length && refused.length < values.length) return `${name}: any ${word} except ${refused.map(label).join(', ')}`;
  const ranges = p.syscalls.some((r) => r.names.includes(name) && r.args?.some((a) => a.op !== 'SCMP_CMP_EQ'));
  return `${name}: only ${values.length ? values.map(label).join(', ') : `no ${word}`}${ranges ? ` (and what the profile's range rules allow)` : ''}`;
}

/** The argument restrictions of a profile, in words (one line per call it allows). */
export function restrictionLines(p: DockerProfile): string[] {
  const allowed = new Set(allowedNames(p));
  const lines: string[] = [];
  if (allowed.has('clone')) lines.push(namespaceWords(p, 'clone', CLONE_NAMESPACES));
  if (allowed.has('clone') || p.syscalls.some((r) => r.names.includes('clone3'))) {
    const v = verdict(p, 'clone3');
    lines.push(v.allowed
      ? 'clone3: allowed, and not restricted: its flags are in memory a filter cannot read'
      : v.action === 'SCMP_ACT_ERRNO' && v.rule?.errnoRet === ENOSYS
        ? 'clone3: fails with ENOSYS, so libc falls back to clone, whose flags are checked'
        : `clone3: refused (${v.action})`);
  }
  if (allowed.has('unshare')) lines.push(namespaceWords(p, 'unshare', UNSHARE_NAMESPACES));
  if (allowed.has('socket')) lines.push(valueWords(p, 'socket', 'family', familyName, FAMILY_CANDIDATES));
  if (allowed.has('prctl')) lines.push(valueWords(p, 'prctl', 'option', prctlName, PRCTL_CANDIDATES));
  if (allowed.has('personality')) lines.push(valueWords(p, 'personality', 'persona', personaName));
  return lines;
}

/** The summary of a profile; with `previous` (the last run's profile), what is new since. */
export function summary(profile: DockerProfile, previous?: DockerProfile): string {
  const prov = profile.eunomia;
  const out: string[] = [];
  const arches = profile.architectures ?? profile.archMap?.map((m) => m.architecture) ?? [];
  out.push(`Seccomp profile: ${defaultText(profile)}; architectures ${arches.length ? arches.join(', ') : 'native only'}.`);
  if (prov) {
    out.push(`Made by Eunomia from ${prov.runs.length} run${prov.runs.length === 1 ? '' : 's'}:`);
    for (const r of prov.runs) out.push(`  ${runText(r)}`);
  }
  const names = allowedNames(profile);
  const base = new Set(prov?.base ?? []);
  const seen = prov ? names.filter((n) => (prov.syscalls[n]?.runs.length ?? 0) > 0).length : undefined;
  out.push(`Allowed: ${names.length} syscall${names.length === 1 ? '' : 's'}${seen === undefined ? '' : ` (${seen} seen, ${names.filter((n) => base.has(n)).length} from the base list)`}`);
  for (const g of GROUPS) {
    const members = names.filter((n) => syscallGroup(n) === g.id);
    if (!members.length) continue;
    const words = members.map((n) => {
      const e = prov?.syscalls[n];
      if (!e) return n;
      if (e.count) return `${n} ${e.count}`;
      if (e.runs.length) return `${n} (uncounted)`;
      if (base.has(n)) return `${n} (base)`;
      return n === 'clone' ? `${n} (clone3's fallback)` : `${n} (not seen)`;
    });
    out.push(`  ${g.title} (${members.length}):`, ...wrap(words, '    '));
  }
  const restrictions = restrictionLines(profile);
  if (restrictions.length) out.push('Argument restrictions:', ...restrictions.map((l) => `  ${l}`));
  if (prov) {
    const { used, denied } = prov.capabilities;
    out.push(`Capabilities: used ${used.length ? used.join(', ') : 'none'}; refused ${denied.length ? denied.join(', ') : 'none'}`);
    // What it needs: the checks that passed (a refused one is something it tried without).
    const advice = capabilityAdvice(used);
    out.push(`  Docker: ${advice.docker}`, '  Kubernetes:', ...advice.kubernetes.map((l) => `    ${l}`));
    if (prov.base.length) {
      out.push('Base list (not seen; added because the container runtime calls them after installing the filter):');
      for (const n of prov.base) out.push(`  ${n} — ${baseReason(baseEntry(n)!)}`);
    }
  }
  const warnings: string[] = [];
  if (prov?.compatCalls) warnings.push(`${prov.compatCalls} call${prov.compatCalls === 1 ? '' : 's'} through the 32-bit ABI (int 0x80) or x32: this x86-64 profile refuses them`);
  if (prov?.unnamed.length) warnings.push(`syscall numbers with no name: ${prov.unnamed.join(', ')} — a profile cannot list them, so they are refused (a newer Eunomia may name them)`);
  const exec = prov?.runs.filter((r) => r.gate === 'exec').map((r) => r.id) ?? [];
  if (exec.length && !baseNames().every((n) => names.includes(n))) {
    warnings.push(`run${exec.length === 1 ? '' : 's'} ${exec.join(', ')} counted from the first exec, and the base list is not in the profile: the runtime's calls after the filter are missing`);
  }
  // A container's start-up is in the profile if any run of it saw its start.
  const fromStart = new Set(prov?.runs.filter((r) => !r.midRun).map((r) => r.target.name));
  const midRun = prov?.runs.filter((r) => r.midRun && !fromStart.has(r.target.name)) ?? [];
  if (midRun.length) {
    const who = [...new Set(midRun.map((r) => r.target.name))];
    const one = who.length === 1;
    warnings.push(`run${midRun.length === 1 ? '' : 's'} ${midRun.map((r) => r.id).join(', ')} began while ${who.join(', ')} ${one ? 'was' : 'were'} running: ${one ? 'its' : 'their'} start-up (what a program calls as it starts, what the workload does once) is not in the profile, and a container started under it may fail — record it from its start (start the recording before the container) and merge, before enforcing`);
  }
  if (warnings.length) out.push('Warnings:', ...warnings.map((w) => `  ${w}`));
  if (previous) {
    const before = new Set(allowedNames(previous));
    const added = names.filter((n) => !before.has(n));
    out.push(added.length ? 'New since the last run:' : 'New since the last run: nothing', ...wrap(added, '  '));
  }
  return out.join('\n') + '\n';
}
