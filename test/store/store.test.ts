/**
 * The event store on a real database file in a temporary directory: rows in and back by their
 * indexes, the queue's bounds, the caps and the TTL under 100 k events/s for a minute with
 * every counter accounted for, history across a restart. No root needed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore, type EventStore, type StoreOptions } from '../../src/store/index.js';
import type { Alert } from '../../src/alerts/types.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Options for a fresh database (its own directory), the bounds generous unless given. */
export function freshOptions(over: Partial<StoreOptions> = {}): StoreOptions {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-store-'));
  dirs.push(dir);
  const loose = { maxRows: 10_000_000, maxBytes: 8 * 1024 ** 3, ttlMs: 3_600_000 };
  return { path: join(dir, 'sub', 'events.db'), trackers: ['process'], alerts: true, events: loose, alertLimits: loose, ...over };
}

const MINUTE = 60_000;

function event(time: number, i: number, over: Partial<TrackerEvent> = {}): TrackerEvent {
  const ct = i % 2 ? { id: 'abcdef012345', full_id: 'abcdef012345'.padEnd(64, '0'), name: 'web', image: 'nginx' } : { id: 'host', full_id: 'host', name: 'host' };
  return { tracker: 'process', instance: 1 + (i % 3), time, data: { pid: 1000 + i, comm: i % 2 ? 'nginx' : 'bash', filename: '/usr/bin/x', container: ct }, ...over };
}

function alert(time: number, rule: string, over: Partial<Alert> = {}): Alert {
  return { time: new Date(time).toISOString(), rule, name: rule, priority: 'warning', tags: ['t'], message: `${rule} fired`, source: 'process', process: { pid: 1, comm: 'nc' }, container: { id: 'abcdef012345', name: 'web' }, ...over };
}

describe('event store', () => {
  test('rows come back by their indexes, newest first, pages past 2000 rows, records as JSON text', async () => {
    const opts = freshOptions();
    const store = await openStore(opts);
    try {
      // Directory and file are private: events carry command lines.
      assert.equal(statSync(join(opts.path, '..')).mode & 0o777, 0o700);
      assert.equal(statSync(opts.path).mode & 0o777, 0o600);
      const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
      const sink = store.sink();
      for (let i = 0; i < 5000; i++) sink.write(event(t0 + i, i));
      sink.write(event(t0 + 6000, 6000, { tracker: 'files' })); // not a stored tracker
      // Attacker-controlled text and a u64 beyond 2^53 (a bigint: JSON.stringify would throw).
      const hostile = '<img src=x onerror=alert(1)>"\'\\\n\u0000';
      sink.write(event(t0 + 7000, 7001, { data: { comm: hostile, filename: hostile, inode: 2n ** 60n, container: { id: 'abcdef012345', name: hostile } } }));
      store.keepInstance(42);
      sink.write(event(t0 + 7500, 7, { tracker: 'opensnoop', instance: 42 }));
      store.alert(alert(t0 + 100, 'shell_in_container'));
      store.alert(alert(t0 + 200, 'write_below_etc', { container: { id: 'host', name: 'host' } }));
      await store.flush();

      const all = [...store.scan({ kind: 'event' })];
      assert.equal(all.length, 5002, 'the files event is not stored; the timed instance\'s opensnoop event is');
      assert.ok(all.every((r, i) => i === 0 || r.time < all[i - 1]!.time || (r.time === all[i - 1]!.time && r.id < all[i - 1]!.id)), 'newest first across pages');
      const asc = [...store.scan({ kind: 'event', order: 'asc', limit: 3 })];
      assert.deepEqual(asc.map((r) => r.time), [t0, t0 + 1, t0 + 2]);
      const top = all[0]!;
      assert.equal(top.instance, 42);
      assert.equal(top.tracker, 'opensnoop');
      const h = all[1]!;
      assert.equal(h.comm, hostile);
      assert.equal(h.containerName, hostile);
      assert.deepEqual(h.record.data, { comm: hostile, filename: hostile, inode: 2 ** 60, container: { id: 'abcdef012345', name: hostile } });
      const web = [...store.scan({ kind: 'event', container: 'abcdef012345', from: t0, to: t0 + 9 })];
      assert.deepEqual(web.map((r) => r.time), [t0 + 9, t0 + 7, t0 + 5, t0 + 3, t0 + 1]);
      assert.ok(web.every((r) => r.containerName === 'web' && r.comm === 'nginx'));
      assert.equal([...store.scan({ kind: 'event', container: '', to: t0 + 9 })].length, 5, 'host events have container ""');
      assert.equal([...store.scan({ kind: 'event', instance: 2 })].length, 1667);
      assert.equal([...store.scan({ kind: 'event', tracker: 'process', limit: 2500 })].length, 2500);
      const alerts = [...store.scan({ kind: 'alert' })];
      assert.deepEqual(alerts.map((r) => [r.rule, r.container, r.containerName, r.comm, r.tracker, r.instance]), [
        ['write_below_etc', '', '', 'nc', 'process', 0],
        ['shell_in_container', 'abcdef012345', 'web', 'nc', 'process', 0],
      ]);
      assert.deepEqual([...store.scan({ kind: 'alert', rule: 'shell_in_container' })].map((r) => r.record.message), ['shell_in_container fired']);
      assert.equal(store.oldest('event'), t0);
      assert.equal(store.oldest('alert'), t0 + 100);
      assert.equal(store.oldest(), t0);
      const s = store.stats();
      assert.equal(s.events.rows, 5002);
      assert.equal(s.events.written, 5002);
      assert.equal(s.alerts.rows, 2);
      assert.ok(s.events.bytes > 5002 * 100 && s.fileBytes > s.events.bytes, 'bytes counted');
      assert.throws(() => [...store.scan({ kind: 'nosuch' as 'event' })], { code: 'E_REQUEST' });
    } finally {
      await store.close();
    }
  });

  test('what the queue has no room for is dropped, counted per kind and per minute of its time', async () => {
    const store = await openStore(freshOptions());
    try {
      const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
      const sink = store.sink();
      // One synchronous burst: the writer gets nothing before it ends (the queue holds 100,000 rows).
      for (let i = 0; i < 150_000; i++) sink.write(event(t0 + i, i));
      store.alert(alert(t0, 'r'));
      const before = store.stats();
      assert.equal(before.events.dropped, 50_000);
      assert.equal(before.alerts.dropped, 1);
      assert.equal(before.queued, 100_000);
      assert.equal(store.droppedBetween(t0 + 100_000, t0 + 149_999, 'event'), 50_000, 'counted before they reach the database');
      await store.flush();
      const s = store.stats();
      assert.deepEqual([s.events.written, s.events.dropped, s.events.rows, s.queued], [100_000, 50_000, 100_000, 0]);
      assert.equal(store.droppedBetween(t0 + 100_000, t0 + 149_999, 'event'), 50_000, 'and after');
      assert.equal(store.droppedBetween(t0, t0 + MINUTE - 1, 'event'), 0, 'the first minute lost nothing');
      assert.equal(store.droppedBetween(t0, t0 + 10, 'alert'), 1);
      assert.equal(store.droppedBetween(t0, t0 + 10 * MINUTE), 50_001, 'both kinds');
      assert.equal(store.sink().stats().dropped, 50_000, 'the pipeline sees the store\'s drops');
    } finally {
      await store.close();
    }
  });

  test('history survives a restart: rows, the oldest time, and what was evicted or dropped', async () => {
    const opts = freshOptions({ events: { maxRows: 1000, maxBytes: 1 << 30, ttlMs: 3_600_000 } });
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
    let store: EventStore = await openStore(opts);
    for (let i = 0; i < 1500; i++) store.sink().write(event(t0 + i * 10, i));
    store.alert(alert(t0, 'r1'));
    await store.close();
    store = await openStore(opts);
    try {
      const s = store.stats();
      assert.equal(s.events.rows, 1000);
      assert.equal(s.alerts.rows, 1);
      assert.equal(s.events.written, 0, 'counters are this run\'s; the rows are the file\'s');
      assert.equal(store.oldest('event'), t0 + 500 * 10, 'the oldest 500 went for the cap');
      assert.equal(store.droppedBetween(t0, t0 + 4999, 'event'), 500);
      const rows = [...store.scan({ kind: 'event', order: 'asc' })];
      assert.equal(rows.length, 1000);
      assert.equal(rows[0]!.record.time, t0 + 5000);
      assert.equal([...store.scan({ kind: 'alert' })][0]!.rule, 'r1');
    } finally {
      await store.close();
    }
  });

  test('a database of another kind is refused with the way out', async () => {
    const opts = freshOptions();
    const first = await openStore(opts);
    await first.close();
    const { openDatabase } = await import('../../src/store/schema.js');
    // Made another format by hand: the store must not take it for its own.
    const raw = openDatabase(opts.path, 'writer');
    raw.pragma('user_version = 99');
    raw.close();
    await assert.rejects(openStore(opts), (e: Error & { code?: string }) => e.code === 'E_IO' && /not an event store of this version.*--no-store/.test(e.message));
  });

  test('caps and TTL hold under 100 k events/s for a minute, every row accounted for', { timeout: 150_000 }, async () => {
    const RATE = 100_000;
    const SECONDS = 60;
    const events = { maxRows: 300_000, maxBytes: 1 << 30, ttlMs: 10_000 };
    // ~10,000 alerts (a few hundred bytes each) are younger than the TTL at any time: 512 KiB binds first.
    const alertLimits = { maxRows: 1_000_000, maxBytes: 512 * 1024, ttlMs: 10_000 };
    const store = await openStore(freshOptions({ events, alertLimits }));
    const sink = store.sink();
    const pushed = [0, 0];
    const start = Date.now();
    const violations: string[] = [];
    let samples = 0;
    let maxLag = 0;
    try {
      // Half the events arrive late (older than the TTL: evicted as they land), half now (the
      // cap evicts the oldest of those); alerts, 2,000/s, overflow their byte cap.
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const now = Date.now();
          const due = Math.min(SECONDS * 1000, now - start) * (RATE / 1000);
          for (let n = pushed[0]!; n < due; n++) sink.write(event(n % 2 ? now : now - 15_000, n));
          for (let n = pushed[1]!; n < due / 50; n++) store.alert(alert(n % 2 ? now : now - 15_000, `rule_${n % 7}`));
          pushed[0] = Math.max(pushed[0]!, Math.ceil(due));
          pushed[1] = Math.max(pushed[1]!, Math.ceil(due / 50));
          if (now - start >= SECONDS * 1000) {
            clearInterval(tick);
            resolve();
          }
        }, 10);
        const check = setInterval(() => {
          if (Date.now() - start >= SECONDS * 1000) return clearInterval(check);
          const s = store.stats();
          samples++;
          if (s.events.rows > events.maxRows) violations.push(`events.rows ${s.events.rows}`);
          if (s.alerts.bytes > alertLimits.maxBytes) violations.push(`alerts.bytes ${s.alerts.bytes}`);
          const oldest = store.oldest('event');
          // A row ages past the TTL between two batches (~100 ms apart, more when the writer lags).
          if (oldest !== undefined) maxLag = Math.max(maxLag, Date.now() - events.ttlMs - oldest);
          const counted = [...store.scan({ kind: 'event', limit: 1, order: 'asc' })].length;
          if (s.events.rows > 0 && counted !== 1) violations.push('scan');
        }, 1000);
      });
      await store.flush();
      const s = store.stats();
      const seconds = (Date.now() - start) / 1000;
      console.log(`# ${pushed[0]} events and ${pushed[1]} alerts in ${seconds.toFixed(1)} s; written ${s.events.written} events (${Math.round(s.events.written / seconds)}/s), dropped ${s.events.dropped}; evicted cap ${s.events.evictedCap}, ttl ${s.events.evictedTtl}; alerts evicted cap ${s.alerts.evictedCap}, ttl ${s.alerts.evictedTtl}; TTL lag at most ${maxLag} ms; file ${(s.fileBytes / 1e6).toFixed(0)} MB`);
      assert.deepEqual(violations, [], 'the caps held at every sample');
      assert.ok(samples >= SECONDS - 5, `sampled every second (${samples})`);
      assert.ok(maxLag < 3000, `no row outlived the TTL by more than a few batches (${maxLag} ms)`);
      assert.ok(pushed[0]! >= RATE * SECONDS * 0.99, 'the source kept its rate');
      for (const [k, st] of [[0, s.events], [1, s.alerts]] as const) {
        assert.equal(st.written + st.dropped, pushed[k], 'every row pushed was written or dropped');
        assert.equal(st.rows + st.evictedCap + st.evictedTtl, st.written, 'every row written is held or was evicted');
        assert.equal(store.droppedBetween(start - 30_000, Date.now(), k ? 'alert' : 'event'), st.evictedCap + st.evictedTtl + st.dropped, 'the losses table counts every row lost');
      }
      assert.ok(s.events.evictedCap > 0 && s.events.evictedTtl > 0 && s.alerts.evictedCap > 0 && s.alerts.evictedTtl > 0, 'both bounds worked on both kinds');
      assert.ok(s.events.rows <= events.maxRows && s.alerts.bytes <= alertLimits.maxBytes);
      assert.ok(s.events.written > pushed[0]! / 4, 'most rows were written');
    } finally {
      await store.close();
    }
  });
});
