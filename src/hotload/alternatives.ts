/**
 * Alternative programs in one object, as libbpf-tools builds them: the same hook by several
 * mechanisms (fentry/F and kprobe/F, tp_btf/T, raw_tp/T and tracepoint/C/T), of which its own
 * loader picks one for the kernel at hand. Here they become fallback groups, best first; a
 * package may name more (`fallbacks`: an fentry program and the tracepoint that stands in for
 * it). Programs whose kind the limits refuse are left out of their group, or refuse the package
 * when they have no alternative.
 */
import type { ProgramGroup } from '../runtime/types.js';
import { bad } from './fields.js';
import type { ProgramInfo } from './inspect.js';

/** The hook a program attaches to, and its rank among the mechanisms for that hook (0 best). */
function hook(section: string): { key: string; rank: number } | undefined {
  const s = section.replace(/^\?/, '');
  let m = /^(fentry|kprobe)(?:\.s)?\/([^+]+)$/.exec(s);
  if (m) return { key: `entry ${m[2]}`, rank: m[1] === 'fentry' ? 0 : 1 };
  m = /^(fexit|kretprobe)(?:\.s)?\/([^+]+)$/.exec(s);
  if (m) return { key: `exit ${m[2]}`, rank: m[1] === 'fexit' ? 0 : 1 };
  m = /^tp_btf\/(.+)$/.exec(s);
  if (m) return { key: `tp ${m[1]}`, rank: 0 };
  m = /^(?:raw_tp|raw_tracepoint)(?:\.w)?\/(.+)$/.exec(s);
  if (m) return { key: `tp ${m[1]}`, rank: 1 };
  m = /^(?:tp|tracepoint)\/[^/]+\/(.+)$/.exec(s);
  if (m) return { key: `tp ${m[1]}`, rank: 2 };
  return undefined;
}

export interface ProgramPlan {
  groups: ProgramGroup[];
  /** Programs never loaded (their kind is not allowed), with the reason. */
  unavailable: Record<string, string>;
}

/**
 * Fallback groups of the object's loadable programs: those sharing a hook, and the package's
 * explicit ones (each extended with its members' same-hook alternatives). `explicit` is checked
 * here: names must exist and appear once.
 */
export function planPrograms(programs: ProgramInfo[], explicit: string[][], allowed: readonly string[], field: string): ProgramPlan {
  const loadable = programs.filter((p) => p.autoload);
  const byName = new Map(loadable.map((p) => [p.name, p]));
  const sameHook = new Map<string, ProgramInfo[]>();
  for (const p of loadable) {
    const h = hook(p.section);
    if (!h) continue;
    const list = sameHook.get(h.key) ?? [];
    list.push(p);
    sameHook.set(h.key, list);
  }
  for (const list of sameHook.values()) list.sort((a, b) => hook(a.section)!.rank - hook(b.section)!.rank);
  const alternativesOf = (p: ProgramInfo): ProgramInfo[] => {
    const h = hook(p.section);
    return h ? sameHook.get(h.key)! : [p];
  };
  const grouped = new Set<string>();
  const groups: string[][] = [];
  explicit.forEach((names, i) => {
    if (names.length < 2) throw bad(`fallbacks[${i}]`, `a group needs two programs or more, best first, got ${names.length}`);
    const group: string[] = [];
    names.forEach((name, j) => {
      const p = byName.get(name);
      if (!p) throw bad(`fallbacks[${i}][${j}]`, `no loadable program named "${name}" in the object (programs: ${loadable.map((x) => x.name).join(', ')})`);
      if (grouped.has(name)) throw bad(`fallbacks[${i}][${j}]`, `program "${name}" is in two groups`);
      for (const alt of alternativesOf(p)) {
        if (group.includes(alt.name)) continue;
        if (grouped.has(alt.name)) throw bad(`fallbacks[${i}][${j}]`, `program "${alt.name}" (an alternative to ${name} for the same hook) is in two groups`);
        group.push(alt.name);
      }
    });
    for (const n of group) grouped.add(n);
    groups.push(group);
  });
  for (const list of sameHook.values()) {
    const rest = list.filter((p) => !grouped.has(p.name));
    if (rest.length < 2) continue;
    for (const p of rest) grouped.add(p.name);
    groups.push(rest.map((p) => p.name));
  }
  return withLimits(loadable, groups, allowed, field);
}

/** Drops programs of refused kinds from their groups; one with no allowed alternative refuses the package. */
function withLimits(loadable: ProgramInfo[], groups: string[][], allowed: readonly string[], field: string): ProgramPlan {
  const kind = new Map(loadable.map((p) => [p.name, p]));
  const unavailable: Record<string, string> = {};
  const refused: ProgramInfo[] = [];
  const out: ProgramGroup[] = [];
  const inGroup = new Set(groups.flat());
  for (const group of groups) {
    const ok = group.filter((n) => allowed.includes(kind.get(n)!.type));
    for (const n of group) if (!ok.includes(n)) unavailable[n] = `program kind ${kind.get(n)!.type} is not allowed here (hot-load allowedProgramTypes); ${ok[0] ?? 'no alternative'} stands in`;
    if (ok.length === 0) refused.push(...group.map((n) => kind.get(n)!));
    else if (ok.length > 1) out.push({ programs: ok });
  }
  for (const p of loadable) if (!inGroup.has(p.name) && !allowed.includes(p.type)) refused.push(p);
  if (refused.length > 0) {
    const list = refused.map((p) => `${p.name} (section "${p.section}": ${p.type})`).join(', ');
    throw bad(field, `program kind not allowed: ${list}; allowed: ${allowed.join(', ') || 'none'} (hot-load allowedProgramTypes)`);
  }
  return { groups: out, unavailable };
}
