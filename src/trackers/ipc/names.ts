/** Flag words and commands of the IPC syscalls (include/uapi/linux/{ipc,msg,shm,sem}.h, fcntl.h). */
import { flagNames, type FlagTable } from '../names/flags.js';
import { octalMode, openFlags } from '../names/open-flags.js';

export type IpcKind = 'msg' | 'shm' | 'sem' | 'mq';

/** Bits of the tracker's kind_mask global (bpf/ipc/ipc.bpf.c KIND_*). */
export const KIND_BITS: Record<IpcKind, number> = { msg: 1, shm: 2, sem: 4, mq: 8 };

export function kindOf(call: string): IpcKind | '' {
  if (call.startsWith('mq_')) return 'mq';
  const k = call.slice(0, 3);
  return k === 'msg' || k === 'shm' || k === 'sem' ? k : '';
}

const GET_FLAGS: FlagTable = [
  [0o1000, 'IPC_CREAT'],
  [0o2000, 'IPC_EXCL'],
];
const SHMGET_FLAGS: FlagTable = [...GET_FLAGS, [0o4000, 'SHM_HUGETLB'], [0o10000, 'SHM_NORESERVE']];
const MSG_FLAGS: FlagTable = [
  [0o4000, 'IPC_NOWAIT'],
  [0o10000, 'MSG_NOERROR'],
  [0o20000, 'MSG_EXCEPT'],
  [0o40000, 'MSG_COPY'],
];
const SHMAT_FLAGS: FlagTable = [
  [0o10000, 'SHM_RDONLY'],
  [0o20000, 'SHM_RND'],
  [0o40000, 'SHM_REMAP'],
  [0o100000, 'SHM_EXEC'],
];

/** The flag argument of `call` as text, e.g. "IPC_CREAT|IPC_EXCL|0600"; '' for calls without one. */
export function ipcFlags(call: string, flags: number): string {
  switch (call) {
    case 'msgget':
    case 'semget':
    case 'shmget': {
      const rest = flagNames(flags & ~0o777, call === 'shmget' ? SHMGET_FLAGS : GET_FLAGS, '');
      return rest ? `${rest}|${octalMode(flags & 0o777)}` : octalMode(flags & 0o777);
    }
    case 'msgsnd':
    case 'msgrcv':
      return flagNames(flags, MSG_FLAGS, '');
    case 'shmat':
      return flagNames(flags, SHMAT_FLAGS, '');
    case 'mq_open':
      return openFlags(flags);
    default:
      return '';
  }
}

const CTL_COMMON = ['IPC_RMID', 'IPC_SET', 'IPC_STAT', 'IPC_INFO'];
const CTL: Record<IpcKind, Record<number, string>> = {
  msg: { 11: 'MSG_STAT', 12: 'MSG_INFO', 13: 'MSG_STAT_ANY' },
  shm: { 11: 'SHM_LOCK', 12: 'SHM_UNLOCK', 13: 'SHM_STAT', 14: 'SHM_INFO', 15: 'SHM_STAT_ANY' },
  sem: { 11: 'GETPID', 12: 'GETVAL', 13: 'GETALL', 14: 'GETNCNT', 15: 'GETZCNT', 16: 'SETVAL', 17: 'SETALL', 18: 'SEM_STAT', 19: 'SEM_INFO', 20: 'SEM_STAT_ANY' },
  mq: {},
};
const IPC_64 = 0x100;

/** "IPC_RMID", "SETVAL|IPC_64", or the number as text when unknown. */
export function ctlCommand(kind: IpcKind, cmd: number): string {
  const base = cmd & ~IPC_64;
  const name = CTL_COMMON[base] ?? CTL[kind][base] ?? String(base);
  return cmd & IPC_64 ? `${name}|IPC_64` : name;
}
