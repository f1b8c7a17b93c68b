/** Names of the secsnoop calls' arguments (include/uapi/linux/{ptrace,bpf,memfd,kexec,fcntl}.h). */
import { flagNames, type FlagTable } from '../names/flags.js';

/** The requests bpf/secsnoop/secsnoop.bpf.c reports (glibc's spelling). */
const PTRACE: Record<number, string> = {
  0: 'PTRACE_TRACEME', 4: 'PTRACE_POKETEXT', 5: 'PTRACE_POKEDATA', 6: 'PTRACE_POKEUSER', 13: 'PTRACE_SETREGS',
  16: 'PTRACE_ATTACH', 0x4205: 'PTRACE_SETREGSET', 0x4206: 'PTRACE_SEIZE',
};

export function ptraceRequest(n: number): string {
  return PTRACE[n] ?? `PTRACE_${n}`;
}

const PROG_TYPES = [
  'UNSPEC', 'SOCKET_FILTER', 'KPROBE', 'SCHED_CLS', 'SCHED_ACT', 'TRACEPOINT', 'XDP', 'PERF_EVENT', 'CGROUP_SKB',
  'CGROUP_SOCK', 'LWT_IN', 'LWT_OUT', 'LWT_XMIT', 'SOCK_OPS', 'SK_SKB', 'CGROUP_DEVICE', 'SK_MSG', 'RAW_TRACEPOINT',
  'CGROUP_SOCK_ADDR', 'LWT_SEG6LOCAL', 'LIRC_MODE2', 'SK_REUSEPORT', 'FLOW_DISSECTOR', 'CGROUP_SYSCTL',
  'RAW_TRACEPOINT_WRITABLE', 'CGROUP_SOCKOPT', 'TRACING', 'STRUCT_OPS', 'EXT', 'LSM', 'SK_LOOKUP', 'SYSCALL', 'NETFILTER',
];

/** "BPF_PROG_TYPE_KPROBE" for 2; '' when the attr could not be read (-1). */
export function progTypeName(n: number): string {
  if (n < 0) return '';
  return `BPF_PROG_TYPE_${PROG_TYPES[n] ?? n}`;
}

/** MFD_HUGETLB's page size sits in bits 26-31: left as hex. */
const MEMFD: FlagTable = [[1, 'MFD_CLOEXEC'], [2, 'MFD_ALLOW_SEALING'], [4, 'MFD_HUGETLB'], [8, 'MFD_NOEXEC_SEAL'], [0x10, 'MFD_EXEC']];

export function memfdFlags(flags: number): string {
  return flagNames(flags, MEMFD);
}

const USERFAULTFD: FlagTable = [[1, 'UFFD_USER_MODE_ONLY'], [0o4000, 'O_NONBLOCK'], [0o2000000, 'O_CLOEXEC']];

export function userfaultfdFlags(flags: number): string {
  return flagNames(flags, USERFAULTFD);
}

/** kexec_load: the high 16 bits are the image's architecture (KEXEC_ARCH_*): left as hex. */
const KEXEC: FlagTable = [[1, 'KEXEC_ON_CRASH'], [2, 'KEXEC_PRESERVE_CONTEXT'], [4, 'KEXEC_UPDATE_ELFCOREHDR'], [8, 'KEXEC_CRASH_HOTPLUG_SUPPORT']];
const KEXEC_FILE: FlagTable = [[1, 'KEXEC_FILE_UNLOAD'], [2, 'KEXEC_FILE_ON_CRASH'], [4, 'KEXEC_FILE_NO_INITRAMFS'], [8, 'KEXEC_FILE_DEBUG']];

export function kexecFlags(call: 'kexec_load' | 'kexec_file_load', flags: number): string {
  return flagNames(flags, call === 'kexec_load' ? KEXEC : KEXEC_FILE);
}

/** A chmod mode as octal digits, as chmod(1) takes it: "4755". */
export function modeOctal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** linkat: AT_SYMLINK_FOLLOW (link to what a symlink points to) and AT_EMPTY_PATH (link an open fd). */
const LINKAT: FlagTable = [[0x400, 'AT_SYMLINK_FOLLOW'], [0x1000, 'AT_EMPTY_PATH']];

export function linkatFlags(flags: number): string {
  return flagNames(flags, LINKAT);
}

/** unlinkat: AT_REMOVEDIR (rmdir). */
const UNLINKAT: FlagTable = [[0x200, 'AT_REMOVEDIR']];

export function unlinkatFlags(flags: number): string {
  return flagNames(flags, UNLINKAT);
}

/** renameat2: RENAME_NOREPLACE, RENAME_EXCHANGE (swap the two), RENAME_WHITEOUT. */
const RENAMEAT2: FlagTable = [[1, 'RENAME_NOREPLACE'], [2, 'RENAME_EXCHANGE'], [4, 'RENAME_WHITEOUT']];

export function renameFlags(flags: number): string {
  return flagNames(flags, RENAMEAT2);
}

/** include/uapi/linux/reboot.h */
const REBOOT: Record<number, string> = {
  0x01234567: 'LINUX_REBOOT_CMD_RESTART', 0xcdef0123: 'LINUX_REBOOT_CMD_HALT', 0x89abcdef: 'LINUX_REBOOT_CMD_CAD_ON',
  0x00000000: 'LINUX_REBOOT_CMD_CAD_OFF', 0x4321fedc: 'LINUX_REBOOT_CMD_POWER_OFF', 0xa1b2c3d4: 'LINUX_REBOOT_CMD_RESTART2',
  0xd000fce2: 'LINUX_REBOOT_CMD_SW_SUSPEND', 0x45584543: 'LINUX_REBOOT_CMD_KEXEC',
};

/** "LINUX_REBOOT_CMD_RESTART"; an unknown command in hex. */
export function rebootCmd(cmd: number): string {
  return REBOOT[cmd >>> 0] ?? `0x${(cmd >>> 0).toString(16)}`;
}

/** mknod: the file type the kernel filter lets through (S_IFBLK, S_IFCHR). */
export function deviceType(mode: number): string {
  return mode === 0o60000 ? 'block' : 'char';
}

/** The device number as mknod takes it, in the kernel's encoding (new_decode_dev): major in bits 8-19, minor in 0-7 and 20-31. */
export function deviceNumbers(dev: number): { major: number; minor: number } {
  return { major: (dev >>> 8) & 0xfff, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}

const SOCKOPTS: Record<number, string> = { 26: 'SO_ATTACH_FILTER', 50: 'SO_ATTACH_BPF' };

export function sockoptName(optname: number): string {
  return SOCKOPTS[optname] ?? `SO_${optname}`;
}
