/** Interval reports from in-kernel aggregation maps, on the real kernel. */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import type { TrackerDescriptor } from '../../src/runtime/types.js';
import { buildBpf, heldBy, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

describe('interval reports', { skip: needsRoot || needsClang }, () => {
  const watch = new KernelWatch();
  after(async () => assert.deepEqual(await watch.leftovers(), NOTHING_LEFT));

  function setup(): { m: TrackerManager; events: TrackerEvent[] } {
    const native = loadNative();
    preflight(native);
    const obj = buildBpf(join(repoRoot, 'test/bpf/counter.bpf.c'));
    const events: TrackerEvent[] = [];
    const m = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev), objectDir: dirname(obj) });
    return { m, events };
  }

  test('per-CPU hash: summed over CPUs, cleared every interval, the last partial interval reported at stop', async () => {
    const d: TrackerDescriptor = { name: 'counter', summary: 'test', object: 'counter.bpf.o', interval: { map: 'counts', seconds: 1, top: 5, sortBy: 'calls' }, options: [], columns: [] };
    const { m, events } = setup();
    const inst = m.start(d, { pid: process.pid, includeSelf: true });
    watch.note();
    for (let i = 0; i < 1000; i++) void process.ppid;
    await waitFor(() => events.length >= 1, 'the first report', 3000);
    const first = events[0]!;
    assert.equal(first.tracker, 'counter');
    assert.equal(first.data.pid, process.pid);
    assert.ok(Number(first.data.calls) >= 1000);
    assert.equal(first.data.comm, 'node');
    for (let i = 0; i < 7; i++) void process.ppid;
    const stats = await m.stop(inst.id);
    const last = events[events.length - 1]!;
    assert.ok(Number(last.data.calls) >= 7 && Number(last.data.calls) < 1000, `later reports count only their interval (${last.data.calls})`);
    const total = events.reduce((s, e) => s + Number(e.data.calls), 0);
    assert.ok(total >= 1007);
    assert.equal(stats.events, events.length);
    assert.equal(stats.decodeErrors, 0);
  });

  test('per-CPU array: each report holds only its interval (differences, nothing reset in between)', async () => {
    const d: TrackerDescriptor = {
      name: 'hist', summary: 'test', object: 'counter.bpf.o', options: [], columns: [],
      interval: { map: 'hist', seconds: 1, top: 0, rows: (entries) => entries.map((e) => ({ slots: (e.value as { slots: number[] }).slots })) },
    };
    const { m, events } = setup();
    const inst = m.start(d, { pid: process.pid, includeSelf: true });
    watch.note();
    for (let i = 0; i < 500; i++) void process.ppid;
    await waitFor(() => events.length >= 1, 'the first report', 3000);
    for (let i = 0; i < 7; i++) void process.ppid;
    await m.stop(inst.id);
    const counts = events.map((e) => (e.data.slots as number[])[3]!);
    assert.ok(counts[0]! >= 500, `first interval ${counts[0]}`);
    const later = counts.slice(1).reduce((a, b) => a + b, 0);
    assert.ok(later >= 7 && later < 500, `later intervals count only new calls (${later})`);
  });

  test('programs(options) chooses which programs are loaded and attached', async () => {
    const d: TrackerDescriptor = { name: 'counter', summary: 'test', object: 'counter.bpf.o', interval: { map: 'counts', seconds: 3600, top: 0 }, options: [], columns: [], programs: () => [] };
    const { m, events } = setup();
    const inst = m.start(d, { pid: process.pid, includeSelf: true });
    watch.note();
    const held = heldBy();
    await m.stop(inst.id);
    assert.equal(held.progs.size + held.links.size, 0, 'maps only: no program loaded, nothing attached');
    assert.ok(held.maps.size > 0);
    assert.equal(events.length, 0);
  });

  test('per-CPU array: custom rows, differences between reads, -n cuts rows', async () => {
    const d: TrackerDescriptor = {
      name: 'hist', summary: 'test', object: 'counter.bpf.o', options: [], columns: [],
      interval: { map: 'hist', seconds: 3600, top: 0, rows: (entries) => entries.map((e) => ({ slots: (e.value as { slots: number[] }).slots })) },
    };
    const { m, events } = setup();
    const inst = m.start(d, { pid: process.pid, includeSelf: true, top: 1 });
    watch.note();
    for (let i = 0; i < 50; i++) void process.ppid;
    await m.stop(inst.id);
    assert.equal(events.length, 1, 'one report, at stop');
    const slots = events[0]!.data.slots as number[];
    assert.ok(slots[3]! >= 50);
    assert.deepEqual(slots.filter((_, i) => i !== 3), [0, 0, 0, 0, 0, 0, 0]);
  });
});
