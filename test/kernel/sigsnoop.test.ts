/** The sigsnoop tracker on the real kernel: signals this process sends to children, and a C program's sends. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { sigsnoopTracker } from '../../src/trackers/sigsnoop/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot, waitFor } from '../helpers.js';
import { traceWhile } from './harness.js';

/** Above pid_max (at most 2^22), so no process can have it. */
const NO_SUCH_PID = 2 ** 30;

const dir = mkdtempSync(join(tmpdir(), 'eunomia-sigsnoop-'));

function child(script: string): ChildProcess {
  return spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const exited = (c: ChildProcess): Promise<NodeJS.Signals | null> => new Promise((r) => c.on('exit', (_code, sig) => r(sig)));

/** Sends from this process (kill(2)); events by us with the given target. */
const sentBy = (evs: TrackerEvent[], pid: number, target: number): TrackerEvent[] =>
  evs.filter((e) => e.data.pid === pid && e.data.target_pid === target);

function killQuietly(pid: number, sig: NodeJS.Signals): string {
  try {
    process.kill(pid, sig);
    return '';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

/** Each of the thread-directed, queued and pidfd send calls, to itself (SIGUSR2 ignored). */
const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  signal(SIGUSR2, SIG_IGN);
  raise(SIGUSR2);                                      /* tgkill */
  syscall(SYS_tkill, gettid(), SIGUSR2);
  union sigval v = { .sival_int = 1 };
  sigqueue(getpid(), SIGUSR2, v);                      /* rt_sigqueueinfo */
  int pfd = syscall(SYS_pidfd_open, getpid(), 0);
  long r = syscall(SYS_pidfd_send_signal, pfd, SIGUSR2, NULL, 0);
  long bad = syscall(SYS_tgkill, getpid(), 1 << 30, SIGUSR2);
  printf("%d %ld %ld\n", getpid(), r, bad);
  return 0;
}
`;

function buildHelper(): string | undefined {
  try {
    const src = join(dir, 'sigsender.c');
    writeFileSync(src, C_SOURCE);
    execFileSync('cc', ['-O1', '-o', join(dir, 'sigsender'), src], { stdio: 'pipe' });
    return join(dir, 'sigsender');
  } catch {
    return undefined;
  }
}

describe('sigsnoop tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('kill of children with SIGUSR2 (ignored), SIGUSR1 and SIGKILL; ESRCH; the SIGCHLD the kernel sends back', async () => {
    const a = child('trap "" USR2; exec sleep 10'); // SIG_IGN survives exec
    const b = child('exec sleep 10');
    await waitFor(() => comm(a.pid!) === 'sleep' && comm(b.pid!) === 'sleep', 'the execs of sleep');
    let esrch = '';
    let deaths: (NodeJS.Signals | null)[] = [];
    const t = await traceWhile(
      sigsnoopTracker,
      {},
      async () => {
        const done = Promise.all([exited(a), exited(b)]);
        assert.equal(killQuietly(a.pid!, 'SIGUSR2'), '');
        assert.equal(killQuietly(a.pid!, 'SIGUSR1'), '');
        assert.equal(killQuietly(b.pid!, 'SIGKILL'), '');
        esrch = killQuietly(NO_SUCH_PID, 'SIGUSR1');
        deaths = await done;
      },
      (evs) => evs.filter((e) => e.data.source === 'kernel' && e.data.target_pid === process.pid && e.data.signal === 'SIGCHLD').length >= 2,
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    assert.deepEqual(deaths, ['SIGUSR1', 'SIGKILL']);
    assert.equal(esrch, 'ESRCH');

    const toA = sentBy(t.events, process.pid, a.pid!);
    assert.deepEqual(toA.map((e) => e.data.signal), ['SIGUSR2', 'SIGUSR1'], 'one event per send, in order');
    const [usr2, usr1] = toA;
    for (const e of toA) {
      assert.equal(e.tracker, 'sigsnoop');
      assert.equal(e.data.source, 'kill');
      assert.equal(e.data.comm, 'node');
      assert.equal(e.data.target_comm, 'sleep');
      assert.equal(e.data.target_tid, 0, 'process-directed');
      assert.equal(e.data.targets, 1);
      assert.equal(e.data.si_code, 0, 'SI_USER');
      assert.equal(e.data.error_raw, 0);
      assert.equal(e.data.error, '');
    }
    assert.equal(usr2!.data.signal_raw, 12);
    assert.equal(usr2!.data.delivery, 'ignored');
    assert.equal(usr2!.data.result, 'ignored');
    assert.equal(usr1!.data.signal_raw, 10);
    assert.equal(usr1!.data.delivery, 'delivered');
    assert.equal(usr1!.data.result, 'delivered');

    const [kill9] = sentBy(t.events, process.pid, b.pid!);
    assert.ok(kill9, 'SIGKILL seen');
    assert.equal(kill9.data.signal, 'SIGKILL');
    assert.equal(kill9.data.signal_raw, 9);
    assert.equal(kill9.data.delivery, 'delivered');
    assert.equal(kill9.data.target_comm, 'sleep');

    const [missing] = sentBy(t.events, process.pid, NO_SUCH_PID);
    assert.ok(missing, 'the failed kill seen');
    assert.equal(missing.data.source, 'kill');
    assert.equal(missing.data.signal, 'SIGUSR1');
    assert.equal(missing.data.error_raw, 3);
    assert.equal(missing.data.error, 'ESRCH');
    assert.equal(missing.data.result, 'ESRCH');
    assert.equal(missing.data.delivery, 'none');
    assert.equal(missing.data.targets, 0);
    assert.equal(missing.data.target_comm, '');

    // The kernel tells us our children died: SIGCHLD sent in the dying child's context.
    for (const [c, code] of [[a, 2], [b, 2]] as const) {
      const chld = t.events.find((e) => e.data.pid === c.pid && e.data.signal === 'SIGCHLD');
      assert.ok(chld, `SIGCHLD from ${c.pid}`);
      assert.equal(chld.data.source, 'kernel');
      assert.equal(chld.data.target_pid, process.pid);
      assert.equal(chld.data.ppid, process.pid);
      assert.equal(chld.data.si_code, code, 'CLD_KILLED');
      assert.equal(chld.data.target_comm, 'node');
    }
  });

  test('--signal keeps only that signal (filtered in the kernel)', async () => {
    const a = child('exec sleep 10');
    const b = child('exec sleep 10');
    const t = await traceWhile(
      sigsnoopTracker,
      { signal: 10 },
      async () => {
        const done = Promise.all([exited(a), exited(b)]);
        killQuietly(a.pid!, 'SIGUSR1');
        killQuietly(b.pid!, 'SIGTERM');
        await done;
      },
      (evs) => sentBy(evs, process.pid, a.pid!).length > 0,
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    assert.equal(sentBy(t.events, process.pid, a.pid!).length, 1);
    assert.equal(sentBy(t.events, process.pid, b.pid!).length, 0, 'SIGTERM filtered');
    assert.ok(t.events.every((e) => e.data.signal_raw === 10), 'no other signal at all (no SIGCHLD)');
  });

  test('--failed keeps the failed send and drops the successful ones (filtered in the kernel)', async () => {
    const a = child('exec sleep 10');
    const t = await traceWhile(
      sigsnoopTracker,
      { failed: true },
      async () => {
        const done = exited(a);
        killQuietly(a.pid!, 'SIGTERM');
        assert.equal(killQuietly(NO_SUCH_PID, 'SIGTERM'), 'ESRCH');
        await done;
      },
      (evs) => sentBy(evs, process.pid, NO_SUCH_PID).length > 0,
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    assert.equal(sentBy(t.events, process.pid, NO_SUCH_PID)[0]?.data.error, 'ESRCH');
    assert.equal(sentBy(t.events, process.pid, a.pid!).length, 0, 'the successful kill is not reported');
    assert.equal(t.events.filter((e) => e.data.pid === a.pid).length, 0, 'nor the SIGCHLD');
    assert.ok(t.events.every((e) => e.data.error_raw !== 0));
  });

  const helper = buildHelper();
  test('tgkill, tkill, rt_sigqueueinfo and pidfd_send_signal, each reported once', { skip: !helper && 'no C compiler (cc)' }, async () => {
    let out = '';
    const t = await traceWhile(
      sigsnoopTracker,
      {},
      () => {
        out = execFileSync(helper!, { encoding: 'utf8' });
      },
      (evs) => evs.some((e) => e.data.comm === 'sigsender' && e.data.error === 'ESRCH'),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    const [pid, pidfdRet, bad] = out.trim().split(' ').map(Number);
    assert.equal(pidfdRet, 0);
    assert.equal(bad, -1);
    const evs = t.events.filter((e) => e.data.pid === pid && e.data.signal === 'SIGUSR2');
    assert.deepEqual(evs.map((e) => e.data.source), ['tgkill', 'tkill', 'rt_sigqueueinfo', 'pidfd_send_signal', 'tgkill']);
    for (const e of evs.slice(0, 4)) {
      assert.equal(e.data.target_pid, pid, `${e.data.source}: target process`);
      assert.equal(e.data.target_comm, 'sigsender');
      assert.equal(e.data.delivery, 'ignored');
      assert.equal(e.data.error, '');
      assert.equal(e.data.targets, 1);
    }
    assert.equal(evs[0]!.data.target_tid, pid, 'raise() aims at the calling thread');
    assert.equal(evs[1]!.data.target_tid, pid);
    assert.equal(evs[0]!.data.si_code, -6, 'SI_TKILL');
    assert.equal(evs[2]!.data.si_code, -1, 'SI_QUEUE');
    assert.equal(evs[2]!.data.target_tid, 0);
    assert.equal(evs[3]!.data.target_tid, 0, 'a process pidfd');
    assert.equal(evs[4]!.data.error, 'ESRCH');
    assert.equal(evs[4]!.data.target_tid, 2 ** 30);
    assert.equal(evs[4]!.data.delivery, 'none');
  });
});
