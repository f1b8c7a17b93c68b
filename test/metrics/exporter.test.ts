/**
 * The exporter's shortcuts: what it keeps per recent (tracker, container, comm) — each family's
 * node, the last series and the increments held back for it — must never change a count.
 * Each case drives the exporter as the pipeline does and reads the counts as a scrape does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { exposition, MetricsExporter } from '../../src/metrics/index.js';
import { trackers } from '../../src/trackers/registry.js';
import { opensnoopTracker } from '../../src/trackers/opensnoop/index.js';
import { processTracker } from '../../src/trackers/process/index.js';
import type { ExporterOptions } from '../../src/metrics/exporter.js';

const ct = (n: number) => ({ id: `c${String(n).padStart(11, '0')}`, full_id: `c${String(n).padStart(63, '0')}`, name: `ct-${n}` });

async function withExporter(opts: ExporterOptions, fn: (open: (comm: string, container: unknown, error?: string) => void, scrape: () => Promise<string>, ex: MetricsExporter) => Promise<void>, list = trackers): Promise<void> {
  const registry = new Registry();
  const ex = new MetricsExporter(registry, list, opts);
  const open = (comm: string, container: unknown, error = '') => ex.write({ tracker: 'opensnoop', instance: 1, time: 0, data: { comm, container, cgroup_id: 7, error } });
  try {
    await fn(open, () => exposition(registry), ex);
  } finally {
    await ex.close();
  }
}

/** The value of the opens series of a container's comm and result, or undefined. */
function opens(text: string, container: string, comm: string, result = 'ok'): number | undefined {
  const m = text.match(new RegExp(`^eunomia_file_opens_total\\{container="${container}",[^}]*comm="${comm}",result="${result}"\\} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

test('increments held back for the last series are in every scrape, and counting goes on after it', async () => {
  await withExporter({}, async (open, scrape) => {
    const a = ct(1);
    for (let i = 0; i < 1000; i++) open('cat', a);
    open('cat', a, 'ENOENT');
    for (let i = 0; i < 5; i++) open('cat', a);
    let text = await scrape();
    assert.equal(opens(text, 'ct-1', 'cat'), 1005);
    assert.equal(opens(text, 'ct-1', 'cat', 'ENOENT'), 1);
    for (let i = 0; i < 7; i++) open('cat', a);
    text = await scrape();
    assert.equal(opens(text, 'ct-1', 'cat'), 1012);
  });
});

test('many (container, comm) pairs, more than the exporter keeps: entries pushed out give back what they held', async () => {
  await withExporter({ maxSeries: 100_000 }, async (open, scrape) => {
    const containers = Array.from({ length: 50 }, (_, i) => ct(i));
    // 50 × 200 pairs for a table of 4,096 entries, each seen twice in a row (the second held
    // back) in each of 3 rounds: an entry is pushed out before its pair comes again.
    for (let round = 0; round < 3; round++) for (const c of containers) for (let k = 0; k < 200; k++) for (let j = 0; j < 2; j++) open(`p${k}`, c);
    const text = await scrape();
    let total = 0;
    for (const m of text.matchAll(/^eunomia_file_opens_total\{[^}]*\} (\S+)$/gm)) total += Number(m[1]);
    assert.equal(total, 2 * 3 * 50 * 200);
    assert.equal(opens(text, 'ct-49', 'p199'), 6);
  });
});

test('a series dropped by the TTL while the exporter kept it: later events make a new series, none is lost', async () => {
  await withExporter({ seriesTtlMs: 1000 }, async (open, scrape, ex) => {
    const a = ct(1);
    const b = ct(2);
    const clock = (ex as unknown as { clock: { now: number } }).clock;
    for (let i = 0; i < 3; i++) open('old', a);
    for (let i = 0; i < 3; i++) open('new', b);
    clock.now += 5; // seconds: past the TTL for both
    open('new', b); // kept entry: counted into its series, which the update marks as seen
    let text = await scrape();
    assert.equal(opens(text, 'ct-1', 'old'), undefined, 'not updated within the TTL: dropped');
    assert.equal(opens(text, 'ct-2', 'new'), 4);
    // The exporter had kept a's last series: events now go to a new one, counted from zero.
    for (let i = 0; i < 2; i++) open('old', a);
    text = await scrape();
    assert.equal(opens(text, 'ct-1', 'old'), 2);
    assert.equal(opens(text, 'ct-2', 'new'), 4);
  });
});

test('past the series limit: every update of a new label set is folded and counted, however often it repeats', async () => {
  await withExporter({ maxSeries: 1 }, async (open, scrape) => {
    const a = ct(1);
    open('cat', a);
    for (let i = 0; i < 10; i++) open('cat', a, 'EACCES');
    open('cat', a);
    const text = await scrape();
    assert.equal(opens(text, 'ct-1', 'cat'), 2);
    assert.match(text, /^eunomia_file_opens_total\{container="__overflow__",[^}]*\} 10$/m);
    assert.match(text, /^eunomia_metrics_series_folded_total\{family="eunomia_file_opens_total"\} 10$/m);
  });
});

test('trackers registered while events flow: the events after it are counted, and none held back is lost', async () => {
  await withExporter({}, async (open, scrape, ex) => {
    const a = ct(1);
    open('cat', a);
    assert.doesNotMatch(await scrape(), /eunomia_file_opens_total/);
    ex.addTracker(opensnoopTracker);
    open('cat', a);
    open('cat', a);
    // Another tracker: the exporter drops what it kept for recent events, giving back what they held.
    ex.addTracker(processTracker);
    open('cat', a);
    assert.equal(opens(await scrape(), 'ct-1', 'cat'), 3);
  }, []);
});
