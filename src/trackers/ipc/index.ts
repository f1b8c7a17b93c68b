/** ipc: System V message queues, shared memory, semaphores and POSIX message queues (syscall tracepoints). */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { commonColumns as c } from '../common.js';
import { errnoName } from '../names/errno.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { octalMode } from '../names/open-flags.js';
import { ctlCommand, ipcFlags, kindOf, KIND_BITS, type IpcKind } from './names.js';
import { ipcMetrics } from './metrics.js';
import type { IpcEvent } from './event.gen.js';

/** An ipc_event and the names format adds ('' where the call has none). */
export type IpcData = IpcEvent & { kind: IpcKind | ''; flags: string; mode: string; cmd: string; error: string };

/** "msg,mq" → the kind_mask bits. */
function kindMask(v: unknown): number {
  let mask = 0;
  for (const k of String(v).split(',')) {
    const bit = KIND_BITS[k.trim() as IpcKind];
    if (!bit) throw new EunomiaError(ErrorCodes.OPTION, `tracker ipc: option kind: "${k}" is not one of msg, shm, sem, mq`);
    mask |= bit;
  }
  return mask;
}

const hexKey = (v: unknown, ev: { data: Record<string, unknown> }): string =>
  String(ev.data.call).endsWith('get') && typeof v === 'number' ? '0x' + v.toString(16).padStart(8, '0') : '';

export const ipcTracker: TrackerDescriptor = {
  name: 'ipc',
  summary: 'System V (msg, shm, sem) and POSIX message queue calls: key, id, flags, mode, queue name, result',
  metrics: ipcMetrics,
  object: 'ipc.bpf.o',
  event: { struct: 'ipc_event', map: 'events' },
  options: [
    {
      name: 'kind',
      flag: 'kind',
      type: 'string',
      arg: 'KINDS',
      description: 'only these kinds, comma-separated: msg, shm, sem, mq (in-kernel filter)',
      global: 'kind_mask',
      toGlobal: kindMask,
    },
  ],
  columns: [
    { key: 'call', header: 'CALL', width: 15 },
    c.pid,
    c.uid,
    c.comm,
    { key: 'key', header: 'KEY', width: 10, format: hexKey },
    { key: 'id', header: 'ID', width: 6, format: (v, ev) => (ev.data.call === 'shmdt' || ev.data.call === 'mq_unlink' ? '' : String(v)) },
    { key: 'flags', header: 'FLAGS', width: 23 },
    { key: 'mode', header: 'MODE', width: 4 },
    { key: 'cmd', header: 'CMD', width: 8 },
    {
      key: 'ret',
      header: 'RESULT',
      width: 8,
      format: (v, ev) => (ev.data.error ? String(ev.data.error) : ev.data.call === 'shmat' ? '0x' + Number(v).toString(16) : String(v)),
    },
    { key: 'name', header: 'NAME' },
  ],
  format(data) {
    const call = String(data.call);
    const kind = kindOf(call);
    const flags = data.flags_raw;
    data.kind = kind;
    data.flags = ipcFlags(call, flags);
    const hasMode = call.endsWith('get') || (call === 'mq_open' && flags & 0o100);
    data.mode = hasMode ? octalMode(data.mode_raw) : '';
    data.cmd = call.endsWith('ctl') && kind ? ctlCommand(kind, data.cmd_raw) : '';
    const ret = data.ret;
    data.error = ret < 0 ? errnoName(Number(ret)) : '';
  },
} satisfies TrackerDescriptor<IpcData>;
