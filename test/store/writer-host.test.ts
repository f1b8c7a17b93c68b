/**
 * Where the store's writer runs (src/store/writer-host.ts), on real database files: on the main
 * thread while the rows are few, on a worker thread under load or when another agent's
 * transaction holds the file, and back; every row written once, its JSON exact, across moves
 * made while rows were on their way.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore, type StoreDeps, type StoreOptions } from '../../src/store/index.js';
import { openDatabase } from '../../src/store/schema.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-writer-host-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function options(): StoreOptions {
  const loose = { maxRows: 10_000_000, maxBytes: 8 * 1024 ** 3, ttlMs: 3_600_000 };
  return { path: join(dir, `events-${files++}.db`), trackers: ['process'], alerts: false, events: loose, alertLimits: loose };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Three shapes of `data`: a shape first seen on one side of a move is written on the other. */
function event(seq: number, shape: number): TrackerEvent {
  const data = shape === 0 ? { seq, comm: 'bash', pid: seq % 4096 } : shape === 1 ? { seq, filename: `/tmp/f"${seq}`, flags: null, ok: true } : { seq, args: ['a', String(seq)], exit_code: -seq };
  return { tracker: 'process', instance: 1, time: Date.now(), data };
}

test('an idle store writes on the main thread', async () => {
  const store = await openStore(options());
  const sink = store.sink();
  for (let i = 0; i < 20; i++) sink.write(event(i, i % 3));
  await store.flush();
  await sleep(1200);
  assert.deepEqual(store.stats().writer, { on: 'main', moves: 0 });
  assert.equal(store.stats().events.rows, 20);
  await store.close();
});

test('under load the writer moves to a thread and back; rows on their way at each move are written once, exactly', { timeout: 60_000 }, async () => {
  // Any load moves it to a thread, any second there is quiet: moves both ways within seconds.
  const deps: StoreDeps = { writer: { upMs: 1, downMs: Infinity, quietS: 2 } };
  const opts = options();
  const store = await openStore(opts, deps);
  const sink = store.sink();
  const sent: TrackerEvent[] = [];
  let seq = 0;
  const write = (n: number, shape: number): void => {
    for (let i = 0; i < n; i++) {
      const ev = event(seq++, shape);
      sent.push(ev);
      sink.write(ev);
    }
  };
  // Rows keep coming, unflushed, so that some are in flight whenever a move comes.
  const until = async (on: 'main' | 'thread', shape: number): Promise<void> => {
    while (store.stats().writer.on !== on) {
      write(50, shape);
      await sleep(20);
    }
  };
  write(3000, 0);
  await until('thread', 0);
  await until('main', 1);
  await until('thread', 2);
  await until('main', 0);
  write(1000, 1);
  write(1000, 2);
  await store.flush();
  const stats = store.stats();
  console.log(`# ${sent.length} rows, ${stats.writer.moves} moves`);
  assert.ok(stats.writer.moves >= 4, `moves: ${stats.writer.moves}`);
  assert.equal(stats.events.dropped, 0);
  assert.equal(stats.events.written, sent.length);
  const rows = [...store.scan({ kind: 'event', order: 'asc' })];
  assert.equal(rows.length, sent.length);
  const bySeq = new Map(rows.map((r) => [(r.record as unknown as TrackerEvent).data.seq as number, r.record]));
  assert.equal(bySeq.size, sent.length, 'no row twice');
  for (const ev of sent) assert.equal(JSON.stringify(bySeq.get(ev.data.seq as number)), JSON.stringify(ev));
  await store.close();
});

test("another agent's transaction: the main thread waits briefly, and the rows move to a thread that waits for it, none dropped", { timeout: 60_000 }, async () => {
  const opts = options();
  const store = await openStore(opts);
  const sink = store.sink();
  for (let i = 0; i < 100; i++) sink.write(event(i, 0));
  await store.flush();
  assert.equal(store.stats().writer.on, 'main');
  const other = openDatabase(opts.path, 'writer');
  other.prepare('BEGIN IMMEDIATE').run();
  for (let i = 100; i < 200; i++) sink.write(event(i, 1));
  const flushed = store.flush();
  while (store.stats().writer.on !== 'thread') await sleep(50);
  // The thread waits on the lock (up to 10 s); meanwhile the rows are not committed.
  await sleep(300);
  assert.equal(store.stats().events.written, 100);
  other.prepare('COMMIT').run();
  other.close();
  await flushed;
  const stats = store.stats();
  assert.equal(stats.events.dropped, 0);
  assert.equal(stats.events.written, 200);
  assert.equal(stats.events.rows, 200);
  await store.close();
});
