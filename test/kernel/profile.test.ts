/**
 * The profile tracker on the real kernel: a C program that spends nearly all its time in one
 * known function is sampled, its stacks named from its ELF symbols; a stripped copy says why its
 * frames have no names; the kernel part of a stack is named from kallsyms.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileTracker } from '../../src/trackers/profile/index.js';
import type { StackRow } from '../../src/profiling/stacks.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';

// Spins in hot_loop (a static function: named only by .symtab, so the stripped copy cannot name
// it) until killed; every 64th round it makes a getppid, so some samples catch it in the kernel.
const WORKLOAD = `
#include <sys/syscall.h>
#include <unistd.h>
#ifndef VARIANT
#define VARIANT 1
#endif
static volatile unsigned long sink;
static __attribute__((noinline)) void hot_loop(void)
{
	for (unsigned long i = 0;; i++) {
		sink += i * i + VARIANT;
		if ((i & 0xffff) == 0)
			syscall(SYS_getppid);
	}
}
int main(void)
{
	hot_loop();
	return 0;
}
`;

describe('profile tracker', { skip: needsRoot || needsCc }, () => {
  const watch = new KernelWatch();
  let bin = '';
  let stripped = '';

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-profile-'));
    writeFileSync(join(dir, 'w.c'), WORKLOAD);
    bin = join(dir, 'pf-workload');
    execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', bin, join(dir, 'w.c')]);
    // Another build (its own build id: the symbolizer would name a copy of the same build from
    // the unstripped file it cached, as perf does), stripped.
    stripped = join(dir, 'pf-stripped');
    execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-DVARIANT=2', '-o', stripped, join(dir, 'w.c')]);
    execFileSync('strip', [stripped]);
  });

  after(async () => {
    assert.ok(watch.seen.progs.size >= 1, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  /** Profiles a command (by its pid) for ~2.5 s at 199 Hz: the rows of its samples. */
  async function profile(cmd: string, args: string[] = [], options: Record<string, unknown> = {}, warmMs = 0): Promise<StackRow[]> {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    try {
      // A JIT runtime compiles a hot function after a while: until then it is interpreted.
      if (warmMs) await new Promise((r) => setTimeout(r, warmMs));
      const pid = child.pid!;
      const { events } = await traceWhile(profileTracker, { frequency: 199, interval: 1, pid, ...options }, () => {}, () => false, { waitMs: 2500, watch });
      return events.map((e) => e.data as StackRow).filter((r) => r.pid === pid);
    } finally {
      child.kill('SIGKILL');
    }
  }
  const samples = (rows: StackRow[], pred: (r: StackRow) => boolean = () => true): number => rows.filter(pred).reduce((n, r) => n + r.count, 0);

  test('names the hot function in at least 90 % of its samples, and its stacks are whole (frame pointers)', async () => {
    const rows = await profile(bin);
    const total = samples(rows);
    assert.ok(total >= 100, `a busy process sampled at 199 Hz for ~2.5 s: ${total} samples`);
    const hot = samples(rows, (r) => r.stack.includes('hot_loop'));
    assert.ok(hot / total >= 0.9, `hot_loop is on ${hot} of ${total} samples' stacks`);
    const whole = samples(rows, (r) => r.user === 'ok' && r.stack.includes('main'));
    assert.ok(whole / total >= 0.9, `stacks from the entry point through main: ${whole} of ${total}: ${JSON.stringify(rows.slice(0, 3))}`);
    // Root first: main is called before hot_loop.
    const row = rows.find((r) => r.user === 'ok')!;
    assert.ok(row.stack.indexOf('main') < row.stack.indexOf('hot_loop'), row.stack.join(';'));
  });

  test('a stripped copy: its frames are unnamed, and the rows say why', async () => {
    const rows = await profile(stripped);
    const total = samples(rows);
    assert.ok(total >= 100, `${total} samples`);
    assert.equal(samples(rows, (r) => r.stack.includes('hot_loop')), 0, 'a static function of a stripped binary has no name');
    const said = samples(rows, (r) => r.unresolved > 0 && r.reason === 'stripped');
    assert.ok(said / total >= 0.9, `unnamed frames with the reason "stripped": ${said} of ${total}: ${JSON.stringify(rows[0])}`);
  });

  test('kernel frames are named from kallsyms; --user-only leaves them out', async () => {
    // dd spends its time in the kernel, zeroing and copying pages.
    const dd = ['if=/dev/zero', 'of=/dev/null', 'bs=4M', 'count=100000000'];
    const rows = await profile('dd', dd);
    const total = samples(rows);
    const inKernel = rows.filter((r) => r.kernel_frames > 0);
    assert.ok(samples(rows, (r) => r.kernel_frames > 0) / total >= 0.5, `samples with kernel frames: ${samples(rows, (r) => r.kernel_frames > 0)} of ${total}`);
    for (const r of inKernel) {
      for (const f of r.stack.slice(r.stack.length - r.kernel_frames)) assert.match(f, /^[A-Za-z_.][\w.]*(\s\[\w+\])?$/, `a kernel symbol name: ${f}`);
    }
    assert.ok(inKernel.some((r) => r.stack.some((f) => /read|zero|clear|copy|iter/.test(f))), 'the read path of /dev/zero is on a stack');
    const userOnly = await profile('dd', dd, { userOnly: true });
    assert.ok(samples(userOnly) > 0);
    assert.equal(samples(userOnly, (r) => r.kernel_frames > 0), 0, 'no kernel frames with --user-only');
  });

  // A hot JavaScript function, called in a loop (V8 compiles it: its code is in JIT memory; not
  // inlined into the loop, where its samples would carry the loop's name).
  const JS = 'function eunomiaHotFunction(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; } let t = 0; for (;;) t += eunomiaHotFunction(1e5);';

  test('Node with --perf-basic-prof-only-functions: its JavaScript function named from its perf map', async () => {
    const rows = await profile(process.execPath, ['--perf-basic-prof-only-functions', '--no-turbo-inlining', '-e', JS], {}, 1500);
    const total = samples(rows);
    assert.ok(total >= 100, `${total} samples`);
    const named = samples(rows, (r) => r.stack.some((f) => f.includes('eunomiaHotFunction')));
    assert.ok(named / total >= 0.5, `eunomiaHotFunction on ${named} of ${total} samples: ${JSON.stringify(rows.slice(0, 2))}`);
    assert.equal(samples(rows, (r) => r.hint !== undefined), 0, 'no hint: its frames are named');
  });

  test('Node without the flag: its JIT frames unnamed, and the hint says which flag names them', async () => {
    const rows = await profile(process.execPath, ['--no-turbo-inlining', '-e', JS], {}, 1500);
    const total = samples(rows);
    assert.ok(total >= 100, `${total} samples`);
    assert.equal(samples(rows, (r) => r.stack.some((f) => f.includes('eunomiaHotFunction'))), 0);
    assert.ok(samples(rows, (r) => /--perf-basic-prof-only-functions/.test(r.hint ?? '')) / total >= 0.9, JSON.stringify(rows[0]));
    assert.ok(samples(rows, (r) => r.reason === 'no-perf-map') > 0, 'frames in JIT memory say why they have no name');
  });

  test('--user-only and --kernel-only together are refused', () => {
    assert.throws(() => profileTracker.validate!({ userOnly: true, kernelOnly: true }), /E_OPTION|exclude each other/);
  });
});
