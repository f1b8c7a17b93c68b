/** The analyzer stage: rule matches become alerts with process, parents, container and pod; throttled; own actions ignored. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert, AlertSink } from '../../src/alerts/index.js';
import { Analyzer } from '../../src/analyzer/analyzer.js';
import { ProcessTree } from '../../src/analyzer/process-tree.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { RuleSet } from '../../src/rules/index.js';

const RULES = `
- list: shells
  items: [sh, bash, ash]
- rule: shell_in_container
  name: Terminal shell in a container
  priority: warning
  tags: [T1059]
  events: [process]
  condition: type = exec and comm in (shells) and container.id != host
  output: "shell {comm} in {container.name} (parent {ppid})"
`;

function memorySink(): AlertSink & { got: Alert[] } {
  const got: Alert[] = [];
  return { name: 'memory', got, send: (a) => void got.push(a), stats: () => ({ sent: got.length, dropped: 0, failed: 0 }), close: async () => {} };
}

const container = { id: 'cd7a6582a036', full_id: 'cd7a6582a036'.padEnd(64, '0'), name: 'web', image: 'busybox' };
const exec = (pid: number, ppid: number, comm: string, extra: Record<string, unknown> = {}): TrackerEvent => ({
  tracker: 'process', instance: 1, time: 1_700_000_000_000, data: { type: 'exec', pid, ppid, comm, args: [comm], container, ...extra },
});

test('a match becomes an alert with the process, its parents, the container and the pod; events go on unchanged', () => {
  const rules = new RuleSet();
  rules.loadText(RULES, 'test.yaml');
  const sink = memorySink();
  const a = new Analyzer({ rules, sinks: [sink], tree: new ProcessTree({ proc: () => undefined }), selfPid: 999 });
  // As the agent runs it: a pipeline sink, after which the event is unchanged.
  const s = a.sink();
  s.write(exec(100, 1, 'containerd-shim'));
  s.write(exec(200, 100, 'runc'));
  const ev = exec(300, 200, 'sh', { exe: '/bin/busybox', k8s: { namespace: 'shop', pod: 'web-0' } });
  const before = JSON.stringify(ev);
  s.write(ev);
  assert.deepEqual(s.stats(), { written: 3, dropped: 0 });
  assert.equal(JSON.stringify(ev), before, 'the event itself is not changed');
  assert.equal(sink.got.length, 1);
  assert.deepEqual(sink.got[0], {
    time: '2023-11-14T22:13:20.000Z',
    rule: 'shell_in_container',
    name: 'Terminal shell in a container',
    priority: 'warning',
    tags: ['T1059'],
    message: 'shell sh in web (parent 200)',
    source: 'process',
    process: { pid: 300, comm: 'sh', exe: '/bin/busybox', args: ['sh'], ppid: 200, parents: [{ pid: 200, comm: 'runc' }, { pid: 100, comm: 'containerd-shim' }] },
    container,
    k8s: { namespace: 'shop', pod: 'web-0' },
  });
  assert.deepEqual(a.recent(), sink.got);
  assert.equal(a.stats().byRule.shell_in_container, 1);
});

test('an alert storm is throttled per rule and container; Eunomia\'s own processes never alert', () => {
  const rules = new RuleSet();
  rules.loadText(RULES, 'test.yaml');
  const sink = memorySink();
  const a = new Analyzer({ rules, sinks: [sink], throttle: { burst: 3, intervalMs: 60_000 }, tree: new ProcessTree({ proc: () => undefined }), selfPid: 999 });
  const live: Alert[] = [];
  const off = a.subscribe((al) => live.push(al));
  for (let i = 0; i < 1000; i++) a.check(exec(1000 + i, 1, 'sh'));
  assert.equal(sink.got.length, 3);
  assert.equal(live.length, 3);
  off();
  a.check(exec(5000, 999, 'sh')); // a child of Eunomia
  a.check(exec(5001, 5000, 'sh')); // and its grandchild
  const s = a.stats();
  assert.equal(s.matched, 1000);
  assert.equal(s.alerts, 3);
  assert.equal(s.suppressed, 997);
  assert.equal(s.ownIgnored, 2);
});
