import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleSet } from '../../src/rules/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

function ev(data: Record<string, unknown>, tracker = 'process'): TrackerEvent {
  return { tracker, instance: 1, time: 1_700_000_000_000, data };
}

const exec = ev({
  type: 'exec', pid: 42, ppid: 1, uid: 0, comm: 'bash', exe: '/usr/bin/bash', args: ['bash', '-c', 'id'],
  container: { id: 'abc123', name: 'web', image: 'nginx:1.25', runtime: 'docker' },
  k8s: { namespace: 'prod', pod: 'web-0' },
  size: '1024',
});

const PRELUDE = `
- list: shells
  items: [bash, sh]
- list: more_shells
  items: [shells, zsh, 7]
- macro: is_exec
  condition: type = exec
- macro: shell_exec
  condition: is_exec and comm in (shells)
`;

/** Does `condition` (with the prelude's macros and lists) match event `e`? */
function holds(condition: string, e: TrackerEvent = exec): boolean {
  const rs = new RuleSet();
  rs.loadText(`${PRELUDE}\n- rule: r\n  events: [${e.tracker}]\n  condition: ${JSON.stringify(condition)}\n`, 't.yaml');
  return rs.match(e).length === 1;
}

test('comparisons on strings and numbers', () => {
  assert.equal(holds('comm = bash'), true);
  assert.equal(holds('comm = "bash"'), true);
  assert.equal(holds("comm = 'sh'"), false);
  assert.equal(holds('comm != sh'), true);
  assert.equal(holds('comm != bash'), false);
  assert.equal(holds('pid = 42'), true);
  assert.equal(holds('pid != 42'), false);
  assert.equal(holds('pid < 43 and pid <= 42 and pid > 41 and pid >= 42'), true);
  assert.equal(holds('pid > 42'), false);
  assert.equal(holds('size > 1000'), true, 'numeric strings compare as numbers');
  assert.equal(holds('pid = "42"'), true, 'a quoted literal compares as text');
  assert.equal(holds('evt.tracker = process and evt.time > 0'), true);
});

test('missing fields make comparisons false, and "not exists" true', () => {
  assert.equal(holds('nosuch = x'), false);
  assert.equal(holds('nosuch != x'), false);
  assert.equal(holds('nosuch < 5'), false);
  assert.equal(holds('nosuch.deeper startswith a'), false);
  assert.equal(holds('nosuch exists'), false);
  assert.equal(holds('not nosuch exists'), true);
  assert.equal(holds('container.id exists'), true);
  assert.equal(holds('comm < 5'), false, 'a non-numeric field never compares to a number');
});

test('string operators, glob, and contains on arrays', () => {
  assert.equal(holds('exe startswith /usr/'), true);
  assert.equal(holds('exe startswith /bin/'), false);
  assert.equal(holds('exe endswith /bash'), true);
  assert.equal(holds('container.image contains nginx'), true);
  assert.equal(holds('container.image contains apache'), false);
  assert.equal(holds('args contains -c'), true, 'contains on an array tests membership');
  assert.equal(holds('args contains "-"'), false, 'not a substring of an element');
  assert.equal(holds('exe glob "/usr/*/ba?h"'), true);
  assert.equal(holds('exe glob "/usr/bin/[abc]ash"'), true);
  assert.equal(holds('exe glob "/usr/bin/[!b]ash"'), false);
  assert.equal(holds('exe glob "/usr/*"'), true);
  assert.equal(holds('exe glob "*.sh"'), false);
  assert.equal(holds('container.image glob "nginx:1.2?"'), true);
});

test('in with literals, lists, nested and mixed lists, and arrays', () => {
  assert.equal(holds('comm in (sh, bash)'), true);
  assert.equal(holds('comm in ("zsh", fish)'), false);
  assert.equal(holds('comm in (shells)'), true);
  assert.equal(holds('comm in (more_shells)'), true, 'nested list');
  assert.equal(holds('pid in (more_shells, 42)'), true, 'list mixed with literals');
  assert.equal(holds('uid in (more_shells)'), false);
  assert.equal(holds('ppid in (1, 2)'), true);
  assert.equal(holds('args in (id, whoami)'), true, 'any element of an array');
  assert.equal(holds('nosuch in (a, b)'), false);
});

test('precedence: not > and > or, and parentheses', () => {
  assert.equal(holds('comm = sh and pid = 1 or uid = 0'), true);
  assert.equal(holds('comm = sh and (pid = 1 or uid = 0)'), false);
  assert.equal(holds('uid = 0 or comm = sh and pid = 1'), true, 'and binds tighter than or');
  assert.equal(holds('(uid = 0 or comm = sh) and pid = 1'), false);
  assert.equal(holds('not comm = sh and pid = 42'), true, 'not binds tighter than and');
  assert.equal(holds('not (comm = bash and pid = 1)'), true);
  assert.equal(holds('not comm = bash or pid = 42'), true);
  assert.equal(holds('not not comm = bash'), true);
  assert.equal(holds('((comm = bash))'), true);
});

test('macros, nested, used as boolean terms', () => {
  assert.equal(holds('shell_exec'), true);
  assert.equal(holds('shell_exec and container.name = web'), true);
  assert.equal(holds('not shell_exec'), false);
  assert.equal(holds('is_exec', ev({ type: 'exit' })), false);
});

test('tracker index: a rule only sees its events', () => {
  const rs = new RuleSet();
  rs.loadText(`
- rule: open_etc
  events: [opensnoop]
  condition: path startswith /etc/ and flags contains O_RDONLY
- rule: any_comm
  events: [opensnoop, process]
  condition: comm exists
`, 'idx.yaml');
  const open = ev({ comm: 'cat', path: '/etc/shadow', flags: ['O_RDONLY', 'O_CLOEXEC'] }, 'opensnoop');
  assert.deepEqual(rs.match(open).map((m) => m.rule), ['open_etc', 'any_comm']);
  assert.deepEqual(rs.match(ev({ comm: 'x', path: '/etc/x', flags: ['O_RDONLY'] })).map((m) => m.rule), ['any_comm']);
  assert.deepEqual(rs.match(ev({ comm: 'x' }, 'tcpconnect')), []);
});

test('evt.tracker in a rule for several trackers', () => {
  const rs = new RuleSet();
  rs.loadText(`
- rule: opens_or_shells
  events: [opensnoop, process]
  condition: evt.tracker = opensnoop or (evt.tracker = process and comm in (sh, bash))
`, 'trackers.yaml');
  const ids = (e: TrackerEvent): string[] => rs.match(e).map((m) => m.rule);
  assert.deepEqual(ids(ev({ comm: 'cat' }, 'opensnoop')), ['opens_or_shells']);
  assert.deepEqual(ids(ev({ comm: 'cat' })), []);
  assert.deepEqual(ids(ev({ comm: 'sh' })), ['opens_or_shells']);
});
