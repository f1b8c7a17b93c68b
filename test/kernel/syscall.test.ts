/** The syscall tracker on the real kernel: first-use events and per-interval counts of a known workload. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { syscallTracker } from '../../src/trackers/syscall/index.js';
import type { OptionValues } from '../../src/runtime/types.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile, type Traced } from './harness.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';

// Waits for a line on stdin (so the tracker can be started for its pid), then: getppid x500,
// uname x3, an optional pause of argv[1] ms, getppid x500 more, a short sleep, exit.
const WORKLOAD_C = `
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char line[8];
  if (read(0, line, sizeof line) <= 0) return 1;
  int pause_ms = argc > 1 ? atoi(argv[1]) : 0;
  struct utsname u;
  for (int i = 0; i < 500; i++) syscall(SYS_getppid);
  for (int i = 0; i < 3; i++) uname(&u);
  if (pause_ms) usleep(pause_ms * 1000);
  for (int i = 0; i < 500; i++) syscall(SYS_getppid);
  usleep(50000);
  return 0;
}
`;

describe('syscall tracker', { skip: needsRoot || needsCc }, () => {
  const watch = new KernelWatch();
  let dir = '';
  let bin = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'eunomia-syscall-'));
    bin = join(dir, 'sctest');
    execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', bin], { input: WORKLOAD_C });
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  /** Starts the workload (waiting), traces it (only its pid with `byPid`), lets it run to its end. */
  async function run(options: OptionValues, pauseMs = 0, byPid = true): Promise<Traced & { pid: number }> {
    const child: ChildProcess = spawn(bin, [String(pauseMs)], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const pid = child.pid!;
    // A tracker that fails to start must not leave the workload waiting for its line.
    const traced = await traceWhile(
      syscallTracker,
      { ...(byPid ? { pid } : {}), ...options },
      async () => {
        child.stdin!.end('go\n');
        await exited;
      },
      () => true,
      { watch },
    ).finally(() => child.stdin!.destroy());
    assert.equal(traced.stats.lostKernel + traced.stats.lostQueue + traced.stats.decodeErrors, 0);
    return { ...traced, pid };
  }

  const firstUses = (events: TrackerEvent[], pid: number) => events.filter((e) => e.data.type === 'first_use' && e.data.pid === pid);
  const counts = (events: TrackerEvent[], pid: number) => events.filter((e) => e.data.type === 'count' && e.data.pid === pid);
  const total = (rows: TrackerEvent[], name: string) => rows.filter((e) => e.data.syscall === name).reduce((s, e) => s + Number(e.data.count), 0);

  // All processes: counts in the per-CPU hash keyed by (pid, syscall); with -p: in the array
  // indexed by syscall number.
  for (const byPid of [false, true]) {
    test(`one first-use event per syscall, exact counts by name, counts cleared every interval but first uses not repeated (${byPid ? '-p' : 'all processes'})`, async () => {
      const { events, pid } = await run({ interval: 1, top: 0 }, 1300, byPid);

      const first = firstUses(events, pid);
      const names = first.map((e) => String(e.data.syscall));
      assert.equal(names.filter((n) => n === 'getppid').length, 1, 'getppid reported once, not per call or per interval');
      assert.equal(names.filter((n) => n === 'uname').length, 1);
      assert.equal(new Set(names).size, names.length, `no syscall reported twice: ${names.join(' ')}`);
      const getppid = first.find((e) => e.data.syscall === 'getppid')!;
      assert.equal(getppid.data.syscall_raw, 110);
      assert.equal(getppid.data.comm, 'sctest');
      assert.equal(getppid.data.ppid, process.pid);
      assert.ok(Number(getppid.data.mnt_ns) > 0 && Number(getppid.data.cgroup_id) > 0, 'common header filled');

      const rows = counts(events, pid);
      assert.equal(total(rows, 'getppid'), 1000);
      assert.equal(total(rows, 'uname'), 3);
      for (const r of rows) {
        assert.match(String(r.data.syscall), /^[a-z][a-z0-9_]*$/, 'a name');
        assert.doesNotMatch(String(r.data.syscall), /^syscall_\d+$/, 'not a number');
        assert.equal(r.data.comm, 'sctest');
      }
      // 500 calls, a pause longer than the interval, 500 more: two reports, neither cumulative.
      const getppidRows = rows.filter((e) => e.data.syscall === 'getppid');
      assert.ok(new Set(getppidRows.map((e) => e.time)).size >= 2, 'getppid counted in two intervals');
      for (const r of getppidRows) assert.ok(Number(r.data.count) < 1000, `an interval's own count (${r.data.count})`);
    });
  }

  test('rows are sorted by count and -n keeps the top N', async () => {
    const { events, pid } = await run({ interval: 3600, top: 2 });
    const rows = counts(events, pid);
    // One report (at stop): getppid 1000, uname 3; clock_nanosleep (2) and exit_group (1) cut.
    assert.deepEqual(
      rows.map((e) => [e.data.syscall, e.data.count]),
      [
        ['getppid', 1000],
        ['uname', 3],
      ],
    );
  });

  test('--syscall filters in the kernel: only that syscall is reported and counted', async () => {
    // All processes: nothing but uname, from any of them.
    const { events, pid } = await run({ interval: 3600, top: 0, syscall: 'uname' }, 0, false);
    assert.deepEqual(firstUses(events, pid).map((e) => e.data.syscall), ['uname']);
    assert.deepEqual(counts(events, pid).map((e) => [e.data.syscall, e.data.count]), [['uname', 3]]);
    assert.ok(events.every((e) => e.data.syscall === 'uname'), 'nothing else at all');
  });

  test('--first-only: first-use events, no counts', async () => {
    const { events, pid } = await run({ interval: 1, top: 0, firstOnly: true }, 1100);
    const names = firstUses(events, pid).map((e) => e.data.syscall);
    assert.equal(names.filter((n) => n === 'getppid').length, 1);
    assert.equal(names.filter((n) => n === 'uname').length, 1);
    assert.equal(events.filter((e) => e.data.type === 'count').length, 0);
  });

  test('an unknown syscall name is refused before anything is loaded', async () => {
    await assert.rejects(
      traceWhile(syscallTracker, { syscall: 'no_such_call' }, () => {}, () => true),
      (e: unknown) => isEunomiaError(e, 'E_OPTION') && /no_such_call/.test((e as Error).message),
    );
  });
});
