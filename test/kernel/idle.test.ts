/**
 * The idle reader: with nothing to read it stops waking every poll interval and sets the
 * object's idle flag; the next record's program sees the flag, forces a wake-up and clears it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { BpfObject } from '../../src/core/bpf-object.js';
import { preflight } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import { objectDir } from '../../src/core/paths.js';
import { bssGlobal, buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

test('an idle reader sleeps until the next record, which wakes it and clears the flag', { skip: needsRoot }, async () => {
  const native = loadNative();
  preflight(native);
  const watch = new KernelWatch();
  const obj = BpfObject.open(native, join(objectDir, 'process.bpf.o'), 'process');
  try {
    obj.load();
    obj.attachAll();
    let records = 0;
    const reader = obj.openReader('events', (_buf, count) => (records += count));
    watch.note();
    const flag = (): number => bssGlobal(obj, 'eunomia_reader_idle');
    await waitFor(() => flag() === 1, 'the reader to go idle (flag set)', 10_000);
    const before = records;
    spawnSync('/bin/true');
    await waitFor(() => records > before, 'the exec to be delivered', 10_000);
    assert.equal(flag(), 0, 'the program saw the flag, forced a wake-up and cleared it');
    // Idle again once things are quiet, and a stop is not held up by the long sleep.
    await waitFor(() => flag() === 1, 'idle again', 10_000);
    const stats = await reader.close();
    assert.equal(stats.lostKernel + stats.lostQueue, 0);
  } finally {
    await obj.close();
  }
  assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
});

test('a new reader starts idle: its first record wakes it, with no poll to wait for', { skip: needsRoot || needsClang }, async () => {
  const native = loadNative();
  preflight(native);
  const watch = new KernelWatch();
  // Records only from this process's getppid(): nothing else clears the flag meanwhile.
  const obj = BpfObject.open(native, buildBpf(join(repoRoot, 'test/bpf/features.bpf.c')), 'features');
  try {
    obj.setGlobals({ target_tgid: process.pid });
    obj.load();
    obj.attach('on_getppid');
    let records = 0;
    // A poll of a second: polling first, it would take 20 empty polls (20 s) to go idle.
    const reader = obj.openReader('events', (_buf, count) => (records += count), { pollMs: 1000 });
    watch.note();
    const flag = (): number => bssGlobal(obj, 'eunomia_reader_idle');
    await waitFor(() => flag() === 1, 'the new reader to be idle', 5_000);
    assert.equal(records, 0);
    void process.ppid;
    await waitFor(() => records === 1, 'the first record to be delivered', 5_000);
    assert.equal(flag(), 0, 'the program saw the flag, forced a wake-up and cleared it');
    const stats = await reader.close();
    assert.equal(stats.lostKernel + stats.lostQueue, 0);
  } finally {
    await obj.close();
  }
  assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
});
