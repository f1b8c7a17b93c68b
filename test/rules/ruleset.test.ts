import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuleSet } from '../../src/rules/index.js';
import { ErrorCodes, EunomiaError } from '../../src/core/errors.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

function ev(data: Record<string, unknown>, tracker = 'process'): TrackerEvent {
  return { tracker, instance: 1, time: 1_700_000_000_000, data };
}

const BASE = `
- rule: shell_in_container
  name: Shell in container
  desc: A shell ran inside a container
  priority: warning
  tags: [container, T1059]
  events: [process]
  condition: type = exec and comm in (bash, sh) and container.id != host
  exceptions:
    - container.image startswith "debug/"
    - k8s.namespace = kube-system
  output: "shell {comm} in {container.name} ({container.image}) args={args} user={user}"
`;

const shell = (extra: Record<string, unknown> = {}): TrackerEvent =>
  ev({ type: 'exec', comm: 'bash', args: ['bash', '-i'], container: { id: 'c1', name: 'web', image: 'nginx' }, k8s: { namespace: 'prod' }, ...extra });

test('match renders the output and reports priority and tags', () => {
  const rs = new RuleSet();
  rs.loadText(BASE, 'base.yaml');
  assert.deepEqual(rs.match(shell()), [{
    rule: 'shell_in_container', name: 'Shell in container', priority: 'warning', tags: ['container', 'T1059'],
    message: 'shell bash in web (nginx) args=bash -i user=<NA>',
  }]);
  assert.deepEqual(rs.match(shell({ container: { id: 'host', name: 'host' } })), []);
});

test('exceptions suppress alerts', () => {
  const rs = new RuleSet();
  rs.loadText(BASE, 'base.yaml');
  assert.equal(rs.match(shell({ container: { id: 'c', name: 'd', image: 'debug/tools' } })).length, 0);
  assert.equal(rs.match(shell({ k8s: { namespace: 'kube-system' } })).length, 0);
  assert.equal(rs.match(shell({ k8s: { namespace: 'default' } })).length, 1);
});

test('output templates: literal braces, objects, numbers and evt fields', () => {
  const rs = new RuleSet();
  rs.loadText(`
- rule: r
  events: [tcpconnect]
  condition: dport = 22
  priority: info
  output: "{{x}} {evt.tracker} {daddr}:{dport} {k8s} { dport }"
`, 'o.yaml');
  assert.deepEqual(rs.match(ev({ daddr: '10.0.0.1', dport: 22, k8s: { pod: 'p' } }, 'tcpconnect'))[0], {
    rule: 'r', name: 'r', priority: 'informational', tags: [], message: '{x} tcpconnect 10.0.0.1:22 {"pod":"p"} 22',
  });
});

test('override replaces an earlier rule, keeping keys it does not give', () => {
  const rs = new RuleSet();
  rs.loadText(BASE, 'base.yaml');
  rs.loadText(`
- rule: shell_in_container
  override: true
  condition: type = exec and comm = zsh
  priority: critical
`, 'user.yaml');
  assert.equal(rs.match(shell()).length, 0);
  const [m] = rs.match(shell({ comm: 'zsh' }));
  assert.equal(m?.priority, 'critical');
  assert.equal(m?.message, 'shell zsh in web (nginx) args=bash -i user=<NA>');
  rs.loadText('- rule: shell_in_container\n  override: true\n  enabled: false\n', 'off.yaml');
  assert.equal(rs.match(shell({ comm: 'zsh' })).length, 0);
  assert.equal(rs.rules()[0]?.enabled, false);
});

test('disable() and enabled: false take rules out of matching', () => {
  const rs = new RuleSet();
  rs.loadText(`${BASE}
- rule: off
  events: [process]
  condition: comm exists
  enabled: false
`, 'base.yaml');
  assert.deepEqual(rs.rules().map((r) => [r.id, r.name, r.priority, r.events, r.enabled]), [
    ['shell_in_container', 'Shell in container', 'warning', ['process'], true],
    ['off', 'off', 'warning', ['process'], false],
  ]);
  assert.equal(rs.match(shell()).length, 1);
  rs.disable(['shell_in_container']);
  assert.equal(rs.match(shell()).length, 0);
  assert.equal(rs.rules()[0]?.enabled, false);
  assert.throws(() => rs.disable(['shell_in_containr']), /unknown rule "shell_in_containr" — did you mean "shell_in_container"\?/);
});

test('loadFiles reads files and directories in order; a failed load changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-rules-'));
  try {
    writeFileSync(join(dir, 'base.yaml'), BASE);
    writeFileSync(join(dir, 'b.yml'), '- macro: m\n  condition: comm = sh\n');
    writeFileSync(join(dir, 'c.yaml'), '- rule: uses_m\n  events: [process]\n  condition: m\n');
    const rs = new RuleSet();
    rs.loadFiles([join(dir, 'base.yaml'), join(dir, 'b.yml'), join(dir, 'c.yaml')]);
    assert.deepEqual(rs.rules().map((r) => r.id), ['shell_in_container', 'uses_m']);
    const bad = join(dir, 'more');
    assert.throws(() => rs.loadFiles([bad]), (e) => e instanceof EunomiaError && e.code === ErrorCodes.RULE && e.message.includes(bad));
    const dupes = new RuleSet();
    assert.throws(() => dupes.loadFiles([join(dir, 'base.yaml'), dir]), /already defined/);
    assert.deepEqual(dupes.rules(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example in docs/rules.md loads and matches', () => {
  const md = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(yaml, 'docs/rules.md has a yaml example');
  const rs = new RuleSet();
  rs.loadText(yaml, 'docs/rules.md');
  const [m] = rs.match(shell({ comm: 'sh', args: ['sh', '-c', 'id'], k8s: { namespace: 'prod', pod: 'web-0' } }));
  assert.equal(m?.message, 'shell sh (sh -c id) in web image=nginx pod=web-0');
  assert.deepEqual(rs.match(shell({ k8s: { namespace: 'monitoring' } })), []);
});

test('no match is the one shared, frozen empty array; loading more rules replaces the compiled matchers', () => {
  const rs = new RuleSet();
  rs.loadText(BASE, 'base.yaml');
  const none = rs.match(shell({ comm: 'ls' }));
  assert.deepEqual(none, []);
  assert.equal(rs.match(ev({ comm: 'ls' }, 'opensnoop')), none);
  assert.ok(Object.isFrozen(none));
  // The same tracker as the last event: its matcher must still be the new one.
  rs.loadText('- rule: ls\n  events: [process]\n  condition: comm = ls\n', 'more.yaml');
  assert.deepEqual(rs.match(shell({ comm: 'ls' })).map((m) => m.rule), ['ls']);
  rs.disable(['ls']);
  assert.deepEqual(rs.match(shell({ comm: 'ls' })), []);
});
