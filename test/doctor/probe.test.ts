/**
 * The kernel probes of `eunomia doctor` against the real kernel. No kind's answer is taken as
 * known: each is checked against evidence found another way — the kernel's own PMU and tracefs
 * files, a real tracker's object loaded and attached, funclatency's own fentry probe.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { BpfObject } from '../../src/core/bpf-object.js';
import { isEunomiaError } from '../../src/core/errors.js';
import { ERRNO_NAMES, PROGRAM_KINDS, probeProgramKinds, type KindProbe, type ProgramKind } from '../../src/core/kernel-probe.js';
import { loadNative } from '../../src/core/native.js';
import { objectDir } from '../../src/core/paths.js';
import { kernelFunctionSupport } from '../../src/trackers/funclatency/kernel.js';
import { KernelWatch, NOTHING_LEFT, buildBpf, needsClang, needsRoot, repoRoot } from '../helpers.js';

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((p) => existsSync(`${p}/events`));

/** Loads `object` with only `programs` on, attaches them (`attach` for those without a target in their section); the kernel's errno, or 0. */
async function tryObject(object: string, programs: string[], attach?: (o: BpfObject) => void): Promise<number> {
  const native = loadNative();
  const obj = BpfObject.open(native, object);
  try {
    for (const p of obj.programs()) obj.setAutoload(p.name, programs.includes(p.name));
    await obj.loadAsync();
    if (attach) attach(obj);
    else for (const p of programs) obj.attach(p);
    return 0;
  } catch (e) {
    if (isEunomiaError(e) && e.errno !== undefined) return e.errno;
    throw e;
  } finally {
    await obj.close();
  }
}

describe('doctor: kernel probes', { skip: needsRoot }, () => {
  let probes: Map<ProgramKind, KindProbe>;
  let ms: number;
  const watch = new KernelWatch();

  before(async () => {
    const t0 = performance.now();
    const probing = probeProgramKinds(loadNative());
    // While they are loaded: their ids, to check that none is left behind.
    const timer = setInterval(() => watch.note(), 5);
    try {
      probes = new Map((await probing).map((p) => [p.kind, p]));
    } finally {
      clearInterval(timer);
    }
    ms = performance.now() - t0;
    console.log(`# probes of ${probes.size} kinds: ${Math.round(ms)} ms; ${[...probes.values()].map((p) => `${p.kind} ${p.ok ? 'ok' : `${p.stage} ${p.error ?? p.reason}`}`).join(', ')}`);
  });

  test('every kind is answered, each refusal with the errno, its name and what it means', () => {
    assert.deepEqual([...probes.keys()], [...PROGRAM_KINDS]);
    for (const p of probes.values()) {
      assert.equal(typeof p.ok, 'boolean', p.kind);
      assert.ok(p.ms > 0 && p.ms < 30_000, `${p.kind}: ${p.ms} ms`);
      if (p.ok) continue;
      assert.ok(p.stage === 'load' || p.stage === 'attach' || p.stage === 'active', `${p.kind}: stage ${p.stage}`);
      assert.ok(p.reason && p.reason.length > 20, `${p.kind}: a reason (${p.reason})`);
      if (p.stage !== 'active') {
        assert.equal(typeof p.errno, 'number', `${p.kind}: errno`);
        assert.equal(p.error, ERRNO_NAMES[p.errno!] ?? `errno ${p.errno}`);
      }
    }
  });

  test('tracepoint: as a real tracker attaches (oomkill, a tracepoint program)', async () => {
    const errno = await tryObject(join(objectDir, 'oomkill.bpf.o'), ['handle_mark_victim']);
    assert.equal(probes.get('tracepoint')!.ok, errno === 0, `oomkill's attach answered errno ${errno}`);
  });

  test('raw tracepoint: as a real tracker attaches (syscount, raw_tp/sys_enter)', async () => {
    const errno = await tryObject(join(objectDir, 'syscount.bpf.o'), ['count_enter']);
    assert.equal(probes.get('raw_tracepoint')!.ok, errno === 0, `syscount answered errno ${errno}`);
  });

  test('kprobe: available exactly when the kernel has a kprobe PMU or tracefs kprobe_events', () => {
    const evidence = existsSync('/sys/bus/event_source/devices/kprobe') || (TRACEFS !== undefined && existsSync(`${TRACEFS}/kprobe_events`));
    const p = probes.get('kprobe')!;
    assert.equal(p.ok, evidence, `probe ${p.ok ? 'ok' : `${p.stage} ${p.error}`}, PMU or kprobe_events: ${evidence}`);
    if (!evidence) assert.equal(p.stage, 'attach', 'a kprobe program loads; only the attach needs the kprobe events');
  });

  test('uprobe: available exactly when the kernel has a uprobe PMU or tracefs uprobe_events', () => {
    const evidence = existsSync('/sys/bus/event_source/devices/uprobe') || (TRACEFS !== undefined && existsSync(`${TRACEFS}/uprobe_events`));
    assert.equal(probes.get('uprobe')!.ok, evidence);
  });

  test('perf_event: as another object attaches a perf event program', { skip: needsClang }, async () => {
    const features = buildBpf(join(repoRoot, 'test/bpf/features.bpf.c'));
    const errno = await tryObject(features, ['on_perf_event'], (o) => o.attachPerfEvent('on_perf_event', { type: 1, config: 0, frequency: 1, cpus: [0] }));
    assert.equal(probes.get('perf_event')!.ok, errno === 0, `features' perf event answered errno ${errno}`);
  });

  test("fentry: as funclatency's own fentry program loads, with the same errno", () => {
    const theirs = kernelFunctionSupport().fentry; // undefined where it loads, else "fentry refused: EPERM"
    const p = probes.get('fentry')!;
    assert.equal(p.ok, theirs === undefined, `probe ${p.ok ? 'ok' : p.error}, funclatency: ${theirs ?? 'loads'}`);
    if (!p.ok && p.stage === 'load') assert.match(theirs!, new RegExp(p.error!));
  });

  test('fexit and fentry get the same answer (one trampoline mechanism)', () => {
    assert.equal(probes.get('fexit')!.ok, probes.get('fentry')!.ok);
    assert.equal(probes.get('fexit')!.error, probes.get('fentry')!.error);
  });

  test('nothing the probes loaded is left in the kernel', async () => {
    assert.ok(watch.seen.progs.size > 0, 'the probes were seen loaded');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

});
