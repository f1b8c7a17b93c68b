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
import { KernelWatch, NOTHING_LEFT, needsRoot, waitFor } from '../helpers.js';

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
    const bss = obj.map('.bss');
    const at = obj.btf.datasec('.bss')!.vars.find((v) => v.name === 'eunomia_reader_idle')!.offset;
    const flag = (): number => bss.lookup(Buffer.alloc(4))!.readUInt32LE(at);
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
