/** The process tree behind alerts' parent chains: from exec events, and /proc for the rest. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { ProcessTree, readProc } from '../../src/analyzer/process-tree.js';

test('parent chains from exec events; exits are kept for late alerts; loops and depth are bounded', () => {
  const t = new ProcessTree({ proc: () => undefined });
  t.observe({ type: 'exec', pid: 10, ppid: 1, comm: 'containerd-shim', exe: '/usr/bin/containerd-shim', args: ['containerd-shim'] });
  t.observe({ type: 'exec', pid: 1, ppid: 0, comm: 'init' });
  t.observe({ type: 'exec', pid: 20, ppid: 10, comm: 'sh', args: ['sh', '-c', 'id'] });
  t.observe({ type: 'exec', pid: 30, ppid: 20, comm: 'id' });
  t.observe({ type: 'exit', pid: 20 });
  assert.deepEqual(t.parents(30).map((p) => p.comm), ['sh', 'containerd-shim', 'init']);
  assert.deepEqual(t.parents(30, 1).map((p) => p.pid), [20]);
  assert.deepEqual(t.get(20)?.args, ['sh', '-c', 'id'], 'an exited parent is still known');
  t.observe({ type: 'exec', pid: 40, ppid: 41, comm: 'a' });
  t.observe({ type: 'exec', pid: 41, ppid: 40, comm: 'b' });
  assert.deepEqual(t.parents(40).map((p) => p.pid), [41], 'a loop (pid reuse) ends the chain');
});

test('bounded: exited processes go first', () => {
  const t = new ProcessTree({ max: 3, proc: () => undefined });
  for (const pid of [1, 2, 3]) t.observe({ type: 'exec', pid, ppid: 0, comm: `p${pid}` });
  t.observe({ type: 'exit', pid: 2 });
  t.observe({ type: 'exec', pid: 4, ppid: 0, comm: 'p4' });
  assert.equal(t.size, 3);
  assert.equal(t.get(2), undefined);
  assert.ok(t.get(1) && t.get(3) && t.get(4));
});

test('execs, an exit and a reused pid, in order; over the limit, exited processes go first', () => {
  const t = new ProcessTree({ max: 1000, proc: () => undefined });
  // Execs, then an exit and a new exec reusing a pid.
  for (let pid = 2; pid < 700; pid++) t.observe({ type: 'exec', pid, ppid: pid - 1, comm: `p${pid}` });
  t.observe({ type: 'exit', pid: 600 });
  t.observe({ type: 'exec', pid: 650, ppid: 2, comm: 'reused' });
  t.observe({ type: 'exec', pid: 'x', comm: 'no pid' });
  assert.equal(t.size, 698);
  assert.equal(t.get(650)?.comm, 'reused');
  assert.deepEqual(t.parents(650, 2).map((p) => p.comm), ['p2']);
  assert.deepEqual(t.parents(601, 2).map((p) => p.comm), ['p600', 'p599'], 'an exited parent is still known');
  // Over the limit, exited processes go first, then the oldest.
  for (let pid = 700; pid < 1100; pid++) t.observe({ type: 'exec', pid, ppid: 1, comm: `q${pid}` });
  assert.ok(t.size <= 1000);
  assert.equal(t.get(600), undefined);
  assert.ok(t.get(1099) && t.get(650));
});

test('a process never seen exec is read from /proc while it lives', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await once(child, 'spawn');
  try {
    const n = readProc(child.pid!);
    assert.deepEqual(n, { pid: child.pid, ppid: process.pid, comm: 'sleep', args: ['sleep', '30'] });
    const t = new ProcessTree();
    assert.equal(t.parents(child.pid!)[0]?.pid, process.pid);
  } finally {
    child.kill();
  }
  assert.equal(readProc(2 ** 22 + 1), undefined);
});
