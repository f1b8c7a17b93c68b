/** How a program is attached, from its ELF section name (libbpf's conventions). */
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
