/**
 * Events attributed to containers, on the real kernel with a real Docker engine: process,
 * opensnoop and tcpconnect events carry the right container; containers started after
 * Eunomia, containers that live a few milliseconds, Kubernetes labels, and the in-kernel
 * container filters.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ContainerdClient } from '../../src/containers/containerd.js';
import { DockerClient } from '../../src/containers/docker.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { opensnoopTracker } from '../../src/trackers/opensnoop/index.js';
import { processTracker } from '../../src/trackers/process/index.js';
import { tcpconnectTracker } from '../../src/trackers/tcpconnect/index.js';
import { docker, dockerAsync, needsDocker, removeContainers, startSleeper, TEST_IMAGE, uniqueName } from '../docker.js';
import { KernelWatch, NOTHING_LEFT } from '../helpers.js';
import { containerOf, Rig } from './rig.js';

const execFileAsync = promisify(execFile);

const execs = (events: TrackerEvent[], name: string): TrackerEvent[] =>
  events.filter((e) => e.tracker === 'process' && e.data.type === 'exec' && containerOf(e)?.name === name);

describe('container attribution', { skip: needsDocker }, () => {
  let rig: Rig;
  const watch = new KernelWatch();
  const names: string[] = [];
  let before1: string; // a container that exists before Eunomia starts
  let before1Id: string;

  before(async () => {
    before1 = uniqueName('before');
    names.push(before1);
    before1Id = startSleeper(before1, ['--label', 'team=payments']);
    // containerd explicitly: by default it is used only on hosts that look like Kubernetes nodes.
    rig = await Rig.start(watch, [new DockerClient(), new ContainerdClient()]);
  });

  after(async () => {
    await rig?.close();
    removeContainers(...names);
    assert.ok(watch.seen.progs.size >= 5, 'the watcher and trackers were noted');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('the resolver knows the running containers and their cgroups at start', () => {
    const info = rig.containers.resolver.get(before1Id);
    assert.ok(info, `resolver lists ${before1}`);
    assert.equal(info.name, before1);
    assert.equal(info.image, TEST_IMAGE);
    assert.equal(info.labels.team, 'payments');
    assert.ok(rig.containers.resolver.cgroupsOf(before1Id).length >= 1, 'its cgroup v2 id is known');
  });

  test('docker exec in a container that predates Eunomia: process and opensnoop events carry id, name and image', async () => {
    const proc = rig.track(processTracker);
    const open = rig.track(opensnoopTracker);
    try {
      await dockerAsync('exec', before1, 'cat', '/etc/passwd');
      const ok = await rig.until((ev) => execs(ev, before1).some((e) => e.data.comm === 'cat') && ev.some((e) => e.tracker === 'opensnoop' && containerOf(e)?.name === before1 && e.data.path === '/etc/passwd'));
      assert.ok(ok, 'saw the exec and the open from the container');
      const exec = execs(rig.events, before1).find((e) => e.data.comm === 'cat')!;
      assert.deepEqual(containerOf(exec), { id: before1Id.slice(0, 12), full_id: before1Id, name: before1, image: TEST_IMAGE, runtime: 'docker' });
      const opened = rig.events.find((e) => e.tracker === 'opensnoop' && e.data.path === '/etc/passwd' && containerOf(e)?.name === before1)!;
      assert.equal(containerOf(opened)!.full_id, before1Id);
      // The docker CLI itself runs on the host.
      const cli = rig.events.find((e) => e.tracker === 'process' && e.data.type === 'exec' && e.data.comm === 'docker');
      assert.ok(cli, 'saw the docker CLI');
      assert.deepEqual(containerOf(cli), { id: 'host', full_id: 'host', name: 'host' });
    } finally {
      await rig.manager.stop(proc.id);
      await rig.manager.stop(open.id);
    }
  });

  test('tcpconnect events from a container carry its name', async (t) => {
    const server: Server = createServer((c) => c.on('error', () => {}).end());
    server.listen(0, '0.0.0.0');
    await once(server, 'listening');
    t.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    // The container's own view: Docker 20.10 leaves the bridge network's IPAM Gateway empty
    // unless it was configured, which made this test connect to nowhere on a fresh machine.
    const gateway = docker('inspect', '-f', '{{.NetworkSettings.Gateway}}', before1);
    assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/, 'the container has a gateway');
    const tcp = rig.track(tcpconnectTracker);
    try {
      await dockerAsync('exec', before1, 'sh', '-c', `echo hi | nc -w 2 ${gateway} ${port}`);
      const ok = await rig.until((ev) => ev.some((e) => e.tracker === 'tcpconnect' && e.data.dport === port && containerOf(e)?.name === before1));
      assert.ok(ok, `saw the connect to ${gateway}:${port} from ${before1}`);
      const ev = rig.events.find((e) => e.tracker === 'tcpconnect' && e.data.dport === port)!;
      assert.equal(ev.data.daddr, gateway);
      assert.equal(containerOf(ev)!.image, TEST_IMAGE);
    } finally {
      await rig.manager.stop(tcp.id);
    }
  });

  test('a container started after Eunomia, and one living a few ms: every event carries the name', async () => {
    const proc = rig.track(processTracker);
    const later = uniqueName('later');
    const brief = uniqueName('brief');
    names.push(later, brief);
    try {
      await dockerAsync('run', '--rm', '--name', later, '--label', 'io.kubernetes.pod.name=web-0', '--label', 'io.kubernetes.pod.namespace=shop', '--label', 'io.kubernetes.pod.uid=0b6f7a2e-1111-4c3d-9e8f-123456789abc', '--label', 'io.kubernetes.container.name=app', TEST_IMAGE, 'sh', '-c', 'ls / > /dev/null; cat /etc/passwd > /dev/null');
      await dockerAsync('run', '--rm', '--name', brief, TEST_IMAGE, 'true');
      const ok = await rig.until((ev) => execs(ev, later).some((e) => e.data.comm === 'sh') && execs(ev, brief).length > 0);
      assert.ok(ok, 'saw the execs of both containers');
      // Every event from those cgroups, exits included, has the name: none went out unnamed.
      const fromLater = rig.events.filter((e) => containerOf(e)?.full_id !== 'host' && containerOf(e)?.name === later);
      const unnamed = rig.events.filter((e) => containerOf(e) && containerOf(e)!.id !== 'host' && !containerOf(e)!.name);
      assert.deepEqual(unnamed.map((e) => e.data), [], 'no container event without a name');
      const pod = fromLater[0]!.data.k8s;
      assert.deepEqual(pod, { namespace: 'shop', pod: 'web-0', pod_uid: '0b6f7a2e-1111-4c3d-9e8f-123456789abc', container: 'app' });
      const b = execs(rig.events, brief)[0]!;
      assert.equal(b.data.comm, 'true');
      assert.equal(containerOf(b)!.image, TEST_IMAGE);
    } finally {
      await rig.manager.stop(proc.id);
    }
  });

  test('--container passes that container’s events and no other’s, including a container started later', async () => {
    const other = uniqueName('other');
    const wanted = uniqueName('wanted');
    names.push(other, wanted);
    startSleeper(other);
    const proc = rig.track(processTracker, { container: wanted });
    try {
      assert.deepEqual(proc.unmatchedContainers, [wanted], 'not started yet');
      // Asynchronously, as a real agent runs: it learns the name from Docker's create event.
      await dockerAsync('run', '-d', '--name', wanted, TEST_IMAGE, 'sleep', '3600');
      await dockerAsync('exec', wanted, 'ls', '/');
      await dockerAsync('exec', other, 'ls', '/');
      await dockerAsync('exec', before1, 'ls', '/');
      await dockerAsync('exec', wanted, 'cat', '/etc/passwd');
      const ok = await rig.until((ev) => execs(ev, wanted).some((e) => e.data.comm === 'cat'));
      assert.ok(ok, 'saw the wanted container');
      const seen = rig.events.filter((e) => e.instance === proc.id);
      // The runtime's work in the container's cgroup (runc init before the exec) passes the
      // filter too, attributed to the runtime: the host, with `setup` naming the container.
      const names = new Set(seen.map((e) => containerOf(e)?.setup?.name ?? containerOf(e)?.name));
      assert.deepEqual([...names], [wanted], 'only the wanted container (and the runtime setting it up), not the host, not the others');
      assert.ok(seen.every((e) => containerOf(e)?.id !== 'host' || containerOf(e)?.setup), 'no host event without setup');
      // Its first process (sleep) was filtered through from its first exec.
      assert.ok(execs(seen, wanted).some((e) => e.data.comm === 'sleep'), 'the container’s first exec passed');
    } finally {
      await rig.manager.stop(proc.id);
    }
  });

  test('--container by id prefix; --host-only and --containers-only', async () => {
    const byId = rig.track(processTracker, { container: before1Id.slice(0, 12) });
    const hostOnly = rig.track(processTracker, { hostOnly: true });
    const containersOnly = rig.track(processTracker, { containersOnly: true });
    try {
      await dockerAsync('exec', before1, 'cat', '/etc/hostname');
      const ok = await rig.until((ev) => [byId, containersOnly].every((i) => ev.some((e) => e.instance === i.id && e.data.comm === 'cat')) && ev.some((e) => e.instance === hostOnly.id && e.data.comm === 'docker'));
      assert.ok(ok, 'each instance saw its events');
      const of = (id: number): TrackerEvent[] => rig.events.filter((e) => e.instance === id);
      assert.ok(of(byId.id).every((e) => containerOf(e)?.full_id === before1Id));
      assert.ok(of(hostOnly.id).every((e) => containerOf(e)?.id === 'host'), 'host-only: host events only');
      assert.ok(!of(hostOnly.id).some((e) => e.data.comm === 'cat'));
      assert.ok(of(containersOnly.id).every((e) => containerOf(e)?.id !== 'host'), 'containers-only: no host events');
    } finally {
      await rig.manager.stop(byId.id);
      await rig.manager.stop(hostOnly.id);
      await rig.manager.stop(containersOnly.id);
    }
  });

  test('a Kubernetes container made through containerd (namespace k8s.io, CRI labels): name, pod and namespace from containerd', async (t) => {
    const id = randomBytes(32).toString('hex');
    const ctr = (...args: string[]): Promise<unknown> => execFileAsync('ctr', ['-n', 'k8s.io', ...args], { timeout: 60_000 });
    t.after(() => {
      for (const args of [['task', 'kill', '-s', 'KILL', id], ['task', 'rm', '-f', id], ['container', 'rm', id]]) spawnSync('ctr', ['-n', 'k8s.io', ...args], { stdio: 'ignore' });
    });
    const proc = rig.track(processTracker);
    try {
      await ctr('run', '-d', '--label', 'io.kubernetes.pod.name=api-7', '--label', 'io.kubernetes.pod.namespace=prod', '--label', 'io.kubernetes.container.name=api', '--label', 'io.cri-containerd.kind=container', `docker.io/${TEST_IMAGE}`, id, 'sleep', '300');
      await ctr('task', 'exec', '--exec-id', `e${process.pid}`, id, 'cat', '/etc/passwd');
      const ok = await rig.until((ev) => ev.some((e) => e.data.type === 'exec' && e.data.comm === 'cat' && containerOf(e)?.full_id === id));
      assert.ok(ok, 'saw the exec in the containerd container');
      for (const e of rig.events.filter((x) => containerOf(x)?.full_id === id)) {
        assert.deepEqual(containerOf(e), { id: id.slice(0, 12), full_id: id, name: 'api', image: `docker.io/${TEST_IMAGE}`, runtime: 'containerd' });
        assert.deepEqual(e.data.k8s, { namespace: 'prod', pod: 'api-7', container: 'api' });
      }
    } finally {
      await rig.manager.stop(proc.id);
    }
  });

  test('container filter errors name the problem', () => {
    assert.throws(() => rig.track(processTracker, { container: 'web', hostOnly: true }), /--container and --host-only exclude each other/);
    assert.throws(() => rig.track(processTracker, { container: 'no such!' }), /"no such!" is neither a container id nor a container name/);
  });
});
