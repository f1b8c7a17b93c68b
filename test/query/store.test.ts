/**
 * Queries on the real store (SQLite, src/store/): rows written by its writer thread, read by
 * its indexes; the window/oldest/dropped/complete fields against real evictions (a small row
 * cap); paging through ties. agent.test.ts queries events recorded from real processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseQuery, runQuery, type QueryAnswer } from '../../src/query/index.js';
import { openStore, type EventStore } from '../../src/store/index.js';
import type { Alert } from '../../src/alerts/types.js';

const MIN = 60_000;
const DAY = 86_400_000;
const web = { id: 'aaaaaaaaaaaa', name: 'web', image: 'nginx' };
const db = { id: 'bbbbbbbbbbbb', name: 'db', image: 'postgres' };
const HOST = { id: 'host', name: 'host' };

describe('queries on the real store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-query-'));
  let store: EventStore;
  // Whole minutes, so that each evicted row is alone in its minute (losses are counted per minute).
  const now = Math.floor(Date.now() / MIN) * MIN;
  const at = (i: number): number => now - (100 - i) * MIN;
  const query = async (params: Record<string, string>, chunkRows?: number): Promise<QueryAnswer> =>
    runQuery(store, parseQuery(params, now), chunkRows ? { chunkRows } : {});

  before(async () => {
    const limits = { maxRows: 80, maxBytes: 1 << 30, ttlMs: 7 * DAY };
    store = await openStore({ path: join(dir, 'events.db'), trackers: ['process'], alerts: true, events: limits, alertLimits: { ...limits, maxRows: 1000 } });
    // 100 execs a minute apart, 30 at one same millisecond, one of another tracker: 131 rows,
    // of which the cap of 80 keeps the newest (execs 51 to 99, the ties, the other).
    for (let i = 0; i < 100; i++) {
      const c = [web, db, HOST][i % 3]!;
      store.event({ tracker: 'process', instance: 7, time: at(i) + 0.25, data: { type: 'exec', pid: 1000 + i, comm: i % 2 ? 'curl' : 'sh', args: ['x', String(i)], container: c } });
    }
    for (let i = 0; i < 30; i++) store.event({ tracker: 'process', instance: 8, time: now - 30_000, data: { type: 'exit', pid: 2000 + i, comm: 'tie', container: HOST } });
    store.event({ tracker: 'files', instance: 9, time: now - MIN, data: { comm: 'x' } });
    const alert = (i: number, rule: string, priority: Alert['priority']): Alert => ({
      time: new Date(at(i)).toISOString(), rule, name: rule, priority, tags: ['t'], message: `m${i}`, source: 'process',
      process: { pid: 1000 + i, comm: 'sh', args: ['sh'] }, ...(i % 2 ? { container: web } : {}),
    });
    for (let i = 90; i < 100; i++) store.alert(alert(i, i % 3 ? 'shell_in_container' : 'remote_copy', i % 3 ? 'warning' : 'error'));
    await store.flush();
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the cap evicted the oldest: the answer says from when it holds rows and how many of the window are gone', async () => {
    const all = await query({ from: '-2h', limit: '1000' });
    assert.equal(all.rows!.length, 80);
    assert.equal(store.stats().events.rows, 80);
    const evicted = 51;
    assert.deepEqual(all.rows!.filter((r) => r.comm !== 'tie' && r.tracker === 'process').map((r) => r.record.data as { pid: number }).map((d) => d.pid - 1000), [...Array(49).keys()].map((k) => 99 - k));
    assert.equal(store.stats().events.evictedCap, evicted);
    assert.equal(all.oldest, new Date(at(evicted)).toISOString());
    assert.equal(all.dropped, evicted);
    assert.equal(all.complete, false);
    // A window that starts after the evicted minutes is whole.
    const recent = await query({ from: String(at(evicted)) });
    assert.deepEqual([recent.dropped, recent.complete], [0, true]);
    // One that ends before them holds nothing, and says so.
    const old = await query({ from: String(at(0)), to: String(at(evicted - 1)) });
    assert.deepEqual([old.rows, old.dropped, old.complete], [[], evicted, false]);
  });

  test('filter, range and group on the stored rows', async () => {
    const curl = await query({ where: 'comm = curl and container.name = web', from: '-1h' });
    const pids = curl.rows!.map((r) => (r.record.data as { pid: number }).pid);
    assert.deepEqual(pids, [...Array(49).keys()].map((k) => 99 - k).filter((i) => i % 2 && i % 3 === 0).map((i) => 1000 + i));
    assert.ok(curl.rows!.every((r) => r.containerName === 'web' && r.container === web.id && r.tracker === 'process' && r.instance === 7));
    const range = await query({ from: String(at(90)), to: String(at(92) + 1), order: 'asc' });
    assert.deepEqual(range.rows!.map((r) => r.ms), [at(90), at(91), at(92)], 'whole ms in the columns');
    assert.equal((range.rows![0]!.record as { time: number }).time, at(90) + 0.25, 'the record keeps the exact time');
    const g = await query({ group: 'container.name,comm', from: String(at(70)), to: String(at(99)), where: 'type = exec' });
    const count = (c: string, comm: string): number => [...Array(30).keys()].map((k) => 70 + k).filter((i) => [web, db, HOST][i % 3]!.name === c && (i % 2 ? 'curl' : 'sh') === comm).length;
    assert.deepEqual(g.groups, [
      ...['db', 'host', 'web'].flatMap((c) => ['curl', 'sh'].map((comm) => ({ key: { 'container.name': c, comm }, count: count(c, comm) }))),
    ].sort((a, b) => b.count - a.count || JSON.stringify(Object.values(a.key)).localeCompare(JSON.stringify(Object.values(b.key)))));
    assert.deepEqual((await query({ group: 'evt.tracker', from: '-2h' })).groups!.map((x) => x.key['evt.tracker']), ['process', 'files']);
    assert.deepEqual((await query({ container: 'host', where: 'type = exit', group: 'comm' })).groups, [{ key: { comm: 'tie' }, count: 30 }]);
    assert.equal((await query({ where: 'container.id = bbbbbbbbbbbb', from: '-1h' })).rows!.every((r) => r.containerName === 'db'), true);
    assert.equal((await query({ instance: '9' })).rows![0]!.tracker, 'files');
  });

  test('pages walk every row once, through 30 rows of one millisecond', async () => {
    for (const [order, chunk] of [['desc', undefined], ['asc', undefined], ['desc', 3]] as const) {
      const ids: number[] = [];
      const where: Record<string, string> = chunk ? { where: 'evt.tracker = process' } : {};
      let params: Record<string, string> = { order, limit: '4', from: '-1h', ...where };
      for (let n = 0; n < 100; n++) {
        const a = await query(params, chunk);
        ids.push(...a.rows!.map((r) => r.id));
        if (!a.next) break;
        params = { ...params, ...Object.fromEntries(Object.entries(a.next).map(([k, v]) => [k, String(v)])) };
      }
      const all = (await query({ from: '-1h', limit: '1000', order, ...where })).rows!.map((r) => r.id);
      assert.equal(all.length, chunk ? 79 : 80);
      assert.equal(new Set(ids).size, ids.length, `${order}: no row twice`);
      assert.deepEqual(ids, all, `${order}: every row, in order`);
    }
  });

  test('alerts: where and group over the Alert\'s fields', async () => {
    const a = await query({ kind: 'alert', where: 'priority = error and process.comm = sh', order: 'asc' });
    assert.deepEqual(a.rows!.map((r) => r.record.message), ['m90', 'm93', 'm96', 'm99']);
    assert.ok(a.rows!.every((r) => r.kind === 'alert' && r.rule === 'remote_copy' && r.comm === 'sh'));
    const g = await query({ kind: 'alert', group: 'rule,container.name' });
    assert.deepEqual(g.groups, [
      { key: { rule: 'shell_in_container', 'container.name': 'web' }, count: 3 },
      { key: { rule: 'shell_in_container', 'container.name': null }, count: 3 },
      { key: { rule: 'remote_copy', 'container.name': 'web' }, count: 2 },
      { key: { rule: 'remote_copy', 'container.name': null }, count: 2 },
    ]);
    assert.deepEqual((await query({ kind: 'alert', rule: 'remote_copy', container: 'web' })).rows!.map((r) => r.record.message), ['m99', 'm93']);
    // No alert was evicted, but the store holds alerts from the first one only: it cannot tell
    // whether there were others before.
    assert.deepEqual([g.dropped, g.complete, g.oldest], [0, false, new Date(at(90)).toISOString()]);
    const since = await query({ kind: 'alert', from: String(at(90)) });
    assert.deepEqual([since.rows!.length, since.dropped, since.complete], [10, 0, true]);
  });
});
