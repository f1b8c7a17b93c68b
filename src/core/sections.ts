/** What a program's ELF section name says (libbpf's conventions): how it attaches, its kind, its tracepoint. */
import type { ProgramKind } from './kernel-probe.js';

/** How a program is attached, from its ELF section name. */
export type AttachKind = 'auto' | 'uprobe' | 'perf_event' | 'none';

const AUTO = /^(tp|tracepoint|raw_tp|raw_tracepoint|tp_btf|fentry|fexit|fmod_ret|lsm|kprobe|kretprobe|ksyscall|kretsyscall)(\.s)?\/.+/;
const UPROBE_WITH_TARGET = /^u(ret)?probe(\.s)?\/.+/;
const UPROBE_BARE = /^u(ret)?probe(\.s)?$/;

export function attachKind(section: string): AttachKind {
  if (AUTO.test(section) || UPROBE_WITH_TARGET.test(section) || section.startsWith('usdt/')) return 'auto';
  if (UPROBE_BARE.test(section)) return 'uprobe';
  if (section === 'perf_event') return 'perf_event';
  return 'none';
}

export function isRetprobe(section: string): boolean {
  return section.startsWith('uretprobe') || section.startsWith('kretprobe');
}

const KINDS: [RegExp, ProgramKind][] = [
  [/^(tp|tracepoint)\//, 'tracepoint'],
  [/^raw_(tp|tracepoint)(\.w)?\//, 'raw_tracepoint'],
  [/^tp_btf\//, 'tp_btf'],
  [/^(kprobe|kretprobe|ksyscall|kretsyscall)(\.multi)?\//, 'kprobe'],
  [/^(fentry|fmod_ret)(\.s)?\//, 'fentry'],
  [/^fexit(\.s)?\//, 'fexit'],
  [/^lsm(\.s)?\//, 'lsm'],
  [/^u(ret)?probe(\.s|\.multi)?(\/|$)/, 'uprobe'],
  [/^perf_event$/, 'perf_event'],
];

/** The kind of program a section name makes (libbpf's conventions); undefined for others (xdp, tc, …). */
export function kindOfSection(section: string): ProgramKind | undefined {
  const s = section.replace(/^\?/, '');
  return KINDS.find(([re]) => re.test(s))?.[1];
}

/** The tracepoint a tp/raw_tp/tp_btf section attaches to: `{ category?, name }` (raw and BTF ones name no category). */
export function sectionTracepoint(section: string): { category?: string; name: string } | undefined {
  const s = section.replace(/^\?/, '');
  const tp = /^(?:tp|tracepoint)\/([^/]+)\/([^/]+)$/.exec(s);
  if (tp) return { category: tp[1]!, name: tp[2]! };
  const raw = /^(?:raw_tp|raw_tracepoint|raw_tp\.w|raw_tracepoint\.w|tp_btf)\/([^/]+)$/.exec(s);
  return raw ? { name: raw[1]! } : undefined;
}
