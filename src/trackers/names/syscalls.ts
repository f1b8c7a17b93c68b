/** Syscall numbers as names. The table is x86-64's (scripts/gen-syscalls.js). */
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

export function syscallName(nr: number): string {
  return SYSCALLS_X86_64[nr] || `syscall_${nr}`;
}

/** The number of a syscall name, for filters; undefined when unknown. */
export function syscallNumber(name: string): number | undefined {
  const i = SYSCALLS_X86_64.indexOf(name);
  return i < 0 ? undefined : i;
}
