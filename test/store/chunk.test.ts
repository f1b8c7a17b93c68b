/**
 * A chunk's event rows travel as values (src/store/values.ts) and the writer writes their JSON:
 * each row must come back with the text JSON.stringify makes of its event (recordJson's, for a
 * bigint), whatever the event's shape and values; other rows travel as their JSON text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK_ROWS, Chunk, eachRow, eachRowTime } from '../../src/store/chunk.js';
import { recordJson } from '../../src/store/record.js';
import { MAX_SHAPES, Shapes, ValueReader } from '../../src/store/values.js';
import { withJsonText } from '../../src/exporters/json.js';

const nasty = ['"', '\\', '\\"', '{', '}', '[', ']', '{"a":[1,{"b":"}"}]}', 'ü€😀', '\u0000\u001f', '\u2028', '\ud800', ''];

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** A value of any kind an event field may hold; `bigints`: may hold a bigint (then no Date: toJson writes those otherwise). */
function value(rnd: () => number, depth: number, bigints: boolean): unknown {
  const pick = Math.floor(rnd() * 16);
  switch (pick) {
    case 0: return nasty[Math.floor(rnd() * nasty.length)];
    case 1: return Math.floor(rnd() * 2e9) - 1e9;
    case 2: return rnd() * 1e6;
    case 3: return [NaN, Infinity, -Infinity, -0, 2 ** 53, 1e21, 5e-324][Math.floor(rnd() * 7)];
    case 4: return rnd() < 0.5;
    case 5: return null;
    case 6: return undefined;
    case 7: return () => 1;
    case 8: return Symbol('s');
    case 9: return bigints ? 2n ** 64n - BigInt(Math.floor(rnd() * 100)) : 'no bigint';
    case 10: return bigints ? 'no date' : new Date(1_700_000_000_000 + Math.floor(rnd() * 1e9));
    case 11: return CONTAINERS[Math.floor(rnd() * CONTAINERS.length)];
    case 12: case 13: return depth > 2 ? 'deep' : Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1, bigints));
    default: {
      if (depth > 2) return 7;
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--) o[nasty[Math.floor(rnd() * nasty.length)]! + i] = value(rnd, depth + 1, bigints);
      return o;
    }
  }
}

const CONTAINERS = [withJsonText({ id: 'aaaaaaaaaaaa', full_id: 'a'.repeat(64), name: 'web "1"', image: 'nginx' }), withJsonText({ id: 'host', full_id: 'host', name: 'host' })];
/** Key sets: more shapes than the recent ones checked first, keys of every kind (integer-like ones go first in objects). */
const KEYSETS = [['pid', 'comm', 'args', 'container'], ['pid', 'comm', 'exit_code', 'container'], ['a', '2', '1', 'b"', 'ü'], ['x'], [], ['pid', 'tid', 'ppid', 'comm', 'filename', 'flags', 'ret', 'container'], Array.from({ length: 200 }, (_, i) => `k${i}`)];

function event(rnd: () => number, i: number): object {
  const bigints = rnd() < 0.2;
  const data: Record<string, unknown> = {};
  for (const k of KEYSETS[Math.floor(rnd() * KEYSETS.length)]!) data[k] = value(rnd, 0, bigints);
  const r = rnd();
  // Some of other forms, written from their JSON text: a key more, a data without prototype.
  if (r < 0.05) return { tracker: 'process', instance: i, time: 1_700_000_000_000 + i / 3, data, extra: 1 };
  if (r < 0.1) return { tracker: 'process', instance: i, time: 1_700_000_000_000 + i / 3, data: Object.assign(Object.create(null), data) };
  return { tracker: i % 2 ? 'process' : 'files', instance: i, time: 1_700_000_000_000 + i / 3, data };
}

test('every row comes back with its event\'s JSON text: random shapes and values, several chunks', () => {
  const rnd = seeded(11);
  const shapes = new Shapes();
  const reader = new ValueReader();
  for (let round = 0; round < 20; round++) {
    const chunk = new Chunk(shapes);
    const want: { kind: 0 | 1; time: number; instance: number; tracker: string; record: string }[] = [];
    for (let i = 0; i < CHUNK_ROWS; i++) {
      const alert = i % 50 === 7;
      const ev = alert ? { rule: 'r', time: new Date(1_700_000_000_000).toISOString(), process: { comm: nasty[i % nasty.length] } } : event(rnd, i);
      const e = ev as { tracker?: string; instance?: number; time: number | string };
      const kind = alert ? 1 : 0;
      const time = alert ? 1_700_000_000_000 : (e.time as number);
      const tracker = alert ? 'process' : e.tracker!;
      chunk.push(kind, time, alert ? 0 : e.instance!, tracker, '', alert ? 'r' : '', ev);
      want.push({ kind, time: Math.floor(time), instance: alert ? 0 : e.instance!, tracker, record: recordJson(ev) });
    }
    const data = chunk.data();
    assert.ok(data.records.length < CHUNK_ROWS / 4, `${data.records.length} rows as JSON text: the events go as values`);
    // As the writer does: shapes learnt when a chunk arrives.
    reader.learn(data.values);
    const got: typeof want = [];
    eachRow(data, reader, (kind, time, instance, tracker, _c, _r, record) => got.push({ kind, time, instance, tracker, record }));
    for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `round ${round}, row ${i}`);
    const times: number[] = [];
    eachRowTime(data, (_k, t) => times.push(t));
    assert.deepEqual(times, want.map((w) => w.time));
  }
});

test('past MAX_SHAPES shapes, events go as their JSON text, still exact', () => {
  const shapes = new Shapes();
  const reader = new ValueReader();
  const chunk = new Chunk(shapes);
  const want: string[] = [];
  for (let i = 0; i < MAX_SHAPES + 10; i++) {
    const ev = { tracker: 'process', instance: 1, time: 1000 + i, data: { [`key${i}`]: i, comm: 'x' } };
    if (chunk.isFull) break;
    chunk.push(0, ev.time, 1, 'process', '', '', ev);
    want.push(recordJson(ev));
  }
  let data = chunk.data();
  reader.learn(data.values);
  const got: string[] = [];
  eachRow(data, reader, (...a) => got.push(a[6]));
  assert.deepEqual(got, want);
  // The next chunks: the shapes of the first are known to the reader; new ones past the bound go as text.
  let next = new Chunk(shapes);
  const more: string[] = [];
  for (let i = 0; i < MAX_SHAPES; i++) {
    if (next.isFull) {
      data = next.data();
      reader.learn(data.values);
      eachRow(data, reader, (...a) => got.push(a[6]));
      next = new Chunk(shapes);
    }
    const ev = { tracker: 'process', instance: 1, time: 5000 + i, data: { [`other${i}`]: true } };
    next.push(0, ev.time, 1, 'process', '', '', ev);
    more.push(recordJson(ev));
  }
  data = next.data();
  reader.learn(data.values);
  eachRow(data, reader, (...a) => got.push(a[6]));
  assert.deepEqual(got, [...want, ...more]);
  assert.ok(data.records.length > 0, 'some as JSON text');
});
