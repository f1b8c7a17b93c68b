/** The ipc tracker on the real kernel: ipcmk/ipcrm and a small C program using every call. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { ipcTracker } from '../../src/trackers/ipc/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

/** Every traced call once (and msgrcv twice: the second finds no message); prints the ids. */
const IPC_C = `
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
int main(int argc, char **argv) {
  struct { long mtype; char text[8]; } m = { 42, "hello" };
  int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (msgsnd(q, &m, 5, 0) || msgrcv(q, &m, sizeof(m.text), 42, IPC_NOWAIT) != 5) return 1;
  if (msgrcv(q, &m, sizeof(m.text), 42, IPC_NOWAIT) != -1 || msgctl(q, IPC_RMID, NULL)) return 2;
  int s = shmget(IPC_PRIVATE, 8192, IPC_CREAT | IPC_EXCL | 0640);
  void *p = shmat(s, NULL, SHM_RDONLY);
  if (p == (void *)-1 || shmdt(p) || shmctl(s, IPC_RMID, NULL)) return 3;
  int sem = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
  struct sembuf ops[2] = { { 0, 1, 0 }, { 1, 1, 0 } };
  if (semop(sem, ops, 2) || semctl(sem, 0, IPC_RMID)) return 4;
  mqd_t d = mq_open(argv[1], O_CREAT | O_RDWR, 0600, NULL);
  char buf[1 << 16];
  if (d < 0 || mq_send(d, "hi", 2, 5) || mq_receive(d, buf, sizeof(buf), NULL) != 2) return 5;
  if (mq_close(d) || mq_unlink(argv[1])) return 6;
  printf("%d %d %lu %d %d\\n", q, s, (unsigned long)p, sem, d);
  return 0;
}
`;

function run(argv: string[]): Promise<{ pid: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ pid: p.pid!, code, out }));
  });
}

const ok = (stats: { lostKernel: number; lostQueue: number; decodeErrors: number }) =>
  assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);

describe('ipc tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();
  let prog = '';
  const mqName = `/eunomia-test-${process.pid}`;
  const of = (events: TrackerEvent[], pid: number) => events.filter((e) => e.data.pid === pid).map((e) => e.data);

  before(() => {
    prog = join(mkdtempSync(join(tmpdir(), 'eunomia-ipc-')), 'ipcprog');
    execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', prog, '-lrt'], { input: IPC_C });
  });

  after(async () => {
    if (prog) rmSync(dirname(prog), { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('ipcmk creates a queue, a segment and a semaphore set: key, id and mode; ipcrm removes them', async () => {
    const mk: Record<string, { pid: number; id: number }> = {};
    let rm = { pid: 0, code: null as number | null, out: '' };
    let bad = { pid: 0, code: null as number | null, out: '' };
    const { events, stats } = await traceWhile(
      ipcTracker,
      {},
      async () => {
        for (const [call, args] of [['msgget', ['-Q', '-p', '0600']], ['shmget', ['-M', '4096', '-p', '0640']], ['semget', ['-S', '2']]] as const) {
          const r = await run(['ipcmk', ...args]);
          assert.equal(r.code, 0);
          mk[call] = { pid: r.pid, id: Number(/id: (\d+)/.exec(r.out)![1]) }; // "Message queue id: 3"
        }
        rm = await run(['ipcrm', '-q', String(mk.msgget.id), '-m', String(mk.shmget.id), '-s', String(mk.semget.id)]);
        bad = await run(['ipcrm', '-q', String(mk.msgget.id)]); // already gone
      },
      (evs) => of(evs, bad.pid).length > 0,
      { watch },
    );
    ok(stats);
    assert.equal(rm.code, 0);
    const ipcNs = Number(readlinkSync('/proc/self/ns/ipc').replace(/\D/g, ''));
    const expect = { msgget: { mode: '0600' }, shmget: { mode: '0640', size: 4096 }, semget: { mode: '0644', nsems: 2 } };
    for (const [call, want] of Object.entries(expect)) {
      const [e] = of(events, mk[call].pid).filter((d) => d.call === call);
      assert.ok(e, `${call} seen`);
      assert.equal(e.comm, 'ipcmk');
      assert.equal(e.id, mk[call].id, 'id as ipcmk printed it');
      assert.equal(e.ret, mk[call].id);
      assert.equal(e.error, '');
      assert.equal(e.mode, want.mode);
      assert.match(String(e.flags), new RegExp(`^IPC_CREAT(\\|IPC_EXCL)?\\|${want.mode}$`));
      assert.equal(e.kind, call.slice(0, 3));
      assert.equal(e.ipc_ns, ipcNs);
      if ('size' in want) assert.equal(e.size, want.size);
      if ('nsems' in want) assert.equal(e.nsems, want.nsems);
      assert.notEqual(e.key, 0, 'ipcmk asks for a random key, not IPC_PRIVATE');
    }
    const rmids = of(events, rm.pid).filter((d) => d.cmd === 'IPC_RMID');
    assert.deepEqual(
      rmids.map((d) => [d.call, d.id, d.ret]).sort(),
      [['msgctl', mk.msgget.id, 0], ['semctl', mk.semget.id, 0], ['shmctl', mk.shmget.id, 0]].sort(),
    );
    const failed = of(events, bad.pid).filter((d) => d.cmd === 'IPC_RMID');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].id, mk.msgget.id);
    assert.equal(failed[0].error, 'EINVAL', 'a removed queue is an invalid id');
  });

  test('every call of a C program: ids, sizes, types, flags, addresses, mq name and mode, errors', async () => {
    let r = { pid: 0, code: null as number | null, out: '' };
    const { events, stats } = await traceWhile(
      ipcTracker,
      {},
      async () => {
        r = await run([prog, mqName]);
      },
      (evs) => of(evs, r.pid).some((d) => d.call === 'mq_unlink'),
      { watch },
    );
    ok(stats);
    assert.equal(r.code, 0);
    const [q, shm, addr, sem, mqd] = r.out.trim().split(' ').map(Number);
    const got = of(events, r.pid);
    const calls = got.map((d) => d.call);
    // glibc's semop may use the semtimedop syscall; mq_send/mq_receive are the timed calls.
    const semCall = calls.includes('semop') ? 'semop' : 'semtimedop';
    assert.deepEqual(calls, ['msgget', 'msgsnd', 'msgrcv', 'msgrcv', 'msgctl', 'shmget', 'shmat', 'shmdt', 'shmctl', 'semget', semCall, 'semctl',
      'mq_open', 'mq_timedsend', 'mq_timedreceive', 'mq_unlink']);
    const by = (call: string, i = 0) => got.filter((d) => d.call === call)[i]!;

    assert.equal(by('msgget').key, 0, 'IPC_PRIVATE');
    assert.equal(by('msgget').id, q);
    assert.equal(by('msgget').flags, 'IPC_CREAT|0600');
    assert.equal(by('msgsnd').id, q);
    assert.equal(by('msgsnd').msgtyp, 42, 'mtype read from the message');
    assert.equal(by('msgsnd').size, 5);
    assert.equal(by('msgsnd').ret, 0);
    assert.equal(by('msgrcv').msgtyp, 42);
    assert.equal(by('msgrcv').size, 8);
    assert.equal(by('msgrcv').flags, 'IPC_NOWAIT');
    assert.equal(by('msgrcv').ret, 5, 'bytes received');
    assert.equal(by('msgrcv', 1).error, 'ENOMSG', 'the second finds no message');
    assert.equal(by('msgctl').cmd, 'IPC_RMID');

    assert.equal(by('shmget').id, shm);
    assert.equal(by('shmget').size, 8192);
    assert.equal(by('shmget').flags, 'IPC_CREAT|IPC_EXCL|0640');
    assert.equal(by('shmget').mode, '0640');
    assert.equal(by('shmat').id, shm);
    assert.equal(by('shmat').flags, 'SHM_RDONLY');
    assert.equal(by('shmat').ret, addr, 'the address it was attached at');
    assert.equal(by('shmdt').addr, addr);
    assert.equal(by('shmctl').id, shm);

    assert.equal(by('semget').id, sem);
    assert.equal(by('semget').nsems, 3);
    assert.equal(by(semCall).id, sem);
    assert.equal(by(semCall).nsems, 2, 'two operations');
    assert.equal(by('semctl').cmd, 'IPC_RMID');

    // glibc passes the name without its leading slash.
    assert.equal(by('mq_open').name, mqName.slice(1));
    assert.equal(by('mq_open').flags, 'O_RDWR|O_CREAT');
    assert.equal(by('mq_open').mode, '0600');
    assert.equal(by('mq_open').id, mqd);
    assert.equal(by('mq_open').kind, 'mq');
    assert.equal(by('mq_timedsend').id, mqd);
    assert.equal(by('mq_timedsend').size, 2);
    assert.equal(by('mq_timedsend').prio, 5);
    assert.equal(by('mq_timedreceive').ret, 2, 'bytes received');
    assert.equal(by('mq_unlink').name, mqName.slice(1));
    assert.equal(by('mq_unlink').ret, 0);
    for (const d of got) assert.equal(d.comm, 'ipcprog');
  });

  test('--kind keeps only the kinds asked for', async () => {
    let r = { pid: 0, code: null as number | null, out: '' };
    const { events, stats } = await traceWhile(
      ipcTracker,
      { kind: 'mq,sem' },
      async () => {
        r = await run([prog, mqName]);
      },
      (evs) => of(evs, r.pid).some((d) => d.call === 'mq_unlink'),
      { watch },
    );
    ok(stats);
    assert.equal(r.code, 0);
    const kinds = new Set(of(events, r.pid).map((d) => d.kind));
    assert.deepEqual([...kinds].sort(), ['mq', 'sem'], 'msg and shm calls filtered in the kernel');
  });

  test('--kind rejects an unknown kind', async () => {
    await assert.rejects(
      traceWhile(ipcTracker, { kind: 'msg,pipe' }, () => {}, () => true),
      (e: unknown) => isEunomiaError(e, 'E_OPTION') && /"pipe"/.test(e.message),
    );
  });
});
