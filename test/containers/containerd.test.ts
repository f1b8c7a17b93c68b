/**
 * ContainerdClient against the real containerd (scripts/test-env.sh starts it), in CRI's
 * namespace "k8s.io" with unique 64-hex ids, the way CRI names containers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ContainerdClient } from '../../src/containers/containerd.js';
import { LazyContainerdClient } from '../../src/containers/containerd-lazy.js';
import { DockerClient } from '../../src/containers/docker.js';
import { ContainerResolver } from '../../src/containers/resolver.js';
import { cgroupIdOfPid } from '../../src/containers/cgroup.js';
import type { RuntimeEvent } from '../../src/containers/types.js';
import { isEunomiaError } from '../../src/core/errors.js';

const NS = 'k8s.io';
/** What `docker save eunomia-test/busybox:4 | ctr import` names the image. */
const IMAGE = 'docker.io/eunomia-test/busybox:4';
const CRI_LABELS = [
  'io.kubernetes.pod.name=web-0',
  'io.kubernetes.pod.namespace=shop',
  'io.kubernetes.container.name=app',
  'io.cri-containerd.kind=container',
];

function ctr(...args: string[]): string {
  try {
    return execFileSync('ctr', ['-n', NS, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ctr ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

const newId = (): string => randomBytes(32).toString('hex');
const labelArgs = (labels: string[]): string[] => labels.flatMap((l) => ['--label', l]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kills and removes containers, ignoring the ones already gone. */
function removeAll(ids: Iterable<string>): void {
  for (const id of ids) {
    for (const args of [['task', 'kill', '-s', 'KILL', id], ['task', 'rm', '-f', id], ['container', 'rm', id]]) {
      spawnSync('ctr', ['-n', NS, ...args], { stdio: 'ignore', timeout: 30_000 });
    }
  }
}

/** Host pid of a running task, from `ctr task ls` (TASK PID STATUS). */
function taskPid(id: string): number {
  const line = ctr('task', 'ls').split('\n').find((l) => l.startsWith(id));
  assert.ok(line, `no task ${id} in ctr task ls`);
  return Number(line.split(/\s+/)[1]);
}

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root to use containerd';
  const client = new ContainerdClient({ timeoutMs: 3000 });
  try {
    await client.ping();
  } catch {
    return 'containerd does not answer on /run/containerd/containerd.sock (run scripts/test-env.sh as root)';
  } finally {
    client.close();
  }
  return false;
}

const skip = await skipReason();

test('ping on a missing socket fails with E_RUNTIME naming the socket', async () => {
  const socket = `/tmp/eunomia-no-such-${process.pid}.sock`;
  const client = new ContainerdClient({ socket, timeoutMs: 2000 });
  await assert.rejects(client.ping(), (e: unknown) => {
    assert.ok(isEunomiaError(e, 'E_RUNTIME'), String(e));
    assert.match(e.message, new RegExp(socket.replace(/\./g, '\\.')));
    return true;
  });
  client.close();
});

test('watch on a missing socket: done rejects with E_RUNTIME', async () => {
  const client = new ContainerdClient({ socket: `/tmp/eunomia-no-such-${process.pid}.sock` });
  const w = client.watch(() => assert.fail('no event expected'));
  await assert.rejects(w.done, (e: unknown) => isEunomiaError(e, 'E_RUNTIME'));
  w.close(); // harmless after the end
  client.close();
});

describe('ContainerdClient (real containerd)', { skip }, () => {
  const client = new ContainerdClient();
  const created = new Set<string>();
  const run = (id: string, extra: string[] = []): void => {
    created.add(id);
    ctr('run', '-d', ...extra, IMAGE, id, 'sleep', '3600');
  };

  before(() => {
    // No registry: bring the Docker test image into containerd's k8s.io namespace once. It is
    // left there afterwards (other runs may use it; re-importing is cheap).
    if (!ctr('images', 'ls', '-q').split('\n').includes(IMAGE)) {
      execSync(`docker save eunomia-test/busybox:4 | ctr -n ${NS} images import -`, { stdio: 'pipe', timeout: 120_000 });
    }
  });
  after(() => {
    removeAll(created);
    client.close();
  });

  test('ping answers', async () => {
    await client.ping();
  });

  test('list reports a CRI-labelled container with its task state, pid and k8s identity', async () => {
    const id = newId();
    run(id, labelArgs(CRI_LABELS));
    const pid = taskPid(id);
    const c = (await client.list()).find((x) => x.id === id);
    assert.ok(c, 'container not listed');
    assert.equal(c.runtime, 'containerd');
    assert.equal(c.name, 'app');
    assert.equal(c.image, IMAGE);
    assert.equal(c.state, 'running');
    assert.equal(c.pid, pid);
    assert.equal(c.privileged, false);
    assert.equal(c.labels['io.kubernetes.pod.name'], 'web-0');
    assert.deepEqual(c.k8s, { namespace: 'shop', pod: 'web-0', container: 'app' });
    assert.deepEqual(await client.inspect(id), c);
  });

  test('list skips CRI sandboxes; a container without a task has state unknown and no pid', async () => {
    const sandbox = newId();
    const plain = newId();
    created.add(sandbox).add(plain);
    ctr('container', 'create', ...labelArgs(['io.cri-containerd.kind=sandbox']), IMAGE, sandbox, 'sleep', '3600');
    ctr('container', 'create', IMAGE, plain, 'sleep', '3600');
    const ids = (await client.list()).map((c) => c.id);
    assert.ok(!ids.includes(sandbox), 'sandbox listed');
    assert.ok(ids.includes(plain), 'plain container not listed');
    const c = await client.inspect(plain);
    assert.equal(c?.state, 'unknown');
    assert.equal(c?.pid, undefined);
    assert.equal(c?.name, plain, 'no CRI name label: the id is the name');
    assert.equal(c?.k8s, undefined);
  });

  test('privileged comes from the OCI spec', async () => {
    const id = newId();
    run(id, ['--privileged']);
    assert.equal((await client.inspect(id))?.privileged, true);
  });

  test('inspect of an unknown id is undefined', async () => {
    assert.equal(await client.inspect(newId()), undefined);
  });

  test('on demand (the agent): containerd is connected only once a container Docker does not know shows up', async () => {
    // Running before the resolver starts: its cgroup scan finds it (no kernel watcher here).
    const id = newId();
    run(id, labelArgs(CRI_LABELS));
    const lines: string[] = [];
    const resolver = new ContainerResolver({ clients: [new DockerClient({ socket: '/run/docker.sock', runtime: 'docker' }), new LazyContainerdClient('/run/containerd/containerd.sock', [NS], true)], log: (l) => lines.push(l) });
    try {
      await resolver.start();
      assert.ok(!resolver.runtimes().includes('containerd'), 'not connected at start');
      const cg = cgroupIdOfPid(taskPid(id));
      assert.ok(cg, 'the task has a v2 cgroup');
      assert.equal(resolver.containerOfCgroup(cg), id, 'the id from the cgroup path');
      const info = await resolver.waitFor(id, 10_000);
      assert.equal(info?.name, 'app');
      assert.equal(info?.runtime, 'containerd');
      assert.deepEqual(info?.k8s, { namespace: 'shop', pod: 'web-0', container: 'app' });
      assert.ok(resolver.runtimes().includes('containerd'));
      assert.match(lines.join('\n'), /no connected runtime knows .*: connecting containerd/);
    } finally {
      resolver.close();
    }
  });

  test('watch reports create, start, die, destroy; close() ends done', async () => {
    const events: RuntimeEvent[] = [];
    const w = client.watch((ev) => events.push(ev));
    // The subscription has no "ready" signal: give containerd a moment to register it.
    await sleep(1000);
    const id = newId();
    const t0 = Date.now();
    run(id, labelArgs(CRI_LABELS));
    const mine = (): RuntimeEvent[] => events.filter((e) => e.id === id);
    await waitFor('start event', () => mine().some((e) => e.action === 'start'));
    ctr('task', 'kill', '-s', 'KILL', id);
    await waitFor('die event', () => mine().some((e) => e.action === 'die'));
    ctr('task', 'rm', id);
    ctr('container', 'rm', id);
    await waitFor('destroy event', () => mine().some((e) => e.action === 'destroy'));
    w.close();
    await w.done;

    assert.deepEqual(mine().map((e) => e.action), ['create', 'start', 'die', 'destroy']);
    const [create, start] = mine();
    assert.equal(create.info?.image, IMAGE);
    assert.ok((start.info?.pid ?? 0) > 0, 'start carries the pid');
    for (const e of mine()) assert.ok(e.time >= t0 - 1000 && e.time <= Date.now() + 1000, `time ${e.time}`);
  });

  test('close() right away resolves done', async () => {
    const w = client.watch(() => {});
    w.close();
    await w.done;
  });
});
