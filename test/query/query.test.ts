/**
 * The query's logic on an in-memory store (memory-store.ts): parameters, `where` in the rules'
 * language on events and alerts, groups, paging through ties, and the window/oldest/dropped/
 * complete fields. store.test.ts runs queries on the real store and real events.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { parseQuery, parseTime, runQuery, type QueryAnswer } from '../../src/query/index.js';
import type { StoredRow } from '../../src/store/types.js';
import { execRow, MemoryStore } from './memory-store.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const MIN = 60_000;
const web = { id: 'aaaaaaaaaaaa', name: 'web' };
const db = { id: 'bbbbbbbbbbbb', name: 'db' };

function requestError(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isEunomiaError(e, 'E_REQUEST'), String(e));
    assert.match(e.message, re);
    return true;
  });
}

const query = (store: MemoryStore, params: Record<string, string>, chunkRows?: number): Promise<QueryAnswer> =>
  runQuery(store, parseQuery(params, NOW), { ...(chunkRows ? { chunkRows } : {}) });

function sample(): MemoryStore {
  const s = new MemoryStore();
  s.add(execRow(NOW - 50 * MIN, { comm: 'bash', pid: 10, args: ['bash', '-c', 'id'], container: web }));
  s.add(execRow(NOW - 40 * MIN, { comm: 'curl', pid: 11, args: ['curl', 'http://x'], container: web }));
  s.add(execRow(NOW - 30 * MIN, { comm: 'curl', pid: 12, args: ['curl', '-o', 'f'], container: db }));
  s.add(execRow(NOW - 20 * MIN, { comm: 'sh', pid: 13, args: ['sh'] }));
  s.add(execRow(NOW - 10 * MIN, { comm: 'curl', pid: 14, args: ['curl'] }));
  // Outside the default window (the last hour).
  s.add(execRow(NOW - 90 * MIN, { comm: 'curl', pid: 9, args: ['curl'], container: web }));
  const alert = (time: number, rule: string, priority: string, comm: string, container: { id: string; name: string } | undefined): Omit<StoredRow, 'id'> => ({
    time, kind: 'alert', tracker: 'process', instance: 0, container: container?.id ?? '', containerName: container?.name ?? '', rule, comm,
    record: { time: new Date(time).toISOString(), rule, name: rule, priority, tags: ['shell'], message: `${rule} by ${comm}`, source: 'process', process: { pid: 1, comm, args: [comm] }, ...(container ? { container } : {}) },
  });
  s.add(alert(NOW - 45 * MIN, 'shell_in_container', 'warning', 'bash', web));
  s.add(alert(NOW - 35 * MIN, 'shell_in_container', 'warning', 'sh', db));
  s.add(alert(NOW - 25 * MIN, 'remote_copy', 'error', 'curl', web));
  return s;
}

describe('query parameters', () => {
  test('times: ISO-8601, ms since the epoch, now, relative; seconds and nonsense are refused with what is accepted', () => {
    assert.equal(parseTime('2024-05-01T11:00:00Z', NOW), NOW - 60 * MIN);
    assert.equal(parseTime('2024-05-01', NOW), Date.parse('2024-05-01T00:00:00Z'));
    assert.equal(parseTime(String(NOW - 5), NOW), NOW - 5);
    assert.equal(parseTime('now', NOW), NOW);
    assert.equal(parseTime('-15m', NOW), NOW - 15 * MIN);
    assert.equal(parseTime('-1.5h', NOW), NOW - 90 * MIN);
    assert.equal(parseTime('-7d', NOW), NOW - 7 * 86_400_000);
    assert.match(String(parseTime('1714564800', NOW)), /before 2001 as ms since the epoch: give milliseconds/);
    assert.match(String(parseTime('-15x', NOW)), /not a relative time: write -30s, -15m/);
    assert.match(String(parseTime('yesterday', NOW)), /not a time: give ISO-8601/);
  });

  test('defaults: events of the last hour, newest first, 100 rows', () => {
    const q = parseQuery({}, NOW);
    assert.deepEqual({ kind: q.kind, from: q.from, to: q.to, order: q.order, limit: q.limit }, { kind: 'event', from: NOW - 60 * MIN, to: NOW, order: 'desc', limit: 100 });
    const only = parseQuery({ to: '-2h' }, NOW);
    assert.deepEqual([only.from, only.to], [NOW - 180 * MIN, NOW - 120 * MIN], 'an hour before "to"');
  });

  test('every mistake is E_REQUEST naming the parameter', () => {
    requestError(() => parseQuery({ wher: 'comm = x' }, NOW), /^parameter "wher": unknown parameter; the parameters are where, kind/);
    requestError(() => parseQuery({ limit: ['1', '2'] }, NOW), /^parameter "limit": given more than once/);
    requestError(() => parseQuery({ kind: 'alerts' }, NOW), /^parameter "kind": "alerts" is neither "event" nor "alert"/);
    requestError(() => parseQuery({ limit: '0' }, NOW), /^parameter "limit": "0" is not a whole number from 1 to 10000/);
    requestError(() => parseQuery({ limit: '10001' }, NOW), /^parameter "limit"/);
    requestError(() => parseQuery({ from: '-1h', to: '-2h' }, NOW), /^parameter "from": 2024-05-01T11:00:00.000Z is after "to"/);
    requestError(() => parseQuery({ from: 'soon' }, NOW), /^parameter "from": "soon" is not a time/);
    requestError(() => parseQuery({ instance: '0' }, NOW), /^parameter "instance"/);
    requestError(() => parseQuery({ group: 'comm,container name' }, NOW), /^parameter "group": "container name" is not a field path/);
    requestError(() => parseQuery({ bucket: '5m' }, NOW), /^parameter "bucket": counts per time bucket need "group"/);
    requestError(() => parseQuery({ group: 'comm', bucket: '1s', from: '-1d' }, NOW), /^parameter "bucket": the window holds 86400 buckets of 1s; at most 10000/);
    requestError(() => parseQuery({ order: 'asc', before: '5' }, NOW), /^parameter "before": "before" pages newest first/);
  });

  test('a bad where is the rule compiler\'s message with its column', () => {
    requestError(() => parseQuery({ where: 'comm == bash' }, NOW), /^parameter "where", column 6: unknown operator "==" — did you mean "="\? \(in: comm == bash\)$/);
    requestError(() => parseQuery({ where: 'comm = bash and (pid > 3' }, NOW), /^parameter "where", column 17: unbalanced parentheses/);
    requestError(() => parseQuery({ where: 'comm startswit b' }, NOW), /column 6: unknown operator "startswit" after "comm" — did you mean "startswith"\?/);
    requestError(() => parseQuery({ where: 'pid > abc' }, NOW), /column 5: operator ">" needs a number, got "abc"/);
    requestError(() => parseQuery({ where: 'spawned_shell' }, NOW), /column 1: unknown macro "spawned_shell"/);
    requestError(() => parseQuery({ where: 'comm in (shells)' }, NOW), /column 10: unknown list "shells"/);
  });
});

describe('query on events', () => {
  test('where on data fields, container.*, evt.tracker and evt.time, as the rules read them', async () => {
    const s = sample();
    const comms = async (where: string): Promise<string[]> => (await query(s, { where })).rows!.map((r) => r.comm);
    assert.deepEqual(await comms('comm = curl'), ['curl', 'curl', 'curl'], 'newest first, in the last hour only');
    assert.deepEqual(await comms('comm = curl and container.name = web'), ['curl']);
    assert.deepEqual(await comms('container.id = host'), ['curl', 'sh']);
    assert.deepEqual(await comms('args contains -c or comm in (sh, zsh)'), ['sh', 'bash']);
    assert.deepEqual(await comms('pid >= 12 and pid < 14'), ['sh', 'curl']);
    assert.deepEqual(await comms('evt.tracker = process and comm glob "c*"'), ['curl', 'curl', 'curl']);
    assert.deepEqual(await comms(`evt.time > ${NOW - 35 * MIN}`), ['curl', 'sh', 'curl']);
    assert.deepEqual(await comms('not container.name exists'), [], 'host events carry container {id: host, name: host}');
    assert.deepEqual(await comms('evt.tracker = files'), []);
  });

  test('a row carries its columns, exact time and the whole record', async () => {
    const a = await query(sample(), { where: 'pid = 11' });
    assert.equal(a.rows!.length, 1);
    const r = a.rows![0]!;
    assert.deepEqual({ ...r, record: undefined, id: 0 }, {
      id: 0, time: new Date(NOW - 40 * MIN).toISOString(), ms: NOW - 40 * MIN, kind: 'event', tracker: 'process', instance: 1,
      container: web.id, containerName: 'web', rule: '', comm: 'curl', record: undefined,
    });
    assert.deepEqual((r.record as { data: { args: string[] } }).data.args, ['curl', 'http://x']);
  });

  test('range, order and the indexed parameters', async () => {
    const s = sample();
    const a = await query(s, { from: '-45m', to: '-15m', order: 'asc' });
    assert.deepEqual(a.rows!.map((r) => r.comm), ['curl', 'curl', 'sh']);
    assert.deepEqual(a.window, { from: new Date(NOW - 45 * MIN).toISOString(), to: new Date(NOW - 15 * MIN).toISOString() });
    assert.deepEqual((await query(s, { container: 'web' })).rows!.map((r) => r.ms), [NOW - 40 * MIN, NOW - 50 * MIN], 'by name');
    assert.deepEqual((await query(s, { container: db.id + '0123' })).rows!.map((r) => r.comm), ['curl'], 'by id, 12 digits or more');
    assert.deepEqual((await query(s, { container: 'host' })).rows!.map((r) => r.comm), ['curl', 'sh']);
    assert.deepEqual((await query(s, { tracker: 'files' })).rows, []);
    assert.equal((await query(s, { instance: '1' })).rows!.length, 5);
    assert.equal((await query(s, { from: '-2h' })).rows!.length, 6);
  });

  test('exact values of the condition go to the store\'s indexes', async () => {
    const s = sample();
    await query(s, { where: 'comm = curl and evt.tracker = process and container.id = aaaaaaaaaaaa' });
    assert.equal(s.scans[0]!.tracker, 'process');
    assert.equal(s.scans[0]!.container, 'aaaaaaaaaaaa');
    s.scans.length = 0;
    await query(s, { where: 'evt.tracker = process or comm = curl' });
    assert.equal(s.scans[0]!.tracker, undefined, 'not under an "or"');
  });

  test('group: counts per value, most first; a missing field is null; buckets', async () => {
    const s = sample();
    const a = await query(s, { group: 'comm' });
    assert.deepEqual(a.groups, [{ key: { comm: 'curl' }, count: 3 }, { key: { comm: 'bash' }, count: 1 }, { key: { comm: 'sh' }, count: 1 }]);
    assert.equal(a.rows, undefined);
    assert.deepEqual([a.scanned, a.matched, a.groupsTotal, a.more], [5, 5, 3, false]);
    const b = await query(s, { group: 'container.name,comm', where: 'comm != sh', limit: '2' });
    // Ties in count go by the values' text.
    assert.deepEqual(b.groups, [{ key: { 'container.name': 'db', comm: 'curl' }, count: 1 }, { key: { 'container.name': 'host', comm: 'curl' }, count: 1 }]);
    assert.deepEqual([b.groupsTotal, b.more], [4, true]);
    assert.deepEqual((await query(s, { group: 'exit_code' })).groups, [{ key: { exit_code: null }, count: 5 }]);
    const c = await query(s, { group: 'evt.tracker', bucket: '30m', from: '2024-05-01T11:00:00Z' });
    assert.deepEqual(c.groups, [
      { key: { 'evt.tracker': 'process', bucket: '2024-05-01T11:00:00.000Z' }, count: 2 },
      { key: { 'evt.tracker': 'process', bucket: '2024-05-01T11:30:00.000Z' }, count: 3 },
    ]);
  });

  test('pages: the limit, "more" and "next" walk every row once, through ties longer than a page and a chunk', async () => {
    const s = new MemoryStore();
    for (let i = 0; i < 25; i++) s.add(execRow(NOW - MIN - (i < 12 ? 0 : i), { comm: i % 2 ? 'odd' : 'even', pid: i }));
    for (const [order, where, chunk] of [['desc', undefined, undefined], ['asc', undefined, undefined], ['desc', 'comm = even', 2], ['asc', 'comm = even', 3]] as const) {
      const seen: number[] = [];
      let params: Record<string, string> = { order, limit: '5', ...(where ? { where } : {}) };
      for (let page = 0; page < 20; page++) {
        const a = await query(s, params, chunk);
        seen.push(...a.rows!.map((r) => r.record.data as { pid: number }).map((d) => d.pid));
        if (!a.more) break;
        assert.ok(a.next && a.rows!.length === 5);
        params = { ...params, ...Object.fromEntries(Object.entries(a.next).map(([k, v]) => [k, String(v)])) };
      }
      const want = [...Array(25).keys()].filter((i) => !where || i % 2 === 0);
      assert.deepEqual([...seen].sort((x, y) => x - y), want, `${order} ${where ?? ''}: each row once`);
    }
  });

  test('the scan yields to the event loop between chunks', async () => {
    const s = new MemoryStore();
    for (let i = 0; i < 100; i++) s.add(execRow(NOW - i * 1000, { comm: 'x', pid: i }));
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    const t0 = turns;
    let pauses = 0;
    const a = await runQuery(s, parseQuery({ group: 'comm' }, NOW), { chunkRows: 10, pause: () => { pauses++; return new Promise((r) => setTimeout(r, 2)); } });
    clearInterval(tick);
    assert.equal(a.groups![0]!.count, 100);
    assert.ok(pauses >= 9, `${pauses} pauses`);
    assert.ok(turns > t0, 'timers ran while the query did');
  });
});

describe('window, oldest, dropped, complete', () => {
  test('a window the store holds whole is complete; evictions in it are counted and make it incomplete', async () => {
    const s = sample();
    let a = await query(s, {});
    assert.deepEqual([a.oldest, a.dropped, a.complete], [new Date(NOW - 90 * MIN).toISOString(), 0, true]);
    s.evictOldest(2); // the rows at -90m and -50m
    a = await query(s, {});
    assert.deepEqual([a.oldest, a.dropped, a.complete], [new Date(NOW - 40 * MIN).toISOString(), 1, false], 'one evicted row was in the window');
    a = await query(s, { from: '-30m' });
    assert.deepEqual([a.dropped, a.complete], [0, true], 'the window starts after the evictions');
    a = await query(s, { from: '-2h', to: '-80m' });
    assert.deepEqual([a.rows, a.dropped, a.complete], [[], 1, false]);
    assert.equal((await query(new MemoryStore(), {})).oldest, null);
    assert.equal((await query(new MemoryStore(), {})).complete, true);
  });
});

describe('query on alerts', () => {
  test('where and group address the Alert by path; evt.tracker is its source', async () => {
    const s = sample();
    const rules = async (where: string): Promise<string[]> => (await query(s, { kind: 'alert', where })).rows!.map((r) => r.rule);
    assert.deepEqual(await rules('priority = warning'), ['shell_in_container', 'shell_in_container']);
    assert.deepEqual(await rules('process.comm = curl'), ['remote_copy']);
    assert.deepEqual(await rules('container.name = web and tags contains shell'), ['remote_copy', 'shell_in_container']);
    assert.deepEqual(await rules('rule startswith shell and evt.tracker = process'), ['shell_in_container', 'shell_in_container']);
    assert.deepEqual(await rules('message contains "by sh"'), ['shell_in_container']);
    assert.deepEqual(await rules('comm = curl'), [], 'an alert has no top-level comm: process.comm');
    const g = await query(s, { kind: 'alert', group: 'rule,priority' });
    assert.deepEqual(g.groups, [{ key: { rule: 'shell_in_container', priority: 'warning' }, count: 2 }, { key: { rule: 'remote_copy', priority: 'error' }, count: 1 }]);
    assert.deepEqual((await query(s, { kind: 'alert', rule: 'remote_copy' })).rows!.map((r) => r.comm), ['curl']);
    assert.equal((await query(s, { kind: 'event', where: 'rule exists' })).rows!.length, 0, 'kinds do not mix');
  });
});
