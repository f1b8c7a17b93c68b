/** Syscall numbers as names. The table is x86-64's (scripts/gen-syscalls.js). */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { LATER_SYSCALLS } from './syscalls-later.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

const later = new Map<number, string>(LATER_SYSCALLS.map(([nr, name]) => [nr, name]));

export function syscallName(nr: number): string {
  return SYSCALLS_X86_64[nr] || later.get(nr) || `syscall_${nr}`;
}

/** The number of a syscall name, for filters; undefined when unknown. */
export function syscallNumber(name: string): number | undefined {
  const i = SYSCALLS_X86_64.indexOf(name);
  return i >= 0 ? i : LATER_SYSCALLS.find(([, n]) => n === name)?.[0];
}

/** A `--syscall` option: a name (with or without "sys_") or a number below `limit`. */
export function parseSyscallOption(tracker: string, v: unknown, limit: number): number {
  const s = String(v).trim();
  const nr = /^\d+$/.test(s) ? Number(s) : syscallNumber(s.replace(/^sys_/, ''));
  if (nr === undefined || nr >= limit) {
    throw new EunomiaError(ErrorCodes.OPTION, `tracker ${tracker}: option syscall: unknown syscall "${s}" — give an x86-64 name such as openat or getppid, or its number`);
  }
  return nr;
}
