/** secsnoop: attempts of security-relevant syscalls, with their arguments (syscall tracepoints at entry; a few more hooks, see the object). */
import { commonColumns as c, LOW_RATE_RING } from '../common.js';
import { cloneFlags, namespaceTypes } from '../names/clone.js';
import { addressFamilyName, socketTypeName } from '../names/socket-names.js';
import { hasTracepoint } from '../../core/kernel.js';
import { errnoName } from '../names/errno.js';
import { ipString } from '../names/net.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import {
  deviceNumbers, deviceType, kexecFlags, linkatFlags, memfdFlags, modeOctal, progTypeName, ptraceRequest, rebootCmd, renameFlags,
  sockoptName, unlinkatFlags, userfaultfdFlags,
} from './names.js';
import { secsnoopMetrics } from './metrics.js';

/**
 * Names the raw arguments per call (bpf/secsnoop/secsnoop.bpf.c fills arg_raw and str_raw)
 * and removes the raw fields: every event carries only the fields of its call, and `detail`.
 */
export function nameArguments(d: Record<string, unknown>): void {
  const arg = d.arg_raw as (number | bigint)[];
  const [a0, a1, a2] = [Number(arg[0]), Number(arg[1]), Number(arg[2])];
  const str = d.str_raw as string;
  const str2 = d.str2_raw as string;
  const addr = d.addr_raw as number[];
  delete d.arg_raw;
  delete d.str_raw;
  delete d.str2_raw;
  delete d.addr_raw;
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
      d.family = addressFamilyName(a1 & 0xffff);
      if (d.family === 'AF_UNIX') {
        d.path = str;
      } else {
        d.daddr = ipString(a1 & 0xffff, addr);
        d.dport = (a1 >>> 16) & 0xffff;
        d.result = errnoName(a2);
      }
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
      d.type = socketTypeName((a2 >>> 16) & 0xffff);
      d.accepted = Math.floor(a2 / 2 ** 32) === 1; // the socket came from accept(): a server's
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
    case 'symlink':
    case 'symlinkat':
    case 'link':
    case 'linkat':
      d.path = str;
      d.target = str2;
      if (d.call === 'linkat') d.flags = linkatFlags(a0);
      break;
    case 'unlink':
    case 'unlinkat':
      d.path = str;
      if (d.call === 'unlinkat') d.flags = unlinkatFlags(a1);
      break;
    case 'rename':
    case 'renameat':
    case 'renameat2':
      d.path = str;
      d.target = str2;
      if (d.call === 'renameat2') d.flags = renameFlags(a0);
      break;
    case 'mkdir':
    case 'mkdirat':
      d.path = str;
      break;
    case 'utimensat':
    case 'futimesat':
    case 'utimes':
    case 'utime':
      d.path = str;
      // Only the times set to explicit values: one left unchanged or set to now has no field.
      if (a0 & 1) d.atime = a1;
      if (a0 & 2) d.mtime = a2;
      break;
    case 'setxattr':
    case 'lsetxattr':
    case 'fsetxattr':
    case 'setxattrat':
      d.path = str;
      if (d.call === 'fsetxattr') d.fd = a1;
      d.xattr = str2;
      d.size = a0;
      break;
    case 'reboot':
      d.cmd = rebootCmd(a0);
      break;
    case 'mknod':
    case 'mknodat': {
      d.path = str;
      d.mode = deviceType(a0);
      const { major, minor } = deviceNumbers(a1);
      d.major = major;
      d.minor = minor;
      break;
    }
    case 'setsockopt':
      d.fd = a0;
      d.optname = sockoptName(a1);
      d.family = addressFamilyName(a2);
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
      return d.family === 'AF_UNIX' ? String(d.path) : `${d.family === 'AF_INET6' ? `[${d.daddr}]` : d.daddr}:${d.dport} ${d.result}`;
    case 'delete_module':
      return String(d.name);
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
    case 'symlink':
    case 'symlinkat':
    case 'link':
    case 'linkat':
      return `${d.path} -> ${d.target}`;
    case 'unlink':
      return String(d.path);
    case 'unlinkat':
      return d.flags === '0' ? String(d.path) : `${d.path} ${d.flags}`;
    case 'rename':
    case 'renameat':
    case 'renameat2':
      return `${d.path} -> ${d.target}${d.flags && d.flags !== '0' ? ` ${d.flags}` : ''}`;
    case 'mkdir':
    case 'mkdirat':
      return String(d.path);
    case 'utimensat':
    case 'futimesat':
    case 'utimes':
    case 'utime':
      return [d.path, d.atime !== undefined && `atime ${d.atime}`, d.mtime !== undefined && `mtime ${d.mtime}`].filter((x) => x !== false).join(' ');
    case 'setxattr':
    case 'lsetxattr':
    case 'fsetxattr':
    case 'setxattrat':
      return `${d.xattr} ${d.size} bytes ${d.path}`;
    case 'reboot':
      return String(d.cmd);
    case 'mknod':
    case 'mknodat':
      return `${d.mode} ${d.major}:${d.minor} ${d.path}`;
    case 'setsockopt':
      return `${d.optname} ${d.family} fd ${d.fd}`;
    default:
      return String(d.flags ?? '');
  }
}

/** The module and kexec calls: a syscalls: tracepoint each, or the raw fallback where the kernel compiles them out. */
const MODULE_KEXEC = ['init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load'];
const MODULE_KEXEC_PROGRAMS = MODULE_KEXEC.map((c) => `enter_${c}`);
/** raw_syscalls:sys_enter: runs on every syscall of the host, so attached only where needed. */
export const RAW_FALLBACK = 'raw_module_kexec';
/** Every program of bpf/secsnoop/secsnoop.bpf.c but the container filter's (which the runtime sets). */
const PROGRAMS = [
  'enter_bpf', 'enter_ptrace', 'enter_socket', 'enter_connect', 'exit_connect', 'enter_setns', 'enter_unshare',
  'enter_memfd_create', ...MODULE_KEXEC_PROGRAMS, RAW_FALLBACK, 'exit_accept', 'exit_accept4', 'enter_dup2', 'enter_dup3', 'enter_chmod', 'enter_fchmod',
  'enter_fchmodat', 'enter_fchmodat2', 'enter_userfaultfd', 'enter_symlink', 'enter_symlinkat', 'enter_link', 'enter_linkat',
  'enter_unlink', 'enter_unlinkat', 'enter_rename', 'enter_renameat', 'enter_renameat2', 'enter_mkdir', 'enter_mkdirat',
  'enter_utimensat', 'enter_futimesat', 'enter_utimes', 'enter_utime', 'enter_setxattr', 'enter_lsetxattr', 'enter_fsetxattr',
  'enter_setxattrat', 'enter_reboot', 'enter_mknod', 'enter_mknodat', 'enter_setsockopt',
];

/** True where one of the module or kexec calls has no syscalls: tracepoint: the raw fallback then sees all five (it knows x86-64's numbers only). */
export function needsRawFallback(): boolean {
  return process.arch === 'x64' && MODULE_KEXEC.some((c) => !hasTracepoint(`tp/syscalls/sys_enter_${c}`));
}

export const secsnoopTracker: TrackerDescriptor = {
  name: 'secsnoop',
  summary: 'security-relevant syscall attempts: BPF program and module loads, ptrace, raw/packet sockets, unix connects and inet connects failing before any packet, setns/unshare, memfd, stdio to a socket, setuid chmod, userfaultfd, kexec, links, deletions and renames of logs, binaries and shell history, timestomping, xattrs, device nodes, reboot, socket filters',
  metrics: secsnoopMetrics,
  object: 'secsnoop.bpf.o',
  event: { struct: 'sec_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  // Either the five module/kexec tracepoint programs or the raw fallback that sees them all,
  // never both (each attempt once).
  programs: () => {
    const fallback = needsRawFallback();
    return PROGRAMS.filter((p) => (fallback ? !MODULE_KEXEC_PROGRAMS.includes(p) : p !== RAW_FALLBACK));
  },
  // Calls a kernel may lack: fchmodat2 (6.6+), setxattrat (6.13+); userfaultfd (compiled out);
  // the legacy dup2, chmod, symlink, link, unlink, rename, mkdir, mknod and the utime calls
  // (absent on arm64 and other newer architectures; renameat too on riscv and loongarch).
  // None of the calls here can be compiled out: no raw_syscalls fallback for them.
  optionalPrograms: [
    'enter_fchmodat2', ...MODULE_KEXEC_PROGRAMS, 'enter_userfaultfd', 'exit_accept', 'enter_dup2', 'enter_chmod', 'enter_symlink', 'enter_link', 'enter_unlink',
    'enter_rename', 'enter_renameat', 'enter_mkdir', 'enter_mknod', 'enter_futimesat', 'enter_utimes', 'enter_utime', 'enter_setxattrat',
  ],
  options: [],
  columns: [c.pid, c.uid, c.comm, { key: 'call', header: 'CALL', width: 15 }, { key: 'detail', header: 'DETAIL' }],
  format: nameArguments,
};
