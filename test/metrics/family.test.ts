/** Tracker metric families on their own: text format, labels, the series limit and TTL, prom-client's form. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Family, OVERFLOW } from '../../src/metrics/family.js';
import { exposition, TrackerTotals } from '../../src/metrics/index.js';
import { MetricsExporter } from '../../src/metrics/exporter.js';
import type { MetricSpec } from '../../src/metrics/types.js';
import { processTracker } from '../../src/trackers/process/index.js';
import { trackers } from '../../src/trackers/registry.js';
import { promtool, needsPrometheus } from './prometheus.js';

const web = { id: 'abc123abc123', full_id: 'abc123abc123'.padEnd(64, '0'), name: 'web', image: 'nginx:1' };
const opens: MetricSpec = { name: 'eunomia_test_opens_total', help: 'test', type: 'counter', labels: ['result'] };

/** As the exporter counts an event: a target for its context (a fresh one: nothing kept from before), then `add`. */
function put(f: Family, d: Record<string, unknown>, value: number, ...labels: string[]): void {
  const cid = (d.container as { id?: string } | undefined)?.id ?? '';
  f.target({ container: d.container, k8s: d.k8s, cid, comm: typeof d.comm === 'string' ? d.comm : '' }).add(value, ...labels);
}

function family(spec: MetricSpec, opts: { maxSeries?: number; ttlMs?: number; clock?: { now: number } } = {}): Family {
  return new Family(spec, { maxSeries: opts.maxSeries ?? 100, ttlMs: opts.ttlMs ?? 60_000, clock: opts.clock ?? { now: 0 } });
}

test('counters: one series per container, comm and own labels; host processes without container labels; values escaped', () => {
  const f = family(opens);
  put(f, { comm: 'cat', result: 'ok', container: web, k8s: { pod: 'web-1', namespace: 'prod' } }, 1, 'ok');
  put(f, { comm: 'cat', result: 'ok', container: web, k8s: { pod: 'web-1', namespace: 'prod' } }, 1, 'ok');
  put(f, { comm: 'cat', result: 'ENOENT', container: web }, 1, 'ENOENT');
  put(f, { comm: 'a"b\\c', result: 'ok', container: { id: 'host', full_id: 'host', name: 'host' } }, 1, 'ok');
  assert.equal(f.text(), [
    '# HELP eunomia_test_opens_total test',
    '# TYPE eunomia_test_opens_total counter',
    `eunomia_test_opens_total{container="web",container_id="${web.id}",image="nginx:1",pod="web-1",namespace="prod",comm="cat",result="ok"} 2`,
    `eunomia_test_opens_total{container="web",container_id="${web.id}",image="nginx:1",comm="cat",result="ENOENT"} 1`,
    'eunomia_test_opens_total{comm="a\\"b\\\\c",result="ok"} 1',
    '',
  ].join('\n'));
});

test('histograms: cumulative buckets with +Inf, sum and count; an observation on a bound counts in that bucket', () => {
  const f = family({ name: 'eunomia_test_seconds', help: 'h', type: 'histogram', labels: [], comm: false, buckets: [0.1, 1] });
  for (const v of [0.05, 0.1, 0.5, 3]) put(f, { container: web, comm: 'x' }, v);
  const lines = f.text().split('\n').filter((l) => !l.startsWith('#') && l);
  const pre = `container="web",container_id="${web.id}",image="nginx:1"`;
  assert.deepEqual(lines, [
    `eunomia_test_seconds_bucket{${pre},le="0.1"} 2`,
    `eunomia_test_seconds_bucket{${pre},le="1"} 3`,
    `eunomia_test_seconds_bucket{${pre},le="+Inf"} 4`,
    `eunomia_test_seconds_sum{${pre}} 3.65`,
    `eunomia_test_seconds_count{${pre}} 4`,
  ]);
  const json = f.get();
  assert.equal(json.type, 'histogram');
  assert.deepEqual(json.values.map((v) => [v.metricName, v.labels.le, v.value]), [
    ['eunomia_test_seconds_bucket', 0.1, 2],
    ['eunomia_test_seconds_bucket', 1, 3],
    ['eunomia_test_seconds_bucket', '+Inf', 4],
    ['eunomia_test_seconds_sum', undefined, 3.65],
    ['eunomia_test_seconds_count', undefined, 4],
  ]);
});

test('the series limit: new label sets fold into one overflow series, counted; known series keep counting', () => {
  const f = family(opens, { maxSeries: 2 });
  for (let i = 0; i < 5; i++) put(f, { comm: `c${i}`, result: 'ok' }, 1, 'ok');
  put(f, { comm: 'c0', result: 'ok' }, 1, 'ok');
  assert.equal(f.size, 2);
  assert.equal(f.folded, 3);
  const text = f.text();
  assert.match(text, /\{comm="c0",result="ok"\} 2$/m);
  assert.match(text, new RegExp(`\\{container="${OVERFLOW}",container_id="${OVERFLOW}",image="${OVERFLOW}",pod="${OVERFLOW}",namespace="${OVERFLOW}",comm="${OVERFLOW}",result="${OVERFLOW}"\\} 3$`, 'm'));
});

test('series not updated within the TTL are dropped at the next scrape', () => {
  const clock = { now: 0 };
  const f = family(opens, { ttlMs: 10_000, clock });
  put(f, { comm: 'old', result: 'ok' }, 1, 'ok');
  clock.now = 9; // seconds
  put(f, { comm: 'new', result: 'ok' }, 1, 'ok');
  clock.now = 15;
  const text = f.text();
  assert.doesNotMatch(text, /comm="old"/);
  assert.match(text, /comm="new"/);
  assert.equal(f.size, 1);
  // Gone from the index too: the same labels again make a new series, counted from zero.
  put(f, { comm: 'old', result: 'ok' }, 1, 'ok');
  assert.match(f.text(), /comm="old",result="ok"\} 1$/m);
  assert.equal(f.size, 2);
});

test('the exporter: each tracker\'s families in the registry, counts and folds visible, text that promtool accepts', { skip: needsPrometheus }, async () => {
  const registry = new Registry();
  const ex = new MetricsExporter(registry, trackers, { maxSeries: 1 });
  try {
    ex.write({ tracker: 'process', instance: 1, time: 0, data: { type: 'exec', comm: 'sh', container: web } });
    ex.write({ tracker: 'process', instance: 1, time: 0, data: { type: 'exec', comm: 'ls', container: web } });
    ex.write({ tracker: 'nosuch', instance: 1, time: 0, data: { comm: 'x' } });
    const text = await exposition(registry);
    for (const spec of processTracker.metrics!.families) assert.ok(registry.getSingleMetric(spec.name), spec.name);
    assert.match(text, /^eunomia_process_execs_total\{container="web",.*comm="sh"\} 1$/m);
    assert.match(text, /^eunomia_metrics_series_folded_total\{family="eunomia_process_execs_total"\} 1$/m);
    assert.match(text, /^eunomia_metrics_series\{family="eunomia_process_execs_total"\} 1$/m);
    assert.deepEqual(ex.stats(), { written: 3, dropped: 0 });
    const check = promtool(['check', 'metrics'], text);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.stdout + check.stderr, '', 'no lint warning on our families');
  } finally {
    await ex.close();
  }
});

test('every tracker declares families, with names by Prometheus rules and documented in docs/metrics.md', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { repoRoot } = await import('../helpers.js');
  const doc = readFileSync(join(repoRoot, 'docs/metrics.md'), 'utf8');
  for (const t of trackers) {
    assert.ok(t.metrics?.families.length, `${t.name} declares metric families`);
    for (const m of t.metrics!.families) {
      assert.match(m.name, /^eunomia_[a-z0-9_]+$/);
      if (m.type === 'counter') assert.match(m.name, /_total$/, `${m.name}: a counter ends in _total`);
      else assert.doesNotMatch(m.name, /_total$|_count$|_sum$|_bucket$/, m.name);
      assert.ok(m.labels.length <= 4, `${m.name}: at most four own labels`);
      assert.ok(!m.labels.some((l) => /pid|path|addr/.test(l)), `${m.name}: no unbounded label`);
      if (m.type === 'histogram') assert.ok(m.buckets && m.buckets.length > 1 && m.buckets.every((b, i) => i === 0 || b > m.buckets![i - 1]!), `${m.name}: ascending buckets`);
      assert.ok(doc.includes(`\`${m.name}\``), `${m.name} is in docs/metrics.md`);
    }
  }
});

test('agent totals: a stopped instance\'s counts stay in the sums, so counters never go down', () => {
  const totals = new TrackerTotals();
  const stats = (events: number) => ({ events, decodeErrors: 1, lostKernel: 2, lostQueue: 0, mapInsertFailures: 3 });
  totals.retire({ name: 'process', stats: stats(10), programs: [{ program: 'handle_exec', runCount: 5, runTimeNs: 500 }] });
  const live = [{ name: 'process', stats: stats(3), programs: [{ program: 'handle_exec', runCount: 2, runTimeNs: 100 }] }];
  const sums = totals.withLive(live);
  assert.deepEqual(sums.trackers.get('process'), { events: 13, decodeErrors: 2, lostKernel: 4, lostQueue: 0, mapInsertFailures: 6 });
  assert.deepEqual(sums.programs.get('process')?.get('handle_exec'), { runs: 7, ns: 600 });
  // Reading does not change what was kept.
  assert.deepEqual(totals.withLive([]).trackers.get('process'), stats(10));
});

test('line texts after many series are dropped (the family compacts their bytes): the rest render as before, new ones too', () => {
  const clock = { now: 0 };
  const f = family({ name: 'eunomia_test_seconds', help: 'h', type: 'histogram', labels: ['result'], buckets: [0.5] }, { ttlMs: 10_000, clock, maxSeries: 1000 });
  for (let i = 0; i < 100; i++) put(f, { comm: `gone-${i}`, container: web }, 0.25, 'ok');
  clock.now = 9;
  // Non-ASCII text: its bytes, not its characters, are what the family keeps.
  for (const comm of ['stays', 'größe']) put(f, { comm, container: web }, 2, 'ok');
  clock.now = 15; // the 100 first ones are past the TTL
  put(f, { comm: 'new', container: web }, 0.25, 'EPERM');
  const lines = f.text().split('\n').filter((l) => l && !l.startsWith('#'));
  const pre = `container="web",container_id="${web.id}",image="nginx:1"`;
  assert.deepEqual(lines, [
    `eunomia_test_seconds_bucket{${pre},comm="stays",result="ok",le="0.5"} 0`,
    `eunomia_test_seconds_bucket{${pre},comm="stays",result="ok",le="+Inf"} 1`,
    `eunomia_test_seconds_sum{${pre},comm="stays",result="ok"} 2`,
    `eunomia_test_seconds_count{${pre},comm="stays",result="ok"} 1`,
    `eunomia_test_seconds_bucket{${pre},comm="größe",result="ok",le="0.5"} 0`,
    `eunomia_test_seconds_bucket{${pre},comm="größe",result="ok",le="+Inf"} 1`,
    `eunomia_test_seconds_sum{${pre},comm="größe",result="ok"} 2`,
    `eunomia_test_seconds_count{${pre},comm="größe",result="ok"} 1`,
    `eunomia_test_seconds_bucket{${pre},comm="new",result="EPERM",le="0.5"} 1`,
    `eunomia_test_seconds_bucket{${pre},comm="new",result="EPERM",le="+Inf"} 1`,
    `eunomia_test_seconds_sum{${pre},comm="new",result="EPERM"} 0.25`,
    `eunomia_test_seconds_count{${pre},comm="new",result="EPERM"} 1`,
  ]);
  assert.equal(f.size, 3);
});

test('sample values: integers as digits, fractions, large and non-finite values as Prometheus reads them', () => {
  const f = family(opens);
  const values: [string, number, string][] = [['zero', 0, '0'], ['int', 1234567890123, '1234567890123'], ['frac', 0.125, '0.125'], ['big', 2 ** 60, String(2 ** 60)], ['inf', Infinity, '+Inf']];
  for (const [comm, v] of values) put(f, { comm }, v, 'ok');
  const text = f.text();
  for (const [comm, , out] of values) assert.match(text, new RegExp(`^eunomia_test_opens_total\\{comm="${comm}",result="ok"\\} ${out.replace('+', '\\+')}$`, 'm'));
});
