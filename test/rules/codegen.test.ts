import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDispatch, compileMatcher, guardOf } from '../../src/rules/codegen.js';
import { predicate, type Expr, type Pred } from '../../src/rules/condition.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { conditions } from './conditions.js';


const MACROS: Record<string, string> = {
  in_container: 'container.id exists and container.id != host',
  is_exec: 'evt.tracker = process and type = exec',
  etc_write: 'path startswith /etc/ and (flags contains O_WRONLY or flags contains O_RDWR)',
};
const LISTS: Record<string, (string | number)[]> = {
  shells: ['sh', 'bash', 'ash'],
  ports: [22, 443, '8080'],
  files: ['/etc/shadow', '/etc/passwd', '/etc/', ''],
};

const expr = conditions(MACROS, LISTS);

function ev(data: Record<string, unknown>, tracker = 'process', time = 1_700_000_000_000): TrackerEvent {
  return { tracker, instance: 1, time, data };
}

/** Indices of the conditions that hold, by the generated matcher (all conditions as rules of one tracker). */
function generated(tracker: string, conds: Expr[], exceptions: Expr[][] = []): (e: TrackerEvent) => number[] {
  return compileMatcher(tracker, conds.map((cond, i) => ({ cond, exceptions: exceptions[i] ?? [] })), (i) => i, []);
}

/** The same, by the reference closures. */
function reference(conds: Expr[], exceptions: Expr[][] = []): (e: TrackerEvent) => number[] {
  const memo = new Map<Expr, Pred>();
  const preds = conds.map((c) => predicate(c, memo));
  const xs = conds.map((_, i) => (exceptions[i] ?? []).map((x) => predicate(x, memo)));
  return (e) => preds.flatMap((p, i) => (p(e) && !xs[i]!.some((x) => x(e)) ? [i] : []));
}

const str = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;

// Values of every kind a field can hold, including ones that look alike as text.
const VALUES: unknown[] = [
  undefined, null, '', 'sh', 'bash', 'bash ', 'BASH', '/etc/', '/etc/shadow', '/etc/shadow.bak', 'x/etc/shadow', '/etc/ssh/sshd_config',
  'O_RDONLY|O_CLOEXEC', 'O_WRONLY|O_CREAT', '22', ' 22', '22.0', '-1', '0', 'host', 'é/ü', '\u{1F600}x', 'a"b\\c', 'exec', 'exit',
  0, -0, 22, 443, 8080, 1.5, -1, NaN, Infinity, 10n, true, false,
  [], ['sh', '-c'], ['-e', 22], [null, 'bash'], ['/etc/shadow'], [22, '443'], { id: 'x' }, [['sh']],
  `/${'a'.repeat(40)}/x`, `/${'a'.repeat(39)}`,
];
const LONG = 'a'.repeat(40);

function pick<T>(xs: readonly T[], r: () => number): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomEvent(r: () => number, tracker: string): TrackerEvent {
  const data: Record<string, unknown> = {};
  for (const f of ['comm', 'path', 'flags', 'type', 'pid', 'args', 'fd']) {
    const v = pick(VALUES, r);
    if (v !== undefined || r() < 0.5) data[f] = v;
  }
  const c = r();
  if (c < 0.4) data.container = { id: pick(['host', 'abc', '', 22], r), name: pick(['web', 'a"b'], r) };
  else if (c < 0.6) data.container = pick(VALUES, r);
  return ev(data, tracker, pick([0, 1_700_000_000_000, 17.5], r));
}

const FIELDS = ['comm', 'path', 'flags', 'type', 'pid', 'args', 'fd', 'container.id', 'container.name', 'container', 'nosuch', 'evt.tracker', 'evt.time'];
const LITERALS = ['', 'sh', 'bash', '/etc/', '/etc/shadow', 'shadow', 'O_WRONLY', '22', 'host', 'exec', 'é', 'a"b\\c', 'process', 'opensnoop', '\u{1F600}'];
const GLOBS = ['*', '/etc/*', '*shadow', '/e?c/s*', '[ab]*', '*[!x]h', 'sh', '[', '*/ssh/*', '??'];

function randomLeaf(r: () => number): string {
  const f = pick(FIELDS, r);
  const k = r();
  if (k < 0.1) return `${f} exists`;
  if (k < 0.3) return `${f} ${pick(['=', '!=', '<', '<=', '>', '>='], r)} ${pick(['0', '22', '-1', '1.5', '443'], r)}`;
  if (k < 0.65) return `${f} ${pick(['=', '!=', 'startswith', 'endswith', 'contains'], r)} ${str(pick(LITERALS, r))}`;
  if (k < 0.75) return `${f} glob ${str(pick(GLOBS, r))}`;
  if (k < 0.85) return `${f} in (${pick(['shells', 'ports', 'files', 'shells, "/etc/", 22', '"sh", -1'], r)})`;
  return pick(['in_container', 'is_exec', 'etc_write'], r);
}

function randomCond(r: () => number, depth: number): string {
  const k = r();
  if (depth <= 0 || k < 0.35) return randomLeaf(r);
  if (k < 0.45) return `not ${randomCond(r, depth - 1)}`;
  return `(${randomCond(r, depth - 1)} ${r() < 0.5 ? 'and' : 'or'} ${randomCond(r, depth - 1)})`;
}

test('generated matchers agree with the reference semantics on a table of cases', () => {
  const conds = [
    'comm = sh', 'comm != sh', 'comm = ""', 'pid = 22', 'pid != 22', 'pid >= 22', 'pid < 0', 'pid = "22"', 'pid in (ports)',
    'path startswith /etc/', 'path endswith shadow', 'path contains ssh', 'path glob "/etc/*"', 'path glob "*shadow"', 'path glob "[!/]*"',
    'path in (files)', 'path = /etc/shadow', 'path startswith ""', 'path endswith ""',
    'args contains -c', 'args in (shells)', 'args = sh', 'args startswith sh', 'args exists', 'not args exists',
    'container.id exists', 'in_container', 'not in_container', 'container.name = "a\\"b"', 'container exists', 'container = x',
    'evt.tracker = process', 'evt.tracker != process', 'evt.tracker in (process, x)', 'evt.tracker startswith proc', 'evt.tracker glob "p*"',
    'evt.time > 0', 'evt.time = 17.5', 'evt.time startswith "17"',
    'is_exec and comm in (shells)', 'etc_write', 'not etc_write and fd >= 0',
    '(comm in (shells) or path startswith /etc/) and fd >= 0', 'comm in (shells) or args in (shells)', 'path = "é/ü" or comm = "\u{1F600}x"',
    `path startswith "/${LONG}"`, `path endswith "${LONG}/x"`, `path startswith "/${LONG.slice(8)}"`, 'container.id.x exists', 'container.name.length = 3',
  ].map(expr);
  const gen = generated('process', conds);
  const ref = reference(conds);
  const r = rng(1);
  for (let i = 0; i < 3000; i++) {
    const e = randomEvent(r, 'process');
    assert.deepEqual(gen(e), ref(e), JSON.stringify(e.data, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  }
});

test('generated matchers agree with the reference semantics on random conditions', () => {
  const r = rng(42);
  for (let round = 0; round < 40; round++) {
    const tracker = pick(['process', 'opensnoop'], r);
    const srcs = Array.from({ length: 12 }, () => randomCond(r, 3));
    const conds = srcs.map(expr);
    // Some rules with exceptions, and several rules per field so that prefilters are built.
    const exceptions = conds.map(() => (r() < 0.3 ? [expr(randomCond(r, 2))] : []));
    const gen = generated(tracker, conds, exceptions);
    const ref = reference(conds, exceptions);
    for (let i = 0; i < 300; i++) {
      const e = randomEvent(r, tracker);
      assert.deepEqual(gen(e), ref(e), `${srcs.join(' | ')} on ${JSON.stringify(e.data, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    }
  }
});

test('the prefilter keeps the rules that could match: many literals on one field, arrays, exact values that are prefixes of others', () => {
  const conds = [
    'path in (files)', 'path startswith /etc/', 'path startswith /etc/s', 'path endswith shadow', 'path endswith w', 'path = /etc/shadow',
    'path glob "/etc/sh*"', 'path glob "*adow"', 'path in (shells) or path endswith .bak', 'path startswith "" and fd >= 0',
  ].map(expr);
  const gen = generated('opensnoop', conds);
  const ref = reference(conds);
  for (const path of VALUES) {
    const e = ev({ path, fd: 1 }, 'opensnoop');
    assert.deepEqual(gen(e), ref(e), String(path));
  }
  assert.deepEqual(gen(ev({ path: ['x', '/etc/shadow'], fd: 1 }, 'opensnoop')), [0], 'in looks at the elements of an array');
});

test('a prefilter too large for one function is walked by functions of its own, with the same result', () => {
  // 300 paths of 3 nested levels: a trie of several thousand nodes, split into many walk functions.
  const paths = Array.from({ length: 300 }, (_, i) => `/srv/d${i % 7}/sub${i % 13}/file-${i}.conf`);
  const conds = paths.map((p, i) => expr(i % 2 ? `path startswith ${p} and fd >= 0` : `path endswith ${p.slice(5)} and fd >= 0`));
  const gen = generated('opensnoop', conds);
  // The matcher calls walk functions of its own (w0, w1 …) rather than holding the whole trie.
  assert.match(String(gen), /\bw\d+\(s, n\);/, 'the walk was split');
  const ref = reference(conds);
  for (const path of [...paths, ...paths.map((p) => `${p}.bak`), ...paths.map((p) => p.slice(0, -3)), '/srv/', '', '/etc/passwd']) {
    const e = ev({ path, fd: 1 }, 'opensnoop');
    assert.deepEqual(gen(e), ref(e), path);
  }
  assert.ok(gen(ev({ path: paths[1]!, fd: 1 }, 'opensnoop')).length > 0, 'a rule matched');
});

test('prefilters come from the leftmost test that has one, through macros, and not from negations or contains', () => {
  const g = (src: string, tracker = 'process'): unknown => guardOf(expr(src), tracker)?.map((a) => [a.field, a.kind, [...a.lits]]);
  assert.deepEqual(g('comm in (shells) and path startswith /etc/'), [['comm', 'exact', ['sh', 'bash', 'ash']]]);
  assert.deepEqual(g('fd >= 0 and not comm = x and path endswith .conf'), [['path', 'suffix', ['.conf']]]);
  assert.deepEqual(g('comm = a or path glob "/tmp/*"'), [['comm', 'exact', ['a']], ['path', 'prefix', ['/tmp/']]]);
  assert.deepEqual(g('path glob "*.sh"'), [['path', 'suffix', ['.sh']]]);
  assert.deepEqual(g('is_exec and comm = sh'), [['type', 'exact', ['exec']]]);
  assert.deepEqual(g('is_exec', 'opensnoop'), [], 'a rule for another tracker never holds');
  assert.equal(g('path contains x'), undefined);
  assert.equal(g('comm = a or path contains x'), undefined);
  assert.equal(g('path glob "*[ab]"'), undefined);
});

test('evt.tracker is decided per tracker for rules that several trackers share', () => {
  const conds = ['evt.tracker = opensnoop or comm = sh', 'evt.tracker = process and comm = sh'].map(expr);
  const forOpens = generated('opensnoop', conds);
  const forProcs = generated('process', conds);
  assert.deepEqual(forOpens(ev({ comm: 'x' }, 'opensnoop')), [0]);
  assert.deepEqual(forOpens(ev({ comm: 'sh' }, 'opensnoop')), [0]);
  assert.deepEqual(forProcs(ev({ comm: 'x' })), []);
  assert.deepEqual(forProcs(ev({ comm: 'sh' })), [0, 1]);
});

test('a field every rule constrains drops other events early, and arrays still reach the rules', () => {
  const conds = ['type = exec and comm = sh', 'type in (exec, fork) and comm = bash', 'comm = zsh and type startswith ex'].map(expr);
  const gen = generated('process', conds);
  const ref = reference(conds);
  for (const type of ['exec', 'exit', 'fork', 'ex', 'execve', undefined, ['exec'], 7]) {
    for (const comm of ['sh', 'bash', 'zsh', 'x']) {
      const e = ev({ type, comm });
      assert.deepEqual(gen(e), ref(e), `${String(type)} ${comm}`);
    }
  }
});

test('field names and literals with quotes, backslashes, line breaks and unicode cannot break out of the generated code', () => {
  const nasty = ['"', "'", '\\', '\\"', '`${process.exit(9)}`', '"); process.exit(9); ("', '*/ process.exit(9) /*', '\n//# x', '\u2028\u2029', '\ud800', '\u{1F600}', ''];
  const conds: Expr[] = [];
  for (const s of nasty) {
    const field = `f${s}`;
    conds.push({ t: 'str', field, op: '=', s }, { t: 'str', field: 'v', op: 'startswith', s }, { t: 'str', field: 'v', op: 'endswith', s });
    conds.push({ t: 'str', field: `o.${s}`, op: 'contains', s }, { t: 'exists', field });
  }
  // Several trackers' names are not identifiers either.
  for (const tracker of ['process', 'a"b', 'x\ny', 'ü-1', '']) {
    const gen = generated(tracker, conds);
    const ref = reference(conds);
    for (const s of nasty) {
      for (const e of [ev({ [`f${s}`]: s, v: s, o: { [s]: `>${s}<` } }, tracker), ev({ v: `${s}${s}x${s}` }, tracker), ev({}, tracker)]) {
        assert.deepEqual(gen(e), ref(e), JSON.stringify([tracker, s]));
      }
    }
  }
});

test('many rules are split over several functions (and their prefilter over several words) and still match in order', () => {
  const conds = Array.from({ length: 600 }, (_, i) =>
    expr(`(path startswith "/p${i}/" or comm = "c${i}" or args contains "${'a'.repeat(40)}${i}") and not fd < 0 and pid != ${i}`));
  const gen = generated('opensnoop', conds);
  const ref = reference(conds);
  for (const e of [
    ev({ path: '/p7/x', comm: 'c599', fd: 0, pid: 1 }, 'opensnoop'),
    ev({ path: '/p599/', comm: 'c7', fd: 0, pid: 599 }, 'opensnoop'),
    ev({ args: [`${'a'.repeat(40)}300`], fd: 1, pid: 1 }, 'opensnoop'),
    ev({ path: '/nothing', fd: 1 }, 'opensnoop'),
  ]) assert.deepEqual(gen(e), ref(e));
  assert.deepEqual(gen(ev({ path: '/p7/x', comm: 'c599', fd: 0, pid: 1 }, 'opensnoop')), [7, 599]);
  assert.deepEqual(gen(ev({ path: '/p29/', comm: 'c30', fd: 0, pid: 1 }, 'opensnoop')), [29, 30], 'the last bit of a word and the first of the next');
});

test('macros nested too deep to inline run as closures, with the same result', () => {
  // Each level uses the one below twice (once per value of a test, so evaluating it stays
  // cheap): inlined, the condition would have 2^40 tests.
  let e: Expr = expr('comm = sh');
  for (let i = 0; i < 40; i++) {
    const t: Expr = { t: 'num', field: 'pid', op: '=', n: i };
    e = { t: 'or', a: { t: 'and', a: t, b: e }, b: { t: 'and', a: { t: 'not', a: t }, b: e } };
  }
  const conds = [e, expr('comm = sh')];
  const gen = generated('process', conds);
  assert.deepEqual(gen(ev({ comm: 'sh' })), [0, 1]);
  assert.deepEqual(gen(ev({ comm: 'bash' })), []);
});

test('facts: rules that many share a test with (write, fd, in_container) agree with the reference, marked or in line', () => {
  const r = rng(7);
  // Most rules require the facts at top level, either way, so that they are chosen; the rest
  // of each condition is random (with and without a prefilter).
  const facts = ['flags = O_WRONLY', 'fd >= 0', 'in_container', 'not flags = O_WRONLY', 'not fd >= 0', 'not in_container'];
  for (let round = 0; round < 30; round++) {
    const srcs = Array.from({ length: 16 }, () => `${pick(facts, r)} and ${r() < 0.5 ? pick(facts, r) : 'pid != 0'} and ${randomCond(r, 2)}`);
    const conds = srcs.map(expr);
    const exceptions = conds.map(() => (r() < 0.3 ? [expr(r() < 0.5 ? pick(facts, r) : randomCond(r, 1))] : []));
    const gen = generated('opensnoop', conds, exceptions);
    const ref = reference(conds, exceptions);
    for (let i = 0; i < 300; i++) {
      const e = randomEvent(r, 'opensnoop');
      if (r() < 0.5) e.data.flags = pick(['O_WRONLY', 'O_RDONLY', undefined], r);
      assert.deepEqual(gen(e), ref(e), `${srcs.join(' | ')} on ${JSON.stringify(e.data, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    }
  }
});

test('numbers: equality and lists of numbers match numbers as numbers, and their texts as before', () => {
  const conds = [
    'dport in (22, 443, "8080", "0", "-0", "1e21", "NaN", "Infinity", " 53", "080")', 'dport = 22', 'dport = "22"', 'dport = 0',
    'dport = "1e21"', 'dport = "NaN"', 'dport in (22, 443) and daddr = x', 'dport = 22 or dport = 6443', 'dport != 22', 'dport startswith "44"', 'dport in ("44", 22) or dport endswith "43"',
  ].map(expr);
  const gen = generated('tcpconnect', conds);
  const ref = reference(conds);
  const values = [22, 443, 8080, 0, -0, 1e21, NaN, Infinity, -Infinity, 53, 80, 6443, 22.5, '22', ' 22', '22.0', '0', '-0', '1e21', 'NaN', '443', '080', 22n, 443n, true, undefined, null, [22], ['443', 1], {}];
  for (const dport of values) {
    for (const daddr of ['x', 'y']) {
      const e = ev({ dport, daddr }, 'tcpconnect');
      assert.deepEqual(gen(e), ref(e), `${String(dport)} (${typeof dport}) ${daddr}`);
    }
  }
});

test('matches come out in rule order when rules tested in line and marked rules both hold', () => {
  const conds = ['comm = a', 'args contains x', 'comm in (a, b)', 'not comm = z', 'comm = a and pid > 1', 'path endswith /a'].map(expr);
  const gen = generated('process', conds);
  assert.deepEqual(gen(ev({ comm: 'a', args: ['x'], pid: 2, path: '/b/a' })), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(gen(ev({ comm: 'z', args: ['x'] })), [1]);
});

test('one matcher for all trackers: by name (several of a length, names that are not identifiers), each made by its first event', () => {
  const made: string[] = [];
  const names = ['process', 'opensnoop', 'bindsnoop', 'a"b', 'x\ny', 'ü-1', ''];
  const byTracker = new Map(names.map((t) => [t, () => (made.push(t), (e: TrackerEvent) => [`${t}:${String(e.data.n)}`])]));
  const match = compileDispatch(byTracker, [] as string[]);
  assert.deepEqual(made, [], 'nothing is compiled before an event needs it');
  for (const t of names) assert.deepEqual(match(ev({ n: 1 }, t)), [`${t}:1`]);
  for (const t of names) assert.deepEqual(match(ev({ n: 2 }, t)), [`${t}:2`]);
  assert.deepEqual(made, names, 'each once');
  for (const t of ['processx', 'Process', 'tcpconnect', 'a"c']) assert.deepEqual(match(ev({}, t)), []);
  assert.deepEqual(match({ instance: 1, time: 0, data: {} } as unknown as TrackerEvent), [], 'an event without a tracker');
});

test('a field with many exact literals is looked up (texts, numbers, arrays) with the same result as walked', () => {
  const names = Array.from({ length: 12 }, (_, i) => `n${i}`);
  const conds = [
    `comm in (${names.join(', ')})`, 'comm in (n1, n2, sh, "", 22)', 'comm = n3 or path startswith zz', 'comm = n11 and pid = 2', `pid in (${Array.from({ length: 10 }, (_, i) => i * 11).join(', ')}, "NaN", "1e21")`,
    'pid = 22 or pid = "33"',
  ].map(expr);
  const gen = generated('process', conds);
  const ref = reference(conds);
  for (const comm of [...names, 'sh', '', 'n', 'n1x', 22, 22n, ['x', 'n5'], [], undefined, null, 'zzz']) {
    for (const pid of [0, 2, 22, 33, '33', 99, NaN, 1e21, '1e21', 'NaN', 3n, undefined]) {
      const e = ev({ comm, pid });
      assert.deepEqual(gen(e), ref(e), `${String(comm)} ${String(pid)}`);
    }
  }
});
