/** The syscount tracker on the real kernel: exact counts of the syscalls a small C program makes. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { syscountTracker } from '../../src/trackers/syscount/index.js';
import type { OptionValues } from '../../src/runtime/types.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';

// Waits for a line on stdin (so the tracker is attached first), then makes exactly
// GETPPID getppid() calls and FAILS close(-1) calls (each fails with EBADF), and exits.
const WORKLOAD = `
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int n = atoi(argv[1]), f = atoi(argv[2]);
	char c;
	if (read(0, &c, 1) != 1)
		return 1;
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	for (int i = 0; i < f; i++)
		syscall(SYS_close, -1);
	return 0;
}
`;
const GETPPID = 5000;
const FAILS = 300;
const COMM = 'sc-workload';

describe('syscount tracker', { skip: needsRoot || needsCc }, () => {
  const watch = new KernelWatch();
  let bin = '';

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-syscount-'));
    writeFileSync(join(dir, 'w.c'), WORKLOAD);
    bin = join(dir, COMM);
    execFileSync('cc', ['-O2', '-o', bin, join(dir, 'w.c')]);
  });

  after(async () => {
    assert.ok(watch.seen.progs.size >= 1, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  /** Runs the workload under the tracker; `filterPid` makes it a --pid run. Reports only at stop. */
  async function run(options: OptionValues, filterPid = true): Promise<{ pid: number; rows: Record<string, unknown>[]; events: TrackerEvent[] }> {
    const child = spawn(bin, [String(GETPPID), String(FAILS)], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const pid = child.pid!;
    const { events, stats } = await traceWhile(
      syscountTracker,
      { interval: 3600, top: 0, ...(filterPid ? { pid } : {}), ...options },
      async () => {
        child.stdin!.end('\n');
        assert.equal(await exited, 0);
      },
      () => true,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.ok(events.every((e) => e.tracker === 'syscount'));
    return { pid, rows: events.map((e) => e.data), events };
  }

  const bySyscall = (rows: Record<string, unknown>[], name: string) => rows.filter((r) => r.syscall === name);

  test('counts by syscall: exactly the calls the process made, sorted by count', async () => {
    const { rows } = await run({});
    const [g] = bySyscall(rows, 'getppid');
    assert.ok(g, 'a getppid row');
    assert.equal(g.count, GETPPID);
    assert.equal(g.nr, 110);
    assert.equal(bySyscall(rows, 'close')[0]?.count, FAILS);
    assert.equal(rows[0], g, 'largest count first');
    assert.ok(!('total_ns' in g), 'no latency fields unless asked');
    assert.ok(rows.every((r) => r.pid === undefined), 'no process fields by syscall');
  });

  test('--top keeps the N largest rows', async () => {
    const { rows } = await run({ top: 1 });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.syscall, 'getppid');
  });

  test('--failed counts only calls that returned an error', async () => {
    const { rows } = await run({ failed: true });
    assert.equal(bySyscall(rows, 'close')[0]?.count, FAILS);
    assert.equal(bySyscall(rows, 'getppid').length, 0, 'getppid never fails');
  });

  test('--latency adds total and average time', async () => {
    const { rows } = await run({ latency: true });
    const [g] = bySyscall(rows, 'getppid');
    assert.equal(g?.count, GETPPID);
    assert.ok(Number(g.total_ns) > 0, 'total time');
    assert.equal(g.avg_ns, Math.round(Number(g.total_ns) / GETPPID));
    assert.ok(Number(g.avg_ns) > 0 && Number(g.avg_ns) < 1e6, `average ${g.avg_ns} ns`);
    assert.equal(bySyscall(rows, 'close')[0]?.count, FAILS);
  });

  test('--latency with --failed times only the failed calls', async () => {
    const { rows } = await run({ latency: true, failed: true });
    assert.equal(bySyscall(rows, 'getppid').length, 0);
    const [c] = bySyscall(rows, 'close');
    assert.equal(c?.count, FAILS);
    assert.ok(Number(c.total_ns) > 0);
  });

  test('--syscall counts only that syscall (by name or number)', async () => {
    const { rows } = await run({ syscall: 'close' });
    assert.deepEqual(rows.map((r) => [r.syscall, r.count]), [['close', FAILS]]);
    const byNr = await run({ syscall: '110' });
    assert.deepEqual(byNr.rows.map((r) => [r.syscall, r.count]), [['getppid', GETPPID]]);
  });

  test('an unknown --syscall name is an option error', () => {
    assert.throws(() => syscountTracker.options.find((o) => o.name === 'syscall')!.toGlobal!('no_such_call'), { code: 'E_OPTION' });
  });

  test('--by-process: one row per process with pid and comm', async () => {
    const { pid, rows } = await run({ byProcess: true });
    assert.equal(rows.length, 1, 'the pid filter leaves only the workload');
    const [r] = rows;
    assert.equal(r!.pid, pid);
    assert.equal(r!.comm, COMM);
    assert.ok(Number(r!.count) >= GETPPID + FAILS, `count ${r!.count}`);
    assert.equal(r!.syscall, undefined);
  });

  test('--by-process with --syscall and --latency, every process on the host: the workload has its exact count', async () => {
    const { pid, rows } = await run({ byProcess: true, syscall: 'getppid', latency: true }, false);
    const mine = rows.filter((r) => r.pid === pid);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.count, GETPPID);
    assert.equal(mine[0]!.comm, COMM);
    assert.equal(mine[0]!.syscall, 'getppid');
    assert.ok(Number(mine[0]!.total_ns) > 0);
  });

  test('reports every interval, each covering only its own calls', async () => {
    const child = spawn(bin, [String(GETPPID), String(FAILS)], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => child.on('exit', r));
    const getppid = (evs: TrackerEvent[]) => evs.filter((e) => e.data.syscall === 'getppid');
    let firstReport = 0;
    const { events } = await traceWhile(
      syscountTracker,
      { interval: 1, top: 0, pid: child.pid },
      async () => {
        child.stdin!.end('\n');
        await exited;
      },
      (evs) => {
        if (!firstReport && getppid(evs).length > 0) firstReport = Date.now();
        return firstReport > 0 && Date.now() > firstReport + 2500; // two more intervals
      },
      { watch },
    );
    assert.ok(firstReport > 0, 'reported by the interval timer, before stop');
    // Without clearing, each later report would repeat the count. The burst takes about a
    // millisecond, so it rarely straddles two intervals; when it does, the two parts add up.
    const rows = getppid(events);
    assert.ok(rows.length === 1 || rows.length === 2, `getppid in ${rows.length} reports`);
    const total = rows.reduce((s, e) => s + Number(e.data.count), 0);
    if (rows.length === 1) assert.equal(total, GETPPID);
    else assert.ok(total <= GETPPID && total > GETPPID / 2, `split across two reports: ${total}`);
  });
});
