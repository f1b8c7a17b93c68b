/** Container ids from cgroup paths, filter options, and the enrichment stage's ordering. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cgroup2Root, containerFromPath } from '../../src/containers/cgroup.js';
import { enrichHandler } from '../../src/containers/enrich.js';
import { k8sFromLabels } from '../../src/containers/k8s.js';
import { ContainerResolver } from '../../src/containers/resolver.js';
import { containerScope, FilterMode, kernelPrefix, selects } from '../../src/runtime/scope.js';
import type { ContainerInfo, RuntimeClient, RuntimeEvent, RuntimeName, RuntimeWatch } from '../../src/containers/types.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

const ID = 'b3d9a5f050c54152f3f7a105ef6b71d154098e7030b22ce1de9a14eba2ac4f3e';
const ID2 = 'ec50adbf1885c978da3b636f98453940f006b05aacfaa6ed7bad8973e718fb75';

describe('container ids from cgroup paths', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    [`/docker/${ID}`, ID, 'docker'], // cgroupfs driver (this machine)
    [`/system.slice/docker-${ID}.scope`, ID, 'docker'], // systemd driver
    [`/docker/${ID}/init.scope`, ID, 'docker'], // a sub-cgroup made inside the container
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b6f7a2e_1111.slice/cri-containerd-${ID}.scope`, ID, 'containerd'],
    [`/kubepods/besteffort/pod0b6f7a2e-1111-4c3d-9e8f-123456789abc/${ID}`, ID, undefined], // cgroupfs kubelet: runtime unknown from the path
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podabc.slice/crio-${ID}.scope`, ID, 'cri-o'],
    [`/machine.slice/libpod-${ID}.scope/container`, ID, 'podman'],
    [`/libpod_parent/libpod-${ID}`, ID, 'podman'], // Podman's cgroupfs manager, runc or crun (this machine: test/containers/podman.test.ts, crun.test.ts)
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, ID, 'podman'], // rootless Podman (systemd, cgroup v2)
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, ID, 'podman'], // the same, crun's sub-cgroup
    [`/k8s.io/${ID}`, ID, 'containerd'], // containerd without CRI (ctr -n k8s.io run)
    ['/', undefined, undefined],
    ['/system.slice/ssh.service', undefined, undefined],
    ['/user.slice/user-0.slice/session-3.scope', undefined, undefined],
    [`/docker/${ID}0`, undefined, undefined], // 65 hex digits: not an id
    [`/docker/${ID.slice(1)}`, undefined, undefined], // 63
  ];
  for (const [path, id, runtime] of cases) {
    test(path, () => {
      const c = containerFromPath(path);
      assert.equal(c?.id, id);
      assert.equal(c?.runtime, runtime);
    });
  }

  test('the v2 hierarchy is found in mountinfo, hybrid or pure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-mi-'));
    const hybrid = join(dir, 'hybrid');
    writeFileSync(hybrid, [
      '30 23 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
      '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
      '32 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    ].join('\n'));
    assert.equal(cgroup2Root(hybrid), '/sys/fs/cgroup/unified');
    const pure = join(dir, 'pure');
    writeFileSync(pure, '25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n');
    assert.equal(cgroup2Root(pure), '/sys/fs/cgroup');
    const v1 = join(dir, 'v1');
    writeFileSync(v1, '32 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n');
    assert.equal(cgroup2Root(v1), undefined);
    assert.equal(cgroup2Root(join(dir, 'missing')), undefined);
  });
});

describe('container filter options', () => {
  test('modes, and exclusive choices named', () => {
    assert.equal(containerScope('t', {}).mode, FilterMode.OFF);
    assert.deepEqual(containerScope('t', { container: 'web, /db' }), { mode: FilterMode.WANTED, selectors: ['web', 'db'] });
    assert.equal(containerScope('t', { hostOnly: true }).mode, FilterMode.HOST);
    assert.equal(containerScope('t', { containersOnly: true }).mode, FilterMode.CONTAINERS);
    assert.throws(() => containerScope('t', { hostOnly: true, containersOnly: true }), /--host-only and --containers-only exclude each other/);
    assert.throws(() => containerScope('t', { container: 'web', containersOnly: true }), /--container and --containers-only/);
    assert.throws(() => containerScope('t', { container: 'a b' }), /"a b" is neither a container id nor a container name/);
  });

  test('selectors: name, id prefix; ids of 12+ digits match in the kernel', () => {
    assert.ok(selects('web', { id: ID, name: 'web' }));
    assert.ok(selects('b3d9', { id: ID, name: 'web' }));
    assert.ok(!selects('we', { id: ID, name: 'web' }));
    assert.ok(!selects('ec50', { id: ID, name: 'web' }));
    assert.equal(kernelPrefix(ID), ID.slice(0, 12));
    assert.equal(kernelPrefix('b3d9a5f050c5'), 'b3d9a5f050c5');
    assert.equal(kernelPrefix('b3d9a5'), undefined);
    assert.equal(kernelPrefix('web'), undefined);
  });

  test('Kubernetes identity from CRI labels', () => {
    assert.deepEqual(k8sFromLabels({ 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', other: 'x' }), { pod: 'web-0', namespace: 'shop' });
    assert.equal(k8sFromLabels({ app: 'web' }), undefined);
  });
});

/** A runtime that answers from memory, so the enrichment's waiting can be driven step by step. */
class MemoryRuntime implements RuntimeClient {
  readonly socket = '/memory';
  readonly containers = new Map<string, ContainerInfo>();
  inspectGate: Promise<void> = Promise.resolve();
  pings = 0;
  private listener?: (ev: RuntimeEvent) => void;
  constructor(
    readonly runtime: RuntimeName = 'docker',
    readonly onDemand = false,
  ) {}
  async ping(): Promise<void> {
    this.pings++;
  }
  async list(): Promise<ContainerInfo[]> {
    return [...this.containers.values()];
  }
  async inspect(id: string): Promise<ContainerInfo | undefined> {
    await this.inspectGate;
    return this.containers.get(id);
  }
  watch(onEvent: (ev: RuntimeEvent) => void): RuntimeWatch {
    this.listener = onEvent;
    return { close: () => {}, done: new Promise(() => {}) };
  }
  announce(ev: RuntimeEvent): void {
    this.listener?.(ev);
  }
}

const info = (id: string, name: string): ContainerInfo => ({ id, name, image: 'img:1', runtime: 'docker', labels: {}, state: 'running', privileged: false });
const ev = (cgroup: number, n: number): TrackerEvent => ({ tracker: 't', instance: 1, time: n, data: { cgroup_id: cgroup, n } });

describe('enrichment', () => {
  // cgroup 10: host; 11: a known container; 12: a container the runtime has not named yet.
  const kernel = { containerOf: (cg: number) => (cg === 11 ? ID : cg === 12 ? ID2 : undefined) };

  test('known containers and the host pass at once; an unnamed container holds what follows, in order', async () => {
    const rt = new MemoryRuntime();
    rt.containers.set(ID, info(ID, 'web'));
    let release!: () => void;
    rt.inspectGate = new Promise((r) => (release = r));
    const resolver = new ContainerResolver({ clients: [rt], watcher: kernel, cgroupRoot: '/nonexistent' });
    await resolver.start();
    const h = enrichHandler(resolver, { waitMs: 5000 });
    const out: TrackerEvent[] = [];
    const next = (e: TrackerEvent): void => void out.push(e);
    h.handle(ev(10, 1), next);
    h.handle(ev(11, 2), next);
    assert.deepEqual(out.map((e) => e.data.n), [1, 2]);
    assert.equal((out[0]!.data.container as { name: string }).name, 'host');
    assert.deepEqual(out[1]!.data.container, { id: ID.slice(0, 12), full_id: ID, name: 'web', image: 'img:1', runtime: 'docker' });

    rt.containers.set(ID2, info(ID2, 'fresh'));
    h.handle(ev(12, 3), next); // unnamed: waits
    h.handle(ev(10, 4), next); // behind it: waits too
    h.handle({ tracker: 't', instance: 1, time: 5, data: { n: 5 } }, next); // no cgroup: waits, gets nothing
    assert.deepEqual(out.map((e) => e.data.n), [1, 2]);
    assert.equal(h.stats().pending, 3);
    release(); // the runtime answers
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(out.map((e) => e.data.n), [1, 2, 3, 4, 5]);
    assert.equal((out[2]!.data.container as { name: string }).name, 'fresh');
    assert.equal(out[4]!.data.container, undefined);
    assert.deepEqual(h.stats(), { inContainers: 2, waited: 1, withoutName: 0, runtimeSetup: 0, pending: 0 });
    resolver.close();
  });

  test('the create event’s name alone does not end the wait: the full record (privileges, mounts) is awaited, up to the limit', async () => {
    const rt = new MemoryRuntime();
    rt.inspectGate = new Promise(() => {}); // inspect never answers
    const resolver = new ContainerResolver({ clients: [rt], watcher: kernel, cgroupRoot: '/nonexistent' });
    await resolver.start();
    const h = enrichHandler(resolver, { waitMs: 150 });
    const out: TrackerEvent[] = [];
    h.handle(ev(12, 1), (e) => void out.push(e));
    assert.equal(out.length, 0);
    rt.announce({ action: 'create', id: ID2, time: Date.now(), info: { name: 'fresh', image: 'img:2', labels: { 'io.kubernetes.pod.name': 'p' } } });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(out.length, 0, 'still waiting for the inspect: rules read privileges and mounts at the first exec');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(out.length, 1, 'the limit passed: on with what the event said');
    assert.deepEqual(out[0]!.data.container, { id: ID2.slice(0, 12), full_id: ID2, name: 'fresh', image: 'img:2', runtime: 'docker' });
    assert.deepEqual(out[0]!.data.k8s, { pod: 'p' });
    resolver.close();
  });

  test('a container never named goes on after the wait, counted; with no runtime nothing waits', async () => {
    const rt = new MemoryRuntime();
    const resolver = new ContainerResolver({ clients: [rt], watcher: kernel, cgroupRoot: '/nonexistent' });
    await resolver.start();
    const h = enrichHandler(resolver, { waitMs: 30 });
    const out: TrackerEvent[] = [];
    h.handle(ev(12, 1), (e) => void out.push(e));
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.data.container, { id: ID2.slice(0, 12), full_id: ID2, name: '' });
    assert.equal(h.stats().withoutName, 1);
    resolver.close();

    const alone = new ContainerResolver({ clients: [], watcher: kernel, cgroupRoot: '/nonexistent' });
    const h2 = enrichHandler(alone);
    const out2: TrackerEvent[] = [];
    h2.handle(ev(12, 1), (e) => void out2.push(e));
    assert.equal(out2.length, 1, 'no runtime: the id alone, at once');
    alone.close();
  });

  test('an on-demand runtime is asked only once a container the others do not know appears', async () => {
    const docker = new MemoryRuntime();
    docker.containers.set(ID, info(ID, 'web'));
    const containerd = new MemoryRuntime('containerd', true);
    containerd.containers.set(ID2, { ...info(ID2, 'pod-app'), runtime: 'containerd' });
    const lines: string[] = [];
    const resolver = new ContainerResolver({ clients: [docker, containerd], watcher: kernel, cgroupRoot: '/nonexistent', log: (l) => lines.push(l) });
    await resolver.start();
    const h = enrichHandler(resolver, { waitMs: 5000 });
    const out: TrackerEvent[] = [];
    h.handle(ev(11, 1), (e) => void out.push(e));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([docker.pings, containerd.pings], [1, 0], "Docker's container: containerd is not asked");
    assert.deepEqual(resolver.runtimes(), ['docker']);
    h.handle(ev(12, 2), (e) => void out.push(e));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(containerd.pings, 1, 'a container Docker does not know: containerd is connected');
    assert.deepEqual(out.map((e) => (e.data.container as { name: string }).name), ['web', 'pod-app']);
    assert.deepEqual(resolver.runtimes(), ['docker', 'containerd']);
    assert.match(lines.join('\n'), /no connected runtime knows \(\w{12}\): connecting containerd at \/memory/);
    resolver.close();

    // Only an on-demand runtime: a container's events still wait for it.
    const only = new MemoryRuntime('containerd', true);
    only.containers.set(ID2, { ...info(ID2, 'pod-app'), runtime: 'containerd' });
    const r2 = new ContainerResolver({ clients: [only], watcher: kernel, cgroupRoot: '/nonexistent' });
    await r2.start();
    const h2 = enrichHandler(r2, { waitMs: 5000 });
    const out2: TrackerEvent[] = [];
    h2.handle(ev(12, 1), (e) => void out2.push(e));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((out2[0]?.data.container as { name: string } | undefined)?.name, 'pod-app');
    r2.close();
  });

  test('a full queue lets the oldest go on rather than drop anything', async () => {
    const rt = new MemoryRuntime();
    rt.inspectGate = new Promise(() => {});
    const resolver = new ContainerResolver({ clients: [rt], watcher: kernel, cgroupRoot: '/nonexistent' });
    await resolver.start();
    const h = enrichHandler(resolver, { waitMs: 60_000, maxPending: 3 });
    const out: TrackerEvent[] = [];
    for (let i = 1; i <= 5; i++) h.handle(ev(12, i), (e) => void out.push(e));
    assert.deepEqual(out.map((e) => e.data.n), [1, 2]);
    await h.close!();
    assert.deepEqual(out.map((e) => e.data.n), [1, 2, 3, 4, 5], 'close() sends the rest');
    resolver.close();
  });
});
