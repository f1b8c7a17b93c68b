/**
 * The funclatency tracker on the real kernel: a small C program whose functions sleep known
 * times, timed by a uprobe and a uretprobe on each; nested, recursive, longjmp'd and too deep
 * calls; the pid filter; kernel functions refused with the kernel's reason; and the CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { systemClock } from '../../src/core/clock.js';
import { loadNative } from '../../src/core/native.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import type { OptionValues } from '../../src/runtime/types.js';
import { funclatencyTracker, type FunclatencyData } from '../../src/trackers/funclatency/index.js';
import { funclatencyMetrics } from '../../src/trackers/funclatency/metrics.js';
import type { Label, MetricTarget } from '../../src/runtime/metric-spec.js';
import { KernelWatch, NOTHING_LEFT, needsRoot, repoRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';

// Waits for a line on stdin (so the probes are attached first), then calls each function the
// number of times its argument says, in this order, and exits.
const WORKLOAD = `
#include <setjmp.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void nap(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) != 0)
		;
}

/* 20 ms: the log2 slot [2^24, 2^25) ns = [16.8, 33.6) ms */
void sleepy(void) { nap(20); }

/* 5 ms: [2^22, 2^23) ns = [4.2, 8.4) ms */
void other(void) { nap(5); }

/* Depth 5, each level sleeping after its inner call returns: levels last 6, 12, 24, 48 and
 * 96 ms, one in each of the slots 22 to 26. */
static const long level_ms[6] = { 0, 6, 6, 12, 24, 48 };
int recurse(int depth)
{
	if (depth > 1)
		recurse(depth - 1);
	nap(level_ms[depth]);
	return depth;
}

/* thrower never returns: it longjmps back into catcher, which then returns. */
static jmp_buf jb;
void thrower(void) { longjmp(jb, 1); }
int catcher(void)
{
	if (setjmp(jb) == 0)
		thrower();
	return 1;
}

/* 40 calls deep: 8 more than the tracker measures at once. */
int deep(int depth) { return depth > 1 ? deep(depth - 1) + 1 : 1; }

int main(int argc, char **argv)
{
	int n[5] = { 0 };
	for (int i = 1; i < argc && i <= 5; i++)
		n[i - 1] = atoi(argv[i]);
	char c;
	if (read(0, &c, 1) != 1)
		return 1;
	for (int i = 0; i < n[0]; i++)
		sleepy();
	for (int i = 0; i < n[1]; i++)
		recurse(5);
	for (int i = 0; i < n[2]; i++)
		other();
	for (int i = 0; i < n[3]; i++)
		catcher();
	for (int i = 0; i < n[4]; i++)
		deep(40);
	/* After the longjmps and the overflow, the thread's stack must be sound again. */
	if (n[3] || n[4])
		sleepy();
	return 0;
}
`;

/** Calls of each function the workload makes: sleepy, recurse (top-level), other, catcher, deep(40). */
type Calls = [number, number, number, number, number];

const SLOT = (ns: number) => Math.floor(Math.log2(ns));
const MS = 1e6;

describe('funclatency tracker', { skip: needsRoot || needsCc }, () => {
  const watch = new KernelWatch();
  let dir = '';
  let bin = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'eunomia-funclatency-'));
    writeFileSync(join(dir, 'w.c'), WORKLOAD);
    bin = join(dir, 'fl-workload');
    execFileSync('cc', ['-O0', '-fno-omit-frame-pointer', '-fno-inline', '-o', bin, join(dir, 'w.c')]);
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    assert.ok(watch.seen.progs.size >= 2, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  const fn = (name: string) => `${bin}:${name}`;

  function workload(calls: Calls): { child: ChildProcess; go: () => Promise<void> } {
    const child = spawn(bin, calls.map(String), { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return {
      child,
      go: async () => {
        child.stdin!.end('\n');
        assert.equal(await exited, 0);
      },
    };
  }

  /** Runs the workload (and `others`, untraced unless host-wide) under the tracker; one report, at stop. */
  async function run(calls: Calls, funcs: string[], options: OptionValues = {}, others: Calls[] = []): Promise<FunclatencyData[]> {
    const w = workload(calls);
    const rest = others.map(workload);
    const { events, stats } = await traceWhile(
      funclatencyTracker,
      { interval: 3600, top: 0, pid: w.child.pid, func: funcs.join(','), ...options },
      () => Promise.all([w.go(), ...rest.map((o) => o.go())]),
      () => true,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors + stats.mapInsertFailures, 0);
    assert.ok(events.every((e) => e.tracker === 'funclatency'));
    return events.map((e) => e.data as FunclatencyData);
  }

  const rowOf = (rows: FunclatencyData[], name: string) => rows.filter((r) => r.function === name);
  /** Calls per log2 slot (of ns), the non-empty ones. */
  const slots = (r: FunclatencyData) => Object.fromEntries(r.buckets.filter((b) => b.count).map((b) => [SLOT(Math.max(b.low, 1)), b.count]));

  test('a function sleeping 20 ms: every call in the 16.8–33.6 ms slot, in ns', async () => {
    const rows = await run([10, 0, 0, 0, 0], [fn('sleepy')]);
    assert.equal(rows.length, 1);
    const r = rows[0]!;
    assert.equal(r.binary, bin);
    assert.equal(r.function, 'sleepy');
    assert.equal(r.count, 10);
    assert.deepEqual(slots(r), { 24: 10 }, 'all in [2^24, 2^25) ns');
    assert.ok(r.avg_ns >= 20 * MS && r.avg_ns < 2 ** 25, `average ${r.avg_ns} ns`);
    assert.equal(r.total_ns, r.buckets.reduce((s, b) => s + b.total_ns, 0));
    assert.equal(r.too_deep + r.mismatched, 0);
    assert.ok(typeof r.cgroup_id === 'number' && r.cgroup_id > 0, 'the cgroup, for the container');
  });

  test('recursion: each of the 5 nested calls counted once, in the slot of its own duration', async () => {
    const rows = await run([0, 3, 0, 0, 0], [fn('recurse')]);
    const [r] = rowOf(rows, 'recurse');
    assert.equal(r?.count, 15, '5 calls per top-level call');
    // 6, 12, 24, 48, 96 ms: slots 22 to 26, one call of each level per top-level call.
    assert.deepEqual(slots(r), { 22: 3, 23: 3, 24: 3, 25: 3, 26: 3 });
    assert.equal(r.mismatched, 0);
  });

  test('several functions in one run: each its own histogram', async () => {
    const rows = await run([4, 1, 6, 0, 0], [fn('sleepy'), fn('recurse'), fn('other')]);
    assert.deepEqual(rows.map((r) => r.function).sort(), ['other', 'recurse', 'sleepy']);
    assert.deepEqual(slots(rowOf(rows, 'sleepy')[0]!), { 24: 4 });
    assert.deepEqual(slots(rowOf(rows, 'other')[0]!), { 22: 6 });
    assert.deepEqual(slots(rowOf(rows, 'recurse')[0]!), { 22: 1, 23: 1, 24: 1, 25: 1, 26: 1 });
    assert.equal(rows[0]!.function, 'other', 'most calls first');
  });

  test('-p: only that process; host-wide, both copies of the program', async () => {
    const onlyOne = await run([3, 0, 0, 0, 0], [fn('sleepy')], {}, [[5, 0, 0, 0, 0]]);
    assert.deepEqual(onlyOne.map((r) => [r.function, r.count]), [['sleepy', 3]], 'the second copy is not counted');
    const both = await run([3, 0, 0, 0, 0], [fn('sleepy')], { pid: undefined }, [[5, 0, 0, 0, 0]]);
    assert.equal(both.reduce((s, r) => s + r.count, 0), 8, 'without -p, both copies');
  });

  test('a longjmp past a timed function: the return that comes is measured, the lost one counted, the stack repaired', async () => {
    const rows = await run([0, 0, 0, 4, 0], [fn('catcher'), fn('thrower'), fn('sleepy')]);
    const [c] = rowOf(rows, 'catcher');
    assert.equal(c?.count, 4, 'catcher measured each time');
    assert.equal(c.mismatched, 4, "each of its returns found thrower's call on top");
    assert.equal(rowOf(rows, 'thrower').reduce((s, r) => s + r.count, 0), 0, 'thrower never returned');
    const [s] = rowOf(rows, 'sleepy');
    assert.deepEqual(slots(s!), { 24: 1 }, 'later calls are measured as before');
    assert.equal(s!.mismatched, 0);
  });

  test('calls deeper than 32 are counted as too deep, not mis-measured', async () => {
    const rows = await run([0, 0, 0, 0, 2], [fn('deep'), fn('sleepy')]);
    const [d] = rowOf(rows, 'deep');
    assert.equal(d?.count, 64, '32 measured per deep(40)');
    assert.equal(d.too_deep, 16, '8 too deep per deep(40)');
    assert.equal(d.mismatched, 0, 'their returns are not mistaken for others');
    assert.deepEqual(slots(rowOf(rows, 'sleepy')[0]!), { 24: 1 });
  });

  test('--unit changes only how latencies print', async () => {
    const rows = await run([2, 0, 0, 0, 0], [fn('sleepy')], { unit: 'ms' });
    const r = rows[0]!;
    assert.equal(r.unit, 'ms');
    assert.deepEqual(slots(r), { 24: 2 }, 'buckets stay in ns');
    const text = funclatencyTracker.plain!(r);
    assert.match(text, new RegExp(`^${bin}:sleepy\\n`));
    assert.match(text, /msecs : count/);
    assert.match(text, /16\.777 -> 33\.554 : 2 +\|\*{40}\|/);
    assert.match(text, /count 2, avg 2\d\.\d+ msecs/);
  });

  test('Prometheus: each slot\'s calls at once by binary and function, the sum exact', () => {
    const observed: [string, number, number, Label[]][] = [];
    const counted: [string, number, number, Label[]][] = [];
    const labels = (l: (Label | undefined)[]): Label[] => l.filter((x) => x !== undefined) as Label[];
    const target = (into: [string, number, number, Label[]][]): MetricTarget => ({
      add: (v, ...l) => void into.push(['add', v, 1, labels(l)]),
      addCounts: (upper, n, ...l) => void into.push(['counts', upper, n, labels(l)]),
      addSum: (sum, ...l) => void into.push(['sum', sum, 0, labels(l)]),
    });
    const row: FunclatencyData = {
      binary: '/usr/bin/app',
      function: 'handle',
      cgroup_id: 1,
      unit: 'us',
      count: 3,
      total_ns: 5_000_000,
      avg_ns: 1_666_667,
      buckets: [
        { low: 2 ** 20, high: 2 ** 21 - 1, count: 2, total_ns: 3_000_000 },
        { low: 2 ** 21, high: 2 ** 22 - 1, count: 1, total_ns: 2_000_000 },
      ],
      too_deep: 1,
      mismatched: 0,
    };
    funclatencyMetrics.update(row, [target(observed), target(counted)]);
    assert.deepEqual(observed, [
      ['counts', (2 ** 21 - 1) / 1e9, 2, ['app', 'handle']],
      ['sum', 0.003, 0, ['app', 'handle']],
      ['counts', (2 ** 22 - 1) / 1e9, 1, ['app', 'handle']],
      ['sum', 0.002, 0, ['app', 'handle']],
    ]);
    assert.deepEqual(counted, [['add', 1, 1, ['app', 'handle', 'too_deep']]]);
  });

  test('a function the binary lacks, a malformed --func, a bad unit: errors that name them', async () => {
    const m = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: () => {} });
    assert.throws(() => m.start(funclatencyTracker, { func: fn('no_such_function') }), (e: unknown) => isEunomiaError(e, 'E_ATTACH') && e.message.includes(`attach ${bin}:no_such_function`) && /has no function "no_such_function"/.test(e.message));
    assert.throws(() => m.start(funclatencyTracker, { func: `${dir}/missing:main` }), (e: unknown) => isEunomiaError(e, 'E_OPTION') && e.message.includes(`${dir}/missing: no such file`));
    assert.throws(() => m.start(funclatencyTracker, { func: `${bin}:` }), (e: unknown) => isEunomiaError(e, 'E_OPTION') && /is not BINARY:FUNCTION/.test(e.message));
    assert.throws(() => m.start(funclatencyTracker, {}), (e: unknown) => isEunomiaError(e, 'E_OPTION') && /no function to measure/.test(e.message));
    assert.throws(() => m.start(funclatencyTracker, { func: fn('sleepy'), unit: 's' }), (e: unknown) => isEunomiaError(e, 'E_OPTION') && /--unit s: expected ns, us or ms/.test(e.message));
    assert.throws(() => m.start(funclatencyTracker, { func: `${fn('sleepy')},${fn('sleepy')}` }), /given twice/);
    assert.equal(m.list().length, 0, 'nothing started');
    // The second probe fails: the first one's attachment goes with the object.
    assert.throws(() => m.start(funclatencyTracker, { func: `${fn('sleepy')},${fn('nope')}` }), /no function "nope"/);
    watch.note();
  });

  test('a library by name (from the process\'s mapped files), nested in a function of the program', async () => {
    const rows = await run([3, 0, 0, 0, 0], ['libc:nanosleep', fn('sleepy')]);
    const [n] = rowOf(rows, 'nanosleep');
    assert.equal(n?.binary, 'libc');
    assert.equal(n.count, 3, "libc's nanosleep, called by each sleepy()");
    assert.deepEqual(slots(n), { 24: 3 });
    assert.deepEqual(slots(rowOf(rows, 'sleepy')[0]!), { 24: 3 }, 'and the call around it');
    assert.ok(rowOf(rows, 'sleepy')[0]!.avg_ns > n.avg_ns, 'the outer call lasts longer');
  });

  test('a kernel function is refused with what this kernel lacks', () => {
    const kprobes = existsSync('/sys/bus/event_source/devices/kprobe/type') || existsSync('/sys/kernel/tracing/kprobe_events');
    const m = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: () => {} });
    assert.throws(
      () => m.start(funclatencyTracker, { func: 'vfs_read' }),
      (e: unknown) => {
        assert.ok(isEunomiaError(e));
        if (kprobes) {
          // Not this VM: a kernel with kprobes. funclatency still only times user functions.
          assert.equal(e.code, 'E_OPTION');
          assert.match(e.message, /"vfs_read" is a kernel function .*this kernel allows kprobes, but funclatency times user functions only so far — use BINARY:FUNCTION/);
        } else {
          assert.equal(e.code, 'E_ATTACH');
          assert.match(e.message, /"vfs_read" is a kernel function \(no BINARY:\): kernel functions need kprobes or fentry, which this kernel does not allow \(kprobes are compiled out: no kprobe PMU, no kprobe_events in tracefs; fentry refused: EPERM\) — use BINARY:FUNCTION for user functions/);
        }
        return true;
      },
    );
    assert.equal(m.list().length, 0);
  });

  test('eunomia run funclatency --func … -p PID --fmt json: one report per interval', async () => {
    const w = workload([3, 0, 0, 0, 0]);
    const cli = spawn(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'funclatency', '--func', fn('sleepy'), '--func', fn('other'), '-p', String(w.child.pid), '--fmt', 'json', '-i', '1', '--unit', 'ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout!.on('data', (d) => (out += d));
    cli.stderr!.on('data', (d) => (err += d));
    const cliExit = new Promise((r) => cli.on('exit', r));
    const deadline = Date.now() + 10_000;
    while (!/funclatency tracker started/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(err, /funclatency tracker started/);
    await w.go();
    while (!out.includes('"sleepy"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    cli.kill('SIGINT');
    assert.equal(await cliExit, 0, err);
    const rows = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as FunclatencyData & { tracker: string });
    assert.ok(rows.every((r) => r.tracker === 'funclatency' && r.unit === 'ms'));
    const sleepy = rows.filter((r) => r.function === 'sleepy');
    assert.equal(sleepy.reduce((s, r) => s + r.count, 0), 3, 'its 3 calls, over one or two reports');
    assert.ok(sleepy.every((r) => r.buckets.every((b) => !b.count || b.low === 2 ** 24)));
    assert.match(err, /^funclatency: \d+ events seen, 0 lost/m);
  });
});
