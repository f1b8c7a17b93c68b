/**
 * The doctor's verdict per tracker and rule, on the real kernel's probes: trackers made for the
 * test out of test/bpf/hot_fallback.bpf.c (one hook by fentry, kprobe and tracepoint) say what
 * a kernel without one of those kinds does to them. The expectations follow the probes'
 * answers, whatever this kernel allows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { assessTracker, buildReport, type DoctorReport } from '../../src/agent/doctor.js';
import { tracefsFacts } from '../../src/agent/host-facts.js';
import { probeProgramKinds, type KindProbe, type ProgramKind } from '../../src/core/kernel-probe.js';
import { BpfObject } from '../../src/core/bpf-object.js';
import { loadNative } from '../../src/core/native.js';
import { objectPrograms } from '../../src/core/object-programs.js';
import { objectDir } from '../../src/core/paths.js';
import type { RuleSet } from '../../src/rules/index.js';
import type { TrackerDescriptor } from '../../src/runtime/types.js';
import { trackers as catalogue } from '../../src/trackers/registry.js';
import { buildBpf, needsClang, needsRoot, repoRoot } from '../helpers.js';

function tracker(object: string, name: string, extra: Partial<TrackerDescriptor>): TrackerDescriptor {
  return { name, summary: 'a doctor test tracker', object, options: [], columns: [], ...extra };
}

test("objectPrograms lists each tracker object's programs as libbpf does", () => {
  const native = loadNative();
  for (const t of catalogue) {
    const path = join(objectDir, t.object);
    const obj = BpfObject.open(native, path);
    try {
      const libbpf = obj.programs().map((p) => `${p.name} ${p.section}`).sort();
      assert.deepEqual(objectPrograms(readFileSync(path)).map((p) => `${p.name} ${p.section}`).sort(), libbpf, t.name);
    } finally {
      obj.closeNow();
    }
  }
});

describe('doctor: trackers and rules', { skip: needsRoot || needsClang }, () => {
  let object: string;
  let probes: KindProbe[];
  let kinds: Map<ProgramKind, KindProbe>;

  before(async () => {
    object = buildBpf(join(repoRoot, 'test/bpf/hot_fallback.bpf.c'));
    probes = await probeProgramKinds(loadNative());
    kinds = new Map(probes.map((p) => [p.kind, p]));
  });

  test('a kprobe-only tracker can run exactly when kprobes can, and says why not with what to do', () => {
    const r = assessTracker(tracker(object, 'doctor_kprobe', { programs: () => ['unlink_kprobe'] }), kinds, tracefsFacts(), true);
    const kprobe = kinds.get('kprobe')!;
    assert.equal(r.canRun, kprobe.ok);
    assert.equal(r.programs.find((p) => p.name === 'unlink_kprobe')!.status, kprobe.ok ? 'runs' : 'blocked');
    assert.equal(r.programs.find((p) => p.name === 'unlink_tp')!.status, 'not-loaded');
    if (!kprobe.ok) {
      assert.match(r.reason!, /^kprobe refused \((load|attach): \w+\): unlink_kprobe \(kprobe\/do_unlinkat\)$/);
      assert.ok(r.reason!.includes(kprobe.error!), `the errno's name is in "${r.reason}"`);
      assert.match(r.todo!, /CONFIG_KPROBES/);
    }
  });

  test('with a fallback group, the first kind the kernel allows runs and the others say why not', () => {
    const d = tracker(object, 'doctor_fallback', {
      programs: () => ['unlink_fentry', 'unlink_kprobe', 'unlink_tp'],
      fallbacks: [{ programs: ['unlink_fentry', 'unlink_kprobe', 'unlink_tp'] }],
    });
    const r = assessTracker(d, kinds, tracefsFacts(), false);
    const expected = kinds.get('fentry')!.ok ? 'unlink_fentry' : kinds.get('kprobe')!.ok ? 'unlink_kprobe' : 'unlink_tp';
    assert.equal(r.canRun, true, r.reason);
    const runs = r.programs.filter((p) => p.status === 'runs').map((p) => p.name);
    assert.deepEqual(runs, [expected]);
    for (const p of r.programs.filter((x) => x.status === 'fallback')) assert.ok(p.reason, `${p.name} says why it does not run`);
    if (!kinds.get('fentry')!.ok) {
      assert.ok(r.notes.some((n) => n.startsWith(`unlink_fentry: fentry refused (${kinds.get('fentry')!.stage}: ${kinds.get('fentry')!.error})`) && n.includes(`uses ${expected}`)), r.notes.join(' | '));
    }
  });

  test('a tracepoint this kernel lacks blocks its program (tracefs is read, not assumed)', () => {
    const none = { ...tracefsFacts(), tracepoints: new Map<string, string[]>() };
    const r = assessTracker(tracker(object, 'doctor_tp', { programs: () => ['unlink_tp'] }), kinds, none, false);
    assert.equal(r.canRun, false);
    assert.match(r.reason!, /^this kernel has no tracepoint syscalls:sys_enter_unlinkat: unlink_tp \(tracepoint\/syscalls\/sys_enter_unlinkat\)$/);
    assert.match(r.todo!, /tracepoints/);
    // Optional, the same program is left out and the tracker runs without it.
    const opt = assessTracker(tracker(object, 'doctor_tp', { programs: () => ['unlink_tp', 'exit_tp'], optionalPrograms: ['unlink_tp'] }), kinds, none, false);
    assert.equal(opt.programs.find((p) => p.name === 'unlink_tp')!.status, 'left-out');
  });

  test('the report: a rule needing a tracker that cannot run says which; the defaults decide ok', async () => {
    const kprobeOnly = tracker(object, 'doctor_kprobe', { programs: () => ['unlink_kprobe'] });
    const rules = { rules: () => [{ id: 'doctor_rule', name: 'doctor rule', desc: '', priority: 'warning', tags: [], events: ['doctor_kprobe'], enabled: true }] } as unknown as RuleSet;
    const config = (await import('../../src/agent/config.js')).defaultConfig();
    config.trackers = [{ name: 'doctor_kprobe', options: {} }];
    const r: DoctorReport = await buildReport({ native: loadNative(), trackers: [kprobeOnly], config, rules, probes, runtimes: 'off' });
    const ok = kinds.get('kprobe')!.ok;
    assert.equal(r.trackers[0]!.byDefault, true);
    assert.equal(r.rules[0]!.canRun, ok);
    assert.equal(r.ok, ok);
    if (!ok) {
      assert.match(r.rules[0]!.reason!, /needs doctor_kprobe, which cannot run here/);
      assert.ok(r.problems.some((p) => p.startsWith('tracker doctor_kprobe cannot run: kprobe refused')), r.problems.join(' | '));
      assert.match(r.summary.at(-1)!, /^the defaults cannot all run here: tracker doctor_kprobe cannot run/);
    }
  });

  test('every tracker of the catalogue is judged from its object, with the kinds it loads', async () => {
    const r = await buildReport({ native: loadNative(), probes, runtimes: 'off' });
    assert.deepEqual(r.trackers.map((t) => t.name), catalogue.map((t) => t.name));
    const tp = kinds.get('tracepoint')!.ok;
    for (const t of r.trackers) {
      // Every tracker loads something by default, and a tracker runs only if every kind it loads was allowed.
      assert.ok(t.programs.some((p) => p.status === 'runs' || p.status === 'blocked'), `${t.name} loads programs`);
      for (const k of t.kinds) assert.equal(kinds.get(k)!.ok, true, `${t.name} runs ${k}`);
    }
    // The process tracker is tracepoints only: it runs exactly when tracepoints do.
    assert.equal(r.trackers.find((t) => t.name === 'process')!.canRun, tp);
  });
});
