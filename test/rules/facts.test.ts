/** Facts: the tests many rules require, chosen per tracker, and conditions folded with their values (src/rules/facts.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atomKey, chooseFacts, fold, Known } from '../../src/rules/facts.js';
import { predicate, type Expr } from '../../src/rules/condition.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { conditions } from './conditions.js';

const MACROS: Record<string, string> = {
  in_container: 'container.id exists and container.id != host',
  open_write: 'write = true',
  outbound: '(evt.tracker = tcpconnect and direction = connect) or (evt.tracker = secsnoop and call = connect)',
};

const expr = conditions(MACROS);

const ev = (data: Record<string, unknown>, tracker = 'opensnoop'): TrackerEvent => ({ tracker, instance: 1, time: 0, data });

test('the facts are the cheap tests most rules require, either way; evt.tracker is decided, not a fact', () => {
  const conds = [
    'open_write and path startswith /etc/ and in_container', 'open_write and path startswith /bin/', 'open_write and in_container and path endswith .sh',
    'not open_write and fd >= 0 and path = /etc/shadow', 'fd >= 0 and in_container and path startswith /dev/', 'path contains x',
    'outbound and dport = 22 and in_container',
  ].map(expr);
  const keys = (es: Expr[]): string[][] => es.map((e) => atomKey(e)!.split('\0'));
  // write = true: 4 rules; container.id != host (before its `exists`, required alike): 4; fd >= 0: 2.
  assert.deepEqual(keys(chooseFacts(conds)), [['str', 'write', '=', 'true'], ['str', 'container.id', '!=', 'host'], ['num', 'fd', '>=', '0']]);
  assert.deepEqual(keys(chooseFacts(conds, 1)), [['str', 'write', '=', 'true']]);
  assert.deepEqual(chooseFacts([expr('path contains x')]), [], 'no test required by two rules');
});

test('folding with known facts keeps each condition\'s value on every event the facts describe', () => {
  const facts = ['write = true', 'fd >= 0', 'container.id != host', 'container.id exists', 'comm = sh'].map(expr);
  const conds = [
    'open_write and in_container', 'not open_write or fd < 0', 'in_container or comm = sh', 'container.id exists and not container.id = host',
    'fd >= 0 and (comm = sh or path startswith /etc/)', 'not (in_container and open_write)', 'comm in (sh, bash) and container.id != host',
    'container.id startswith a', 'outbound', 'evt.tracker = opensnoop and fd >= 0', 'fd = 3 or write = true', 'not container.id exists',
  ].map(expr);
  const values: unknown[] = [undefined, null, true, false, 'true', 0, 3, -1, '3', 'sh', 'bash', 'host', 'abc', '', [], ['sh']];
  const pick = (i: number, k: number): unknown => values[(i * 7 + k * 13) % values.length];
  for (let i = 0; i < 400; i++) {
    const container = i % 5 === 0 ? undefined : { id: pick(i, 4) };
    const e = ev({ write: pick(i, 0), fd: pick(i, 1), comm: pick(i, 2), path: pick(i, 3), container });
    const known = new Known('opensnoop', facts, facts.map((f) => predicate(f)(e)));
    for (const c of conds) {
      const folded = fold(c, known);
      const want = predicate(c)(e);
      assert.equal(typeof folded === 'boolean' ? folded : predicate(folded)(e), want, `${JSON.stringify(e.data)}`);
    }
  }
});

test('what the facts imply: a true comparison means the field exists; no field means no test holds', () => {
  const present = new Known('opensnoop', [expr('container.id != host')], [true]);
  assert.equal(fold(expr('container.id exists'), present), true);
  assert.equal(fold(expr('in_container'), present), true);
  const absent = new Known('opensnoop', [expr('container.id exists')], [false]);
  assert.equal(fold(expr('container.id = host or container.id startswith x or container.id in (a, b)'), absent), false);
  assert.equal(fold(expr('not container.id = host'), absent), true);
  const notHost = new Known('opensnoop', [expr('container.id != host')], [false]);
  assert.notEqual(typeof fold(expr('container.id exists'), notHost), 'boolean', 'false != host: missing, or host');
  assert.equal(fold(expr('outbound'), new Known('opensnoop')), false);
  assert.deepEqual(fold(expr('outbound'), new Known('tcpconnect')), expr('direction = connect'));
});
