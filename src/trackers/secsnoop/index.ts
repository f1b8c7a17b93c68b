/** secsnoop: attempts of security-relevant syscalls, with their arguments (syscall tracepoints at entry; a few more hooks, see the object). */
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
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
import type { SecCall, SecEvent } from './event.gen.js';

/** The raw arguments of a sec_event: format names them per call, then removes them. */
type Raw = 'arg_raw' | 'str_raw' | 'str2_raw' | 'addr_raw';

/** A sec_event with only the fields of its call (named from the raw arguments), and `detail`. */
export type SecsnoopData = Omit<SecEvent, Raw> &
  Partial<Pick<SecEvent, Raw>> & {
    cmd?: string;
    prog_type?: string;
    name?: string;
    request?: string;
    target_pid?: number;
    family?: string;
    type?: string;
    protocol?: number;
    path?: string;
    daddr?: string;
    dport?: number;
    result?: string;
    fd?: number;
    nstype?: string;
    flags?: string;
    length?: number | bigint;
    oldfd?: number;
    newfd?: number;
    accepted?: boolean;
    mode?: string;
    target?: string;
    atime?: number;
    mtime?: number;
    xattr?: string;
    size?: number;
    major?: number;
    minor?: number;
    optname?: string;
    detail: string;
  };

/** The raw arguments: the numbers (a0..a2 as numbers), the two strings and the address bytes. */
interface Args {
  arg: (number | bigint)[];
  a0: number;
  a1: number;
  a2: number;
  str: string;
  str2: string;
  addr: number[];
}

/** One call: its arguments named (bpf/secsnoop/secsnoop.bpf.c fills them), and its line for tables (default: its flags). */
interface Call {
  name(d: SecsnoopData, a: Args): void;
  detail?(d: SecsnoopData): string;
}

const chmod: Call = {
  name: (d, { a0, str }) => {
    d.path = str;
    d.mode = modeOctal(a0);
  },
  detail: (d) => `${d.mode} ${d.path}`,
};
const link: Call = {
  name: (d, { str, str2 }) => {
    d.path = str;
    d.target = str2;
  },
  detail: (d) => `${d.path} -> ${d.target}`,
};
const rename: Call = {
  name: link.name,
  detail: (d) => `${d.path} -> ${d.target}${d.flags && d.flags !== '0' ? ` ${d.flags}` : ''}`,
};
const pathOnly: Call = {
  name: (d, { str }) => {
    d.path = str;
  },
  detail: (d) => String(d.path),
};
const utime: Call = {
  name: (d, { a0, a1, a2, str }) => {
    d.path = str;
    // Only the times set to explicit values: one left unchanged or set to now has no field.
    if (a0 & 1) d.atime = a1;
    if (a0 & 2) d.mtime = a2;
  },
  detail: (d) => [d.path, d.atime !== undefined && `atime ${d.atime}`, d.mtime !== undefined && `mtime ${d.mtime}`].filter((x) => x !== false).join(' '),
};
const setxattr: Call = {
  name: (d, { a0, str, str2 }) => {
    d.path = str;
    d.xattr = str2;
    d.size = a0;
  },
  detail: (d) => `${d.xattr} ${d.size} bytes ${d.path}`,
};
const dup: Call = {
  name: (d, { a0, a1, a2 }) => {
    d.oldfd = a0;
    d.newfd = a1;
    d.family = addressFamilyName(a2 & 0xffff);
    d.type = socketTypeName((a2 >>> 16) & 0xffff);
    d.accepted = Math.floor(a2 / 2 ** 32) === 1; // the socket came from accept(): a server's
  },
  detail: (d) => `${d.family} ${d.type} fd ${d.oldfd} -> ${d.newfd}`,
};
const mknod: Call = {
  name: (d, { a0, a1, str }) => {
    d.path = str;
    d.mode = deviceType(a0);
    const { major, minor } = deviceNumbers(a1);
    d.major = major;
    d.minor = minor;
  },
  detail: (d) => `${d.mode} ${d.major}:${d.minor} ${d.path}`,
};

/** Every call of enum sec_call: adding one to the C enum fails the build until it has its entry here. */
const CALLS: Record<SecCall, Call> = {
  bpf: {
    name: (d, { a1, str }) => {
      d.cmd = 'BPF_PROG_LOAD';
      d.prog_type = progTypeName(a1);
      d.name = str;
    },
    detail: (d) => [d.cmd, d.prog_type, d.name].filter(Boolean).join(' '),
  },
  ptrace: {
    name: (d, { a0, a1 }) => {
      d.request = ptraceRequest(a0);
      d.target_pid = a1;
    },
    detail: (d) => (d.request === 'PTRACE_TRACEME' ? String(d.request) : `${d.request} pid ${d.target_pid}`),
  },
  socket: {
    name: (d, { a0, a1, a2 }) => {
      d.family = addressFamilyName(a0);
      d.type = socketTypeName(a1);
      d.protocol = a2;
    },
    detail: (d) => `${d.family} ${d.type} ${d.protocol}`,
  },
  connect: {
    name: (d, { a1, a2, str, addr }) => {
      d.family = addressFamilyName(a1 & 0xffff);
      if (d.family === 'AF_UNIX') {
        d.path = str;
      } else {
        d.daddr = ipString(a1 & 0xffff, addr);
        d.dport = (a1 >>> 16) & 0xffff;
        d.result = errnoName(a2);
      }
    },
    detail: (d) => (d.family === 'AF_UNIX' ? String(d.path) : `${d.family === 'AF_INET6' ? `[${d.daddr}]` : d.daddr}:${d.dport} ${d.result}`),
  },
  setns: {
    name: (d, { a0, a1 }) => {
      d.fd = a0;
      d.nstype = namespaceTypes(a1);
    },
    detail: (d) => `fd ${d.fd} ${d.nstype}`,
  },
  unshare: {
    name: (d, { a0 }) => {
      d.flags = cloneFlags(a0);
    },
  },
  memfd_create: {
    name: (d, { a0, str }) => {
      d.name = str;
      d.flags = memfdFlags(a0);
    },
    detail: (d) => `${d.name} ${d.flags}`,
  },
  init_module: {
    name: (d, { arg }) => {
      d.length = arg[0];
    },
    detail: (d) => `${d.length} bytes`,
  },
  finit_module: {
    name: (d, { a0 }) => {
      d.fd = a0;
    },
    detail: (d) => `fd ${d.fd}`,
  },
  delete_module: {
    name: (d, { str }) => {
      d.name = str;
    },
    detail: (d) => String(d.name),
  },
  dup2: dup,
  dup3: dup,
  chmod,
  fchmod: {
    name: (d, { a0, a1, str }) => {
      d.path = str;
      d.fd = a1;
      d.mode = modeOctal(a0);
    },
    detail: (d) => `${d.mode} fd ${d.fd}`,
  },
  fchmodat: chmod,
  fchmodat2: chmod,
  userfaultfd: {
    name: (d, { a0 }) => {
      d.flags = userfaultfdFlags(a0);
    },
  },
  kexec_load: {
    name: (d, { a0 }) => {
      d.flags = kexecFlags('kexec_load', a0);
    },
  },
  kexec_file_load: {
    name: (d, { a0 }) => {
      d.flags = kexecFlags('kexec_file_load', a0);
    },
  },
  symlink: link,
  symlinkat: link,
  link,
  linkat: {
    name: (d, a) => {
      link.name(d, a);
      d.flags = linkatFlags(a.a0);
    },
    detail: link.detail,
  },
  unlink: pathOnly,
  unlinkat: {
    name: (d, { a1, str }) => {
      d.path = str;
      d.flags = unlinkatFlags(a1);
    },
    detail: (d) => (d.flags === '0' ? String(d.path) : `${d.path} ${d.flags}`),
  },
  rename,
  renameat: rename,
  renameat2: {
    name: (d, a) => {
      link.name(d, a);
      d.flags = renameFlags(a.a0);
    },
    detail: rename.detail,
  },
  mkdir: pathOnly,
  mkdirat: pathOnly,
  utimensat: utime,
  futimesat: utime,
  utimes: utime,
  utime,
  setxattr,
  lsetxattr: setxattr,
  fsetxattr: {
    name: (d, { a0, a1, str, str2 }) => {
      d.path = str;
      d.fd = a1;
      d.xattr = str2;
      d.size = a0;
    },
    detail: setxattr.detail,
  },
  setxattrat: setxattr,
  reboot: {
    name: (d, { a0 }) => {
      d.cmd = rebootCmd(a0);
    },
    detail: (d) => String(d.cmd),
  },
  mknod,
  mknodat: mknod,
  setsockopt: {
    name: (d, { a0, a1, a2 }) => {
      d.fd = a0;
      d.optname = sockoptName(a1);
      d.family = addressFamilyName(a2);
    },
    detail: (d) => `${d.optname} ${d.family} fd ${d.fd}`,
  },
};

/** The call's entry; none for a value enum sec_call has no name for. */
const callOf = (d: SecsnoopData): Call | undefined => (typeof d.call === 'string' && Object.hasOwn(CALLS, d.call) ? CALLS[d.call] : undefined);

/**
 * Names the raw arguments per call and removes the raw fields: every event carries only the
 * fields of its call, and `detail`.
 */
export function nameArguments(d: SecsnoopData): void {
  // Every decoded record has them (the defaults are for the type, whose raw fields are gone after this).
  const { arg_raw: arg = [], str_raw: str = '', str2_raw: str2 = '', addr_raw: addr = [] } = d;
  const [a0, a1, a2] = [Number(arg[0]), Number(arg[1]), Number(arg[2])];
  delete d.arg_raw;
  delete d.str_raw;
  delete d.str2_raw;
  delete d.addr_raw;
  callOf(d)?.name(d, { arg, a0, a1, a2, str, str2, addr });
  d.detail = detail(d);
}

/** One line of the call's arguments for tables: "PTRACE_ATTACH pid 123", "AF_PACKET SOCK_RAW" … */
export function detail(d: SecsnoopData): string {
  const call = callOf(d);
  return call?.detail ? call.detail(d) : String(d.flags ?? '');
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
  pollMs: LOW_RATE_POLL_MS,
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
} satisfies TrackerDescriptor<SecsnoopData>;
