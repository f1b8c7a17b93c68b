/** secsnoop: attempts of security-relevant syscalls, with their arguments (syscall tracepoints, entry only). */
import { commonColumns as c, LOW_RATE_RING } from '../common.js';
import { cloneFlags, namespaceTypes } from '../names/clone.js';
import { addressFamilyName, socketTypeName } from '../names/socket-names.js';
import type { TrackerDescriptor } from '../types.js';
import { kexecFlags, memfdFlags, modeOctal, progTypeName, ptraceRequest, userfaultfdFlags } from './names.js';
import { secsnoopMetrics } from './metrics.js';

/**
 * Names the raw arguments per call (bpf/secsnoop/secsnoop.bpf.c fills arg_raw and str_raw)
 * and removes the raw fields: every event carries only the fields of its call, and `detail`.
 */
export function nameArguments(d: Record<string, unknown>): void {
  const arg = d.arg_raw as (number | bigint)[];
  const [a0, a1, a2] = [Number(arg[0]), Number(arg[1]), Number(arg[2])];
  const str = d.str_raw as string;
  delete d.arg_raw;
  delete d.str_raw;
  switch (d.call) {
    case 'bpf':
      d.cmd = 'BPF_PROG_LOAD';
      d.prog_type = progTypeName(a1);
      d.name = str;
      break;
    case 'ptrace':
      d.request = ptraceRequest(a0);
      d.target_pid = a1;
      break;
    case 'socket':
      d.family = addressFamilyName(a0);
      d.type = socketTypeName(a1);
      d.protocol = a2;
      break;
    case 'connect':
      d.family = addressFamilyName(a1);
      d.path = str;
      break;
    case 'setns':
      d.fd = a0;
      d.nstype = namespaceTypes(a1);
      break;
    case 'unshare':
      d.flags = cloneFlags(a0);
      break;
    case 'memfd_create':
      d.name = str;
      d.flags = memfdFlags(a0);
      break;
    case 'init_module':
      d.length = arg[0];
      break;
    case 'finit_module':
      d.fd = a0;
      break;
    case 'delete_module':
      d.name = str;
      break;
    case 'dup2':
    case 'dup3':
      d.oldfd = a0;
      d.newfd = a1;
      d.family = addressFamilyName(a2 & 0xffff);
      d.type = socketTypeName(a2 >>> 16);
      break;
    case 'chmod':
    case 'fchmod':
    case 'fchmodat':
    case 'fchmodat2':
      d.path = str;
      if (d.call === 'fchmod') d.fd = a1;
      d.mode = modeOctal(a0);
      break;
    case 'userfaultfd':
      d.flags = userfaultfdFlags(a0);
      break;
    case 'kexec_load':
    case 'kexec_file_load':
      d.flags = kexecFlags(d.call, a0);
      break;
  }
  d.detail = detail(d);
}

/** One line of the call's arguments for tables: "PTRACE_ATTACH pid 123", "AF_PACKET SOCK_RAW" … */
export function detail(d: Record<string, unknown>): string {
  switch (d.call) {
    case 'bpf':
      return [d.cmd, d.prog_type, d.name].filter(Boolean).join(' ');
    case 'ptrace':
      return d.request === 'PTRACE_TRACEME' ? String(d.request) : `${d.request} pid ${d.target_pid}`;
    case 'socket':
      return `${d.family} ${d.type} ${d.protocol}`;
    case 'connect':
    case 'delete_module':
      return String(d.path ?? d.name);
    case 'setns':
      return `fd ${d.fd} ${d.nstype}`;
    case 'memfd_create':
      return `${d.name} ${d.flags}`;
    case 'init_module':
      return `${d.length} bytes`;
    case 'finit_module':
      return `fd ${d.fd}`;
    case 'dup2':
    case 'dup3':
      return `${d.family} ${d.type} fd ${d.oldfd} -> ${d.newfd}`;
    case 'fchmod':
      return `${d.mode} fd ${d.fd}`;
    case 'chmod':
    case 'fchmodat':
    case 'fchmodat2':
      return `${d.mode} ${d.path}`;
    default:
      return String(d.flags ?? '');
  }
}

export const secsnoopTracker: TrackerDescriptor = {
  name: 'secsnoop',
  summary: 'security-relevant syscall attempts: BPF program and module loads, ptrace, raw/packet sockets, unix connects, setns/unshare, memfd, stdio to a socket, setuid chmod, userfaultfd, kexec',
  metrics: secsnoopMetrics,
  object: 'secsnoop.bpf.o',
  event: { struct: 'sec_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  // Calls a kernel may lack: fchmodat2 (6.6+); modules, kexec and userfaultfd (compiled
  // out); the legacy dup2 and chmod (absent on arm64 and other newer architectures).
  optionalPrograms: [
    'enter_fchmodat2',
    'enter_init_module',
    'enter_finit_module',
    'enter_delete_module',
    'enter_kexec_load',
    'enter_kexec_file_load',
    'enter_dup2',
    'enter_chmod',
    'enter_userfaultfd',
  ],
  options: [],
  columns: [c.pid, c.uid, c.comm, { key: 'call', header: 'CALL', width: 15 }, { key: 'detail', header: 'DETAIL' }],
  format: nameArguments,
};
