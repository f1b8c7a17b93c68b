/**
 * A Docker profile as the seccomp helper's filter lines (native/seccomp-exec/seccomp-exec.c):
 * everything is decided and validated here, so the C side only parses numbers and calls
 * libseccomp.
 *
 *   default <action>       badarch <action>
 *   rule <nr> <action> [arg <index> <op> <value> [<value2>]]...
 *
 * Actions: allow, log, errno <n>, kill_process, kill_thread, trap. The filter is for the native
 * ABI (x86-64) only: the profile's `architectures` and `archMap` are not read, and a call made
 * through another ABI (int 0x80, x32) gets the default action, like any call outside the profile.
 * The profile's `flags` (SECCOMP_FILTER_FLAG_*) are not applied either. When rules for one call
 * disagree, libseccomp decides as it does under Docker: a rule without args wins over rules with
 * args, and the first of two rules without args wins.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { ErrorCodes, EunomiaError } from '../core/errors.js';
import { capabilityList } from '../trackers/names/capabilities.js';
import { syscallNumber } from '../trackers/names/syscalls.js';
import type { DenyMode, DockerArg, DockerProfile, DockerRule } from './types.js';

/** The code of a profile this cannot turn into a filter. */
const PROFILE = ErrorCodes.PROFILE;

/** What `includes` and `excludes` are checked against. */
export interface HostFacts {
  /** Capability names held in the effective set ("CAP_SYS_ADMIN"). */
  caps: ReadonlySet<string>;
  /** The running kernel's release (os.release()). */
  kernel: string;
}

/**
 * This process's facts: its effective capabilities (the launched command inherits them) and the
 * kernel release.
 */
export function hostFacts(): HostFacts {
  const status = readFileSync('/proc/self/status', 'utf8');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return { caps: new Set(capabilityList(capEff ? BigInt(`0x${capEff[1]}`) : 0n)), kernel: release() };
}

/** Docker's `arches` names for this ABI (it uses Go's "amd64"; libseccomp says "x86_64"). */
const NATIVE_ARCHES = new Set(['amd64', 'x86_64', 'scmp_arch_x86_64']);

const OPS: Record<DockerArg['op'], string> = {
  SCMP_CMP_EQ: 'eq', SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le',
  SCMP_CMP_GE: 'ge', SCMP_CMP_GT: 'gt', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** ENOSYS: "not implemented, use your fallback" (clone3 → clone, whose flags a filter can check). */
const ENOSYS = 38;
/** The kernel clamps a returned errno to MAX_ERRNO. */
const MAX_ERRNO = 4095;

/**
 * The filter lines for a profile. `mode` replaces the default action: errno (the profile's
 * defaultErrnoRet, else EPERM), kill (the whole process) or log. In log mode, rules that refuse
 * (errno, kill, trap) log too, so nothing is refused, except an errno rule returning ENOSYS: it
 * makes the program take its fallback, which then runs under the filter instead of failing.
 */
export function filterSpec(profile: DockerProfile, mode?: DenyMode, host: HostFacts = hostFacts()): string {
  let def: string;
  switch (mode) {
    case undefined: def = action(profile.defaultAction, profile.defaultErrnoRet, 'seccomp profile: defaultAction', 'seccomp profile: defaultErrnoRet'); break;
    case 'errno': def = `errno ${errnoOf(profile.defaultErrnoRet, 'seccomp profile: defaultErrnoRet')}`; break;
    case 'kill': def = 'kill_process'; break;
    case 'log': def = 'log'; break;
    default: throw new EunomiaError(ErrorCodes.USAGE, `seccomp: unknown mode ${JSON.stringify(mode)} (errno, kill, log)`);
  }
  const lines = [
    `# from a Docker profile (x86-64 only)${mode ? `, mode ${mode}` : ''}`,
    `default ${def}`,
    // A call through another ABI is refused like any call the profile does not name.
    `badarch ${def}`,
  ];
  const seen = new Set<string>(); // Docker's profile names a call in several rules (ptrace, syslog)
  if (!Array.isArray(profile.syscalls)) throw new EunomiaError(PROFILE, 'seccomp profile: "syscalls" is not a list');
  profile.syscalls.forEach((rule, i) => {
    const where = `seccomp profile: syscalls[${i}]`;
    if (!applies(rule, host, where)) return;
    let act = action(rule.action, rule.errnoRet, `${where}.action`, `${where}.errnoRet`);
    if (mode === 'log' && /^(errno|kill|trap)/.test(act) && act !== `errno ${ENOSYS}`) act = 'log';
    const args = (rule.args ?? []).map((a, j) => arg(a, `${where}.args[${j}]`));
    if (!Array.isArray(rule.names)) throw new EunomiaError(PROFILE, `${where}.names: not a list of syscall names`);
    for (const name of rule.names) {
      const nr = name === '' ? undefined : syscallNumber(name);
      if (nr === undefined) {
        throw new EunomiaError(PROFILE, `${where}: unknown syscall "${name}" — not an x86-64 syscall name (as libseccomp spells them, e.g. "openat")`);
      }
      for (const cond of conditionSets(args)) {
        const line = `rule ${nr} ${act}${cond.map((c) => ` arg ${c}`).join('')}`;
        if (!seen.has(line)) lines.push(`${line}  # ${name}`);
        seen.add(line);
      }
    }
  });
  return `${lines.join('\n')}\n`;
}

/**
 * A rule's args are ANDed, but libseccomp refuses two comparisons of one argument in a rule: as
 * runc does, a rule that compares an argument twice becomes one rule per comparison (ORed).
 */
function conditionSets(args: { index: number; text: string }[]): string[][] {
  const indexes = new Set(args.map((a) => a.index));
  if (indexes.size === args.length) return [args.map((a) => a.text)];
  return args.map((a) => [a.text]);
}

function arg(a: DockerArg, where: string): { index: number; text: string } {
  if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new EunomiaError(PROFILE, `${where}: index ${a.index} is not 0 to 5`);
  const op = OPS[a.op];
  if (!op) throw new EunomiaError(PROFILE, `${where}: unknown op "${a.op}" (${Object.keys(OPS).join(', ')})`);
  const text = `${a.index} ${op} ${u64(a.value, `${where}.value`)}`;
  // Docker's masked_eq is value = mask, valueTwo = what the masked argument must equal (0 when absent).
  return { index: a.index, text: op === 'masked_eq' ? `${text} ${u64(a.valueTwo ?? 0, `${where}.valueTwo`)}` : text };
}

/** Beyond 2^53 a JSON number has already lost digits: refuse it rather than filter on another value. */
function u64(v: unknown, where: string): string {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new EunomiaError(PROFILE, `${where}: ${JSON.stringify(v)} is not a whole number from 0 to 2^53-1`);
  }
  return String(v);
}

function errnoOf(v: number | undefined, where: string): number {
  const n = v ?? 1; // Docker and runc refuse with EPERM when no errno is given
  if (!Number.isInteger(n) || n < 0 || n > MAX_ERRNO) throw new EunomiaError(PROFILE, `${where}: ${JSON.stringify(v)} is not an errno (0 to ${MAX_ERRNO})`);
  return n;
}

function action(name: string, errnoRet: number | undefined, where: string, errnoWhere: string): string {
  switch (name) {
    case 'SCMP_ACT_ALLOW': return 'allow';
    case 'SCMP_ACT_LOG': return 'log';
    case 'SCMP_ACT_ERRNO': return `errno ${errnoOf(errnoRet, errnoWhere)}`;
    case 'SCMP_ACT_KILL': // libseccomp's SCMP_ACT_KILL is the thread's
    case 'SCMP_ACT_KILL_THREAD': return 'kill_thread';
    case 'SCMP_ACT_KILL_PROCESS': return 'kill_process';
    case 'SCMP_ACT_TRAP': return 'trap';
    case 'SCMP_ACT_NOTIFY':
    case 'SCMP_ACT_TRACE':
      // Both hand the call to another process: a notify listener, a ptrace tracer. `seccomp run` has neither.
      throw new EunomiaError(PROFILE, `${where}: ${name} is not supported by seccomp run (it needs a ${name === 'SCMP_ACT_NOTIFY' ? 'notification listener' : 'ptrace tracer'}) — use SCMP_ACT_ERRNO, SCMP_ACT_LOG or a kill action`);
    default:
      throw new EunomiaError(PROFILE, `${where}: unknown action ${JSON.stringify(name)}`);
  }
}

/**
 * Docker's conditions on a rule, checked as Docker checks them (moby profiles/seccomp): `includes`
 * holds when every condition it names holds, `excludes` drops the rule when any does.
 * - arches: x86-64 is among them (amd64 / x86_64 / SCMP_ARCH_X86_64);
 * - caps: held in this process's effective set (Docker reads the container's bounding set; the
 *   launched command has ours). Includes needs them all, excludes any one;
 * - minKernel: "major.minor", the running kernel is at least that.
 * Another key is refused: a condition that is not understood cannot be taken as met, nor as not.
 */
function applies(rule: DockerRule, host: HostFacts, where: string): boolean {
  const inc = conditions(rule.includes, host, `${where}.includes`);
  const exc = conditions(rule.excludes, host, `${where}.excludes`);
  return inc.every((c) => c.all) && !exc.some((c) => c.any);
}

interface Outcome {
  /** Every item of the condition holds. */
  all: boolean;
  /** At least one item holds. */
  any: boolean;
}

function conditions(cond: Record<string, unknown> | undefined, host: HostFacts, where: string): Outcome[] {
  const out: Outcome[] = [];
  for (const [key, v] of Object.entries(cond ?? {})) {
    if (v === null || v === undefined) continue;
    if (key === 'arches' || key === 'caps') {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new EunomiaError(PROFILE, `${where}.${key}: not a list of names`);
      const names = v as string[];
      if (names.length === 0) continue; // Docker: an empty list is no condition
      if (key === 'arches') {
        // One architecture runs: the list names where the rule is meant, any one of them.
        const native = names.some((n) => NATIVE_ARCHES.has(n.toLowerCase()));
        out.push({ all: native, any: native });
      } else {
        const held = (n: string): boolean => host.caps.has(n.toUpperCase().replace(/^(?!CAP_)/, 'CAP_'));
        out.push({ all: names.every(held), any: names.some(held) });
      }
    } else if (key === 'minKernel') {
      const ok = kernelAtLeast(host.kernel, v, `${where}.minKernel`);
      out.push({ all: ok, any: ok });
    } else {
      throw new EunomiaError(PROFILE, `${where}: unknown condition "${key}" (arches, caps, minKernel)`);
    }
  }
  return out;
}

function kernelAtLeast(kernel: string, min: unknown, where: string): boolean {
  const want = typeof min === 'string' ? /^(\d+)\.(\d+)$/.exec(min.trim()) : null;
  if (!want) throw new EunomiaError(PROFILE, `${where}: ${JSON.stringify(min)} is not "major.minor" (e.g. "4.8")`);
  const have = /^(\d+)\.(\d+)/.exec(kernel);
  if (!have) throw new EunomiaError(PROFILE, `${where}: cannot read the kernel release "${kernel}"`);
  const [hMaj, hMin, wMaj, wMin] = [have[1], have[2], want[1], want[2]].map(Number) as [number, number, number, number];
  return hMaj !== wMaj ? hMaj > wMaj : hMin >= wMin;
}
