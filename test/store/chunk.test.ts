/**
 * A chunk's records travel as JSON arrays of several records (src/store/chunk.ts) and the
 * writer cuts them apart again: each row must come back with its own record's text, exactly
 * as JSON.stringify (or, for a bigint, the exporters' writer) makes it alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BATCH_ROWS, CHUNK_ROWS, Chunk, eachRow, eachRowTime, splitJsonArray } from '../../src/store/chunk.js';
import { recordJson } from '../../src/store/record.js';

const nasty = ['"', '\\', '\\"', '{', '}', '[', ']', '{"a":[1,{"b":"}"}]}', 'ü€😀', '\u0000\u001f', '\\\\"}', ''];

/** A random value of JSON's kinds, strings drawn from the nasty ones. */
function value(rnd: () => number, depth: number): unknown {
  const k = Math.floor(rnd() * (depth > 3 ? 4 : 6));
  if (k === 0) return nasty[Math.floor(rnd() * nasty.length)]! + String(Math.floor(rnd() * 100));
  if (k === 1) return Math.floor(rnd() * 1e6) - 5e5;
  if (k === 2) return rnd() < 0.5;
  if (k === 3) return null;
  if (k === 4) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rnd() * 5); i > 0; i--) o[nasty[Math.floor(rnd() * nasty.length)]! + i] = value(rnd, depth + 1);
  return o;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test('splitJsonArray gives back each object of an array as JSON.stringify wrote it alone', () => {
  const rnd = seeded(7);
  for (let round = 0; round < 300; round++) {
    const items = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => ({ data: value(rnd, 0), s: nasty[round % nasty.length] }));
    assert.deepEqual(splitJsonArray(JSON.stringify(items)), items.map((x) => JSON.stringify(x)));
  }
  assert.deepEqual(splitJsonArray('[]'), []);
});

test('a chunk\'s rows come back in order with their columns and their own record, bigints included', () => {
  const chunk = new Chunk();
  const rows: { kind: 0 | 1; time: number; record: unknown }[] = [];
  // Not a multiple of the batch: the last batch is short.
  const n = Math.min(CHUNK_ROWS, BATCH_ROWS * 3 + 5);
  for (let i = 0; i < n; i++) {
    const kind = (i % 7 === 0 ? 1 : 0) as 0 | 1;
    const record = i === 40 ? { tracker: 'x', data: { big: 2n ** 64n - 1n, s: '}"' } } : { tracker: 'process', instance: i, data: { comm: nasty[i % nasty.length], args: ['a', '{', ']'], n: i } };
    chunk.push(kind, 1000 + i, i, i % 2 ? 'process' : 'files', i % 3 ? 'aaaaaaaaaaaa' : '', kind ? 'rule_a' : '', record);
    rows.push({ kind, time: 1000 + i, record });
  }
  const data = chunk.data();
  assert.ok(data.batches.length < n / 2, `${data.batches.length} strings for ${n} rows`);
  const got: string[] = [];
  let i = 0;
  eachRow(data, (kind, time, instance, tracker, container, rule, record) => {
    assert.deepEqual([kind, time, instance, tracker, container, rule], [rows[i]!.kind, rows[i]!.time, i, i % 2 ? 'process' : 'files', i % 3 ? 'aaaaaaaaaaaa' : '', rows[i]!.kind ? 'rule_a' : '']);
    got.push(record);
    i++;
  });
  assert.deepEqual(got, rows.map((r) => recordJson(r.record)));
  assert.match(got[40]!, /"big":18446744073709551615/, 'a u64 beyond 2^53 as its digits');
  const times: number[] = [];
  eachRowTime(data, (_k, t) => times.push(t));
  assert.deepEqual(times, rows.map((r) => r.time));
});
