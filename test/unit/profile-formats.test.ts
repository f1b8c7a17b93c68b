/**
 * The profile output formats other than the SVG (src/profiling/formats/): folded stacks sum to
 * the samples and read back to the same stacks; pprof, decoded by the same package that wrote
 * it, has the samples, values, functions and labels; speedscope has the schema's required
 * fields (checked against them with Ajv) and weights that sum to the samples; render() picks a
 * format by name and says E_OPTION for an unknown one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import { Profile as PprofProfile } from 'pprof-format';
import { EunomiaError, isEunomiaError } from '../../src/core/errors.js';
import {
  FORMATS, parseFolded, parseProfileFormat, PROFILE_FORMATS, render, renderFolded, renderPprof, renderSpeedscope,
  samplePeriodNs, speedscopeFile, type Profile, type ProfileStack,
} from '../../src/profiling/formats/index.js';

const profile: Profile = {
  hz: 99,
  durationMs: 10_000,
  startedAt: new Date('2026-01-02T03:04:05.000Z'),
  stacks: [
    { frames: ['_start', 'main', 'hot_loop'], count: 700, pid: 42, comm: 'app', container: 'web' },
    { frames: ['_start', 'main', 'parse', 'read', 'entry_SYSCALL_64', 'ksys_read'], count: 100, pid: 42, comm: 'app', container: 'web', kernelFrames: 2 },
    { frames: ['_start', 'main', 'cold_path'], count: 50, pid: 42, comm: 'app', container: 'web' },
    { frames: ['_start', 'main', 'hot_loop'], count: 25, pid: 43, comm: 'app' },
    { frames: ['swapper', 'do_idle', 'cpuidle_enter'], count: 60, pid: 0, comm: 'swapper/0', kernelFrames: 3 },
    { frames: ['worker', 'read'], count: 15, pid: 8, comm: 'w' },
    { frames: ['_start', 'main', 'never'], count: 0, pid: 42, comm: 'app' },
  ],
};
const TOTAL = 700 + 100 + 50 + 25 + 60 + 15;

/** Stacks as "frame;frame count" keys with summed counts, for order-free comparison. */
function tally(stacks: readonly ProfileStack[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of stacks) if (s.count > 0) m.set(s.frames.join(';'), (m.get(s.frames.join(';')) ?? 0) + s.count);
  return m;
}

// ---------------------------------------------------------------- folded

test('folded: one line per unique stack, counts summing to the samples, sorted', () => {
  const text = renderFolded(profile);
  const lines = text.trimEnd().split('\n');
  assert.ok(text.endsWith('\n'));
  assert.equal(lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0), TOTAL);
  // The same frames in pids 42 and 43 are one line; the stack with no samples is none.
  assert.ok(lines.includes('_start;main;hot_loop 725'));
  assert.ok(!text.includes('never'));
  assert.deepEqual(lines, [...lines].sort());
  assert.equal(new Set(lines.map((l) => l.slice(0, l.lastIndexOf(' ')))).size, lines.length);
});

test('folded: parsing it back gives the same stacks (and kernel frames with the _[k] suffix)', () => {
  assert.deepEqual(tally(parseFolded(renderFolded(profile))), tally(profile.stacks));
  const marked = renderFolded(profile, { kernelSuffix: true });
  assert.ok(marked.includes('_start;main;parse;read;entry_SYSCALL_64_[k];ksys_read_[k] 100'));
  const back = parseFolded(marked, { kernelSuffix: true });
  assert.deepEqual(tally(back), tally(profile.stacks));
  assert.equal(back.find((s) => s.frames.at(-1) === 'ksys_read')!.kernelFrames, 2);
  assert.equal(back.find((s) => s.frames[0] === 'swapper')!.kernelFrames, 3);
  assert.equal(back.find((s) => s.frames.at(-1) === 'hot_loop')!.kernelFrames, undefined);
  // CRLF and blank lines are fine; a line without a count is named.
  assert.deepEqual(parseFolded('a;b 2\r\n\r\nc 1\r\n'), [{ frames: ['a', 'b'], count: 2 }, { frames: ['c'], count: 1 }]);
  assert.throws(() => parseFolded('a;b 2\na;b\n'), (e: unknown) => isEunomiaError(e, 'E_OPTION') && /line 2/.test((e as Error).message));
});

test('folded: ; and line breaks in a name cannot break the format; a process frame on request', () => {
  const p: Profile = {
    ...profile,
    stacks: [
      { frames: ['main', 'a;b', 'x\ny\rz\u0000', '', 'has space'], count: 3, pid: 5, comm: 'c;omm' },
      { frames: [], count: 2, pid: 6, comm: 'lost' },
    ],
  };
  const text = renderFolded(p);
  assert.equal(text, '[unknown] 2\nmain;a:b;x?y?z?;[unknown];has space 3\n');
  assert.deepEqual(tally(parseFolded(text)), new Map([['[unknown]', 2], ['main;a:b;x?y?z?;[unknown];has space', 3]]));
  assert.equal(renderFolded(p, { process: 'comm' }), 'c:omm;main;a:b;x?y?z?;[unknown];has space 3\nlost;[unknown] 2\n');
  assert.equal(renderFolded(p, { process: 'comm-pid' }), 'c:omm-5;main;a:b;x?y?z?;[unknown];has space 3\nlost-6;[unknown] 2\n');
  // Deterministic whatever the order of the stacks.
  assert.equal(renderFolded({ ...profile, stacks: [...profile.stacks].reverse() }), renderFolded(profile));
});

// ---------------------------------------------------------------- pprof

test('pprof: gzipped protobuf with samples/count and cpu/nanoseconds, functions, locations and labels', () => {
  const gz = renderPprof(profile);
  assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b], 'gzip magic');
  const p = PprofProfile.decode(gunzipSync(gz));
  const s = (i: number | bigint): string => p.stringTable.strings[Number(i)]!;
  const period = samplePeriodNs(99);
  assert.equal(period, 10101010);
  assert.deepEqual(p.sampleType.map((t) => [s(t.type), s(t.unit)]), [['samples', 'count'], ['cpu', 'nanoseconds']]);
  assert.deepEqual([s(p.periodType!.type), s(p.periodType!.unit), Number(p.period)], ['cpu', 'nanoseconds', period]);
  assert.equal(s(p.defaultSampleType), 'cpu');
  assert.equal(BigInt(p.timeNanos), BigInt(profile.startedAt.getTime()) * 1_000_000n);
  assert.equal(Number(p.durationNanos), 10_000 * 1e6);

  // Functions: one per distinct name.
  const fnName = new Map(p.function.map((f) => [Number(f.id), s(f.name)]));
  const names = [...fnName.values()];
  assert.equal(new Set(names).size, names.length, 'functions are deduplicated by name');
  assert.deepEqual([...names].sort(), ['_start', 'cold_path', 'cpuidle_enter', 'do_idle', 'entry_SYSCALL_64', 'hot_loop', 'ksys_read', 'main', 'parse', 'read', 'swapper', 'worker']);
  const kernelMapping = p.mapping.find((m) => s(m.filename) === '[kernel.kallsyms]')!;
  assert.ok(kernelMapping);
  const loc = new Map(p.location.map((l) => [Number(l.id), l]));
  const frameOf = (id: number | bigint): string => {
    const l = loc.get(Number(id))!;
    const name = fnName.get(Number(l.line[0]!.functionId))!;
    return Number(l.mappingId) === Number(kernelMapping.id) ? `${name}[k]` : name;
  };

  // Samples: leaf first; values [count, count × period]; labels pid, comm, container.
  const samples = p.sample.map((x) => {
    const labels: Record<string, string | number> = {};
    for (const l of x.label) labels[s(l.key)] = Number(l.str) ? s(l.str) : Number(l.num);
    return { stack: x.locationId.map(frameOf).reverse().join(';'), value: x.value.map(Number), labels };
  });
  assert.equal(samples.length, 6, 'one sample per stack with samples');
  assert.equal(samples.reduce((n, x) => n + x.value[0]!, 0), TOTAL);
  for (const x of samples) assert.equal(x.value[1], x.value[0]! * period);
  assert.deepEqual(samples.find((x) => x.stack === '_start;main;hot_loop' && x.labels.pid === 42), {
    stack: '_start;main;hot_loop', value: [700, 700 * period], labels: { pid: 42, comm: 'app', container: 'web' },
  });
  assert.deepEqual(samples.find((x) => x.stack === '_start;main;hot_loop' && x.labels.pid === 43)!.labels, { pid: 43, comm: 'app' });
  assert.ok(samples.some((x) => x.stack === '_start;main;parse;read;entry_SYSCALL_64[k];ksys_read[k]'), 'kernel frames are in the kernel mapping');
  assert.ok(samples.some((x) => x.stack === 'swapper[k];do_idle[k];cpuidle_enter[k]'));
  // 'read' as a user frame in two stacks is one location.
  assert.equal(p.location.filter((l) => frameOf(l.id) === 'read').length, 1);

  // Uncompressed on request; a stack given twice is two samples (pprof's tools add them up).
  const raw = renderPprof({ ...profile, stacks: [...profile.stacks, profile.stacks[0]!] }, { gzip: false });
  const again = PprofProfile.decode(raw);
  assert.equal(again.sample.length, 7);
  assert.equal(again.sample.reduce((n, x) => n + Number(x.value[0]), 0), TOTAL + 700);
  // Samples of one process share one set of labels.
  assert.deepEqual(again.sample[0]!.label.map((l) => [s(l.key), Number(l.num), s(l.str)]), [['pid', 42, ''], ['comm', 0, 'app'], ['container', 0, 'web']]);
});

// ---------------------------------------------------------------- speedscope

/** The required fields of speedscope's file-format-schema.json (FileFormat.File, Frame, SampledProfile). */
const speedscopeSchema = {
  type: 'object',
  required: ['$schema', 'profiles', 'shared'],
  properties: {
    $schema: { type: 'string', enum: ['https://www.speedscope.app/file-format-schema.json'] },
    shared: {
      type: 'object',
      required: ['frames'],
      properties: {
        frames: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, file: { type: 'string' }, line: { type: 'number' }, col: { type: 'number' } },
          },
        },
      },
    },
    profiles: {
      type: 'array',
      items: {
        type: 'object',
        required: ['endValue', 'name', 'samples', 'startValue', 'type', 'unit', 'weights'],
        properties: {
          type: { type: 'string', enum: ['sampled'] },
          name: { type: 'string' },
          unit: { enum: ['bytes', 'microseconds', 'milliseconds', 'nanoseconds', 'none', 'seconds'] },
          startValue: { type: 'number' },
          endValue: { type: 'number' },
          samples: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
          weights: { type: 'array', items: { type: 'number' } },
        },
      },
    },
    name: { type: 'string' },
    activeProfileIndex: { type: 'number' },
    exporter: { type: 'string' },
  },
};

test('speedscope: the schema\'s required fields, one profile per process, weights summing to the samples', () => {
  const validate = new Ajv({ allErrors: true }).compile(speedscopeSchema);
  const text = renderSpeedscope(profile);
  const file = JSON.parse(text) as ReturnType<typeof speedscopeFile>;
  assert.ok(validate(file), JSON.stringify(validate.errors));
  const frames = file.shared.frames;
  let sum = 0;
  for (const p of file.profiles) {
    assert.equal(p.samples.length, p.weights.length);
    const w = p.weights.reduce((a, b) => a + b, 0);
    assert.equal(p.endValue - p.startValue, w, `${p.name}: endValue - startValue is its weight`);
    for (const st of p.samples) for (const i of st) assert.ok(Number.isInteger(i) && i >= 0 && i < frames.length);
    sum += w;
  }
  assert.equal(sum, TOTAL);
  // Heaviest process first, and shown first; names say comm, pid and container.
  assert.deepEqual(file.profiles.map((p) => p.name), ['app (pid 42, container web)', 'swapper/0 (pid 0)', 'app (pid 43)', 'w (pid 8)']);
  assert.equal(file.activeProfileIndex, 0);
  // Stacks are frame indices root first; kernel frames are frames of their own, in [kernel.kallsyms].
  const app = file.profiles[0]!;
  const stacks = app.samples.map((st) => st.map((i) => frames[i]!.name + (frames[i]!.file ? '[k]' : '')).join(';'));
  assert.deepEqual(stacks.sort(), ['_start;main;cold_path', '_start;main;hot_loop', '_start;main;parse;read;entry_SYSCALL_64[k];ksys_read[k]']);
  assert.equal(new Set(frames.map((f) => `${f.name}|${f.file ?? ''}`)).size, frames.length, 'frames are shared');

  // One merged profile on request, with a process frame if asked.
  const merged = speedscopeFile(profile, { byProcess: false, process: 'comm' });
  assert.ok(validate(merged), JSON.stringify(validate.errors));
  assert.equal(merged.profiles.length, 1);
  assert.equal(merged.profiles[0]!.weights.reduce((a, b) => a + b, 0), TOTAL);
  assert.ok(merged.profiles[0]!.samples.every((st) => ['app', 'swapper/0', 'w'].includes(merged.shared.frames[st[0]!]!.name)));
  const plain = speedscopeFile(profile, { byProcess: false });
  // pid 42's and 43's hot_loop stacks are one sample in the merged profile.
  assert.equal(plain.profiles[0]!.samples.length, 5);
});

// ---------------------------------------------------------------- by name

test('render picks a format by name; an unknown one is E_OPTION naming the choices', () => {
  assert.deepEqual(PROFILE_FORMATS, ['folded', 'svg', 'pprof', 'speedscope']);
  assert.equal(render(profile, 'folded'), renderFolded(profile));
  assert.ok(render(profile, 'svg').startsWith('<?xml'));
  assert.ok(Buffer.isBuffer(render(profile, 'pprof')));
  assert.equal(typeof render(profile, 'speedscope'), 'string');
  assert.equal(parseProfileFormat(' FlameGraph '), 'svg');
  assert.equal(parseProfileFormat('collapsed'), 'folded');
  assert.equal(FORMATS.pprof.extension, '.pb.gz');
  assert.throws(() => render(profile, 'png'), (e: unknown) => {
    assert.ok(e instanceof EunomiaError);
    assert.equal(e.code, 'E_OPTION');
    assert.match(e.message, /profile format "png": unknown — use folded, svg, pprof, speedscope/);
    return true;
  });
});

test('a malformed profile is E_OPTION naming the stack and the field', () => {
  const bad = (p: unknown, re: RegExp): void => {
    for (const f of PROFILE_FORMATS) assert.throws(() => render(p as Profile, f), (e: unknown) => isEunomiaError(e, 'E_OPTION') && re.test((e as Error).message), `${f}: ${re}`);
  };
  bad({ ...profile, hz: 0 }, /hz must be a positive number/);
  bad({ ...profile, startedAt: new Date(Number.NaN) }, /startedAt/);
  bad({ ...profile, stacks: [{ frames: ['a'], count: -1 }] }, /stack 0: count must be a non-negative integer/);
  bad({ ...profile, stacks: [{ frames: ['a'], count: 1 }, { frames: ['a', 3], count: 1 }] }, /stack 1: frame 1 is not a string/);
  bad({ ...profile, stacks: [{ frames: ['a'], count: 1, kernelFrames: 2 }] }, /kernelFrames must be an integer 0..1/);
});
