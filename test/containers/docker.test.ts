/**
 * DockerClient against the real engine (scripts/test-env.sh), and against fake daemons on a temp
 * unix socket for what a healthy engine never does: garbage, split lines, broken streams, silence.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerClient } from '../../src/containers/docker.js';
import type { RuntimeEvent, RuntimeWatch } from '../../src/containers/types.js';
import { isEunomiaError, ErrorCodes } from '../../src/core/errors.js';
import { TEST_IMAGE, docker, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';

const isRuntimeError = (socket: string, ...words: string[]) => (e: unknown): boolean => {
  assert.ok(isEunomiaError(e, ErrorCodes.RUNTIME), `expected E_RUNTIME, got ${String(e)}`);
  assert.ok(e.message.includes(socket), `message names the socket: ${e.message}`);
  for (const w of words) assert.ok(e.message.includes(w), `message has "${w}": ${e.message}`);
  return true;
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/**
 * A watch that is known to be receiving: the API gives no "subscribed" signal, so create throwaway
 * containers until one's create event arrives.
 */
async function liveWatch(client: DockerClient): Promise<{ w: RuntimeWatch; events: RuntimeEvent[] }> {
  const events: RuntimeEvent[] = [];
  const w = client.watch((e) => events.push(e));
  for (let i = 0; i < 20; i++) {
    const id = docker('create', '--name', uniqueName('warmup'), TEST_IMAGE, 'true');
    removeContainers(id);
    if (await until(() => events.some((e) => e.id === id), 500)) return { w, events };
  }
  w.close();
  throw new Error('the event stream never delivered a warm-up event');
}

interface FakeDaemon {
  socket: string;
  close(): Promise<void>;
}

/** node:http on a temp unix socket, playing the daemon. */
async function fakeDaemon(handler: http.RequestListener): Promise<FakeDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-fake-docker-'));
  const socket = join(dir, 'docker.sock');
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const event = (action: string, id: string, attrs: Record<string, string> = {}, type = 'container'): string =>
  JSON.stringify({ Type: type, Action: action, id, Actor: { ID: id, Attributes: attrs }, time: 1700000000, timeNano: 1700000000123456789 });

describe('DockerClient against the engine', { skip: needsDocker }, () => {
  const client = new DockerClient();

  test('ping answers', async () => {
    await client.ping();
  });

  test('list maps running and created containers, with pid and privileged', async (t) => {
    const plain = uniqueName('list');
    const capped = uniqueName('capadd');
    const created = uniqueName('created');
    t.after(() => removeContainers(plain, capped, created));
    const plainId = startSleeper(plain, ['--label', 'eunomia.test=list', '--label', 'tier=back end']);
    const cappedId = startSleeper(capped, ['--cap-add', 'SYS_ADMIN']);
    const createdId = docker('create', '--name', created, TEST_IMAGE, 'true');

    const all = await client.list();
    const byId = new Map(all.map((c) => [c.id, c]));

    const p = byId.get(plainId);
    assert.ok(p, 'the started container is listed');
    assert.equal(p.name, plain);
    assert.equal(p.image, TEST_IMAGE);
    assert.equal(p.runtime, 'docker');
    assert.equal(p.state, 'running');
    assert.equal(p.pid, Number(docker('inspect', '-f', '{{.State.Pid}}', plainId)));
    assert.ok(p.pid! > 0);
    assert.equal(p.labels['eunomia.test'], 'list');
    assert.equal(p.labels.tier, 'back end');
    assert.equal(p.privileged, false);
    assert.equal(p.k8s, undefined);
    assert.ok(!('k8s' in p), 'no k8s key for a plain container');

    const c = byId.get(cappedId);
    assert.ok(c);
    assert.equal(c.privileged, false, '--cap-add is not --privileged');
    assert.equal(c.state, 'running');

    const cr = byId.get(createdId);
    assert.ok(cr, 'containers that are not running are listed too');
    assert.equal(cr.state, 'created');
    assert.equal(cr.pid, undefined);
    assert.deepEqual(cr.labels, {});
  });

  test('Kubernetes labels come out as k8s', async (t) => {
    const name = uniqueName('k8s');
    t.after(() => removeContainers(name));
    const uid = '0b8f5c1e-2d3a-4c5b-9e6f-7a8b9c0d1e2f';
    const id = startSleeper(name, [
      '--label', 'io.kubernetes.pod.name=web-0',
      '--label', 'io.kubernetes.pod.namespace=shop',
      '--label', `io.kubernetes.pod.uid=${uid}`,
      '--label', 'io.kubernetes.container.name=app',
    ]);
    const expected = { pod: 'web-0', namespace: 'shop', podUid: uid, container: 'app' };
    assert.deepEqual((await client.inspect(id))?.k8s, expected);
    assert.deepEqual((await client.list()).find((c) => c.id === id)?.k8s, expected);
  });

  test('inspect of an unknown id is undefined', async () => {
    assert.equal(await client.inspect('f'.repeat(64)), undefined);
    assert.equal(await client.inspect('no-such-container-eunomia'), undefined);
  });

  test('watch sees create, start, die, destroy of docker run --rm, in order', async (t) => {
    const name = uniqueName('watch');
    t.after(() => removeContainers(name));
    const { w, events } = await liveWatch(client);
    t.after(() => w.close());

    const before = Date.now();
    docker('run', '--rm', '--name', name, '--label', 'eunomia.test=watch', TEST_IMAGE, 'true');
    assert.ok(await until(() => events.some((e) => e.info?.name === name && e.action === 'destroy'), 10_000), 'destroy seen');

    const mine = events.filter((e) => e.info?.name === name);
    assert.deepEqual(mine.map((e) => e.action), ['create', 'start', 'die', 'destroy']);
    assert.equal(new Set(mine.map((e) => e.id)).size, 1);
    assert.match(mine[0]!.id, /^[0-9a-f]{64}$/);
    for (const e of mine) {
      assert.equal(e.info?.image, TEST_IMAGE);
      assert.deepEqual(e.info?.labels, { 'eunomia.test': 'watch' }, 'labels only: no name/image/exitCode');
      assert.ok(e.time >= before - 2000 && e.time <= Date.now() + 2000, `time in ms: ${e.time}`);
    }
    assert.equal(client.malformedEvents, 0);

    w.close();
    await w.done;
  });

  test('close() resolves done and stops delivery', async (t) => {
    const { w, events } = await liveWatch(client);
    w.close();
    await w.done;
    const n = events.length;
    const id = docker('create', '--name', uniqueName('afterclose'), TEST_IMAGE, 'true');
    t.after(() => removeContainers(id));
    await sleep(300);
    assert.equal(events.length, n);
  });
});

describe('DockerClient failures', () => {
  test('ping on a missing socket is E_RUNTIME naming the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-nosock-'));
    try {
      const socket = join(dir, 'docker.sock');
      await assert.rejects(new DockerClient({ socket }).ping(), isRuntimeError(socket, 'ENOENT', 'dockerd'));
      await assert.rejects(new DockerClient({ socket, runtime: 'podman' }).list(), isRuntimeError(socket, 'Podman', 'podman.socket'));
      const w = new DockerClient({ socket }).watch(() => assert.fail('no events'));
      await assert.rejects(w.done, isRuntimeError(socket, 'ENOENT'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('event stream: garbage lines counted and skipped, split and batched objects delivered', async (t) => {
    const id1 = 'a'.repeat(64);
    const id2 = 'b'.repeat(64);
    const id3 = 'c'.repeat(64);
    const fake = await fakeDaemon(async (req, res) => {
      assert.equal(req.url, `/v1.41/events?filters=${encodeURIComponent('{"type":["container"]}')}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      const split = event('start', id1, { name: 'web', image: 'nginx:1', exitCode: '0', 'app': 'shop', 'io.kubernetes.pod.name': 'web-0' });
      const chunks = [
        'not json at all\n',
        '{"Action": "create", \n', // a broken object, then a clean one on the next line
        `${split.slice(0, 25)}`,
        `${split.slice(25)}\n${event('exec_start: sh -c true', id1)}\n${event('die', id2, { name: 'x' })}\n`,
        `${event('kill', id2)}\n${event('create', id2, {}, 'image')}\n[1,2]\n\n`,
        // Podman's compat stream says "remove" and puts containerExitCode/podId among the attributes.
        `${JSON.stringify({ Type: 'container', Action: 'remove', Actor: { ID: id3, Attributes: { name: 'p', containerExitCode: '0', podId: '', l: 'v' } }, time: 1700000001 })}\n`,
        `${event('rename', id1, { name: 'web2', oldName: '/web' })}`, // last line without its newline
      ];
      for (const c of chunks) {
        res.write(c);
        await sleep(15);
      }
      res.end();
    });
    t.after(() => fake.close());

    const client = new DockerClient({ socket: fake.socket });
    const events: RuntimeEvent[] = [];
    const w = client.watch((e) => events.push(e));
    await w.done; // the fake ends the stream cleanly

    assert.deepEqual(events.map((e) => [e.action, e.id]), [['start', id1], ['die', id2], ['destroy', id3], ['rename', id1]]);
    assert.equal(client.malformedEvents, 3, 'the text, the broken object and [1,2]');
    const start = events[0]!;
    assert.equal(start.time, 1700000000123);
    assert.deepEqual(start.info, {
      runtime: 'docker',
      name: 'web',
      image: 'nginx:1',
      labels: { app: 'shop', 'io.kubernetes.pod.name': 'web-0' },
      k8s: { pod: 'web-0' },
    });
    assert.equal(events[2]!.time, 1700000001000, 'time*1000 without timeNano');
    assert.deepEqual(events[2]!.info?.labels, { l: 'v' });
    assert.equal(events[3]!.info?.name, 'web2');
  });

  test('event stream cut off by the daemon rejects done with E_RUNTIME', async (t) => {
    const fake = await fakeDaemon((_req, res) => {
      res.writeHead(200);
      res.write(`${event('start', 'd'.repeat(64))}\n`);
      setTimeout(() => res.socket?.destroy(), 50);
    });
    t.after(() => fake.close());
    const events: RuntimeEvent[] = [];
    const w = new DockerClient({ socket: fake.socket }).watch((e) => events.push(e));
    await assert.rejects(w.done, isRuntimeError(fake.socket, 'broke off'));
    assert.equal(events.length, 1);
  });

  test('an error thrown by onEvent ends the watch through done', async (t) => {
    const fake = await fakeDaemon((_req, res) => {
      res.writeHead(200);
      res.write(`${event('start', 'e'.repeat(64))}\n${event('die', 'e'.repeat(64))}\n`);
    });
    t.after(() => fake.close());
    let calls = 0;
    const w = new DockerClient({ socket: fake.socket }).watch(() => {
      calls++;
      throw new Error('consumer bug');
    });
    await assert.rejects(w.done, /consumer bug/);
    assert.equal(calls, 1);
  });

  test('malformed JSON and error statuses from the API are E_RUNTIME naming the endpoint', async (t) => {
    const fake = await fakeDaemon((req, res) => {
      if (req.url === '/v1.41/containers/json?all=true') res.end('[{"Id": "abc", ');
      else if (req.url?.startsWith('/v1.41/containers/bad/')) res.end('<html>');
      else if (req.url?.startsWith('/v1.41/containers/odd/')) res.end('[]');
      else if (req.url === '/v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D') {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"message":"client version 1.41 is too new"}');
      } else res.writeHead(500).end('{"message":"daemon on fire"}');
    });
    t.after(() => fake.close());
    const client = new DockerClient({ socket: fake.socket });
    await assert.rejects(client.list(), isRuntimeError(fake.socket, 'GET /containers/json', 'malformed JSON'));
    await assert.rejects(client.inspect('bad'), isRuntimeError(fake.socket, 'GET /containers/bad/json', 'malformed JSON'));
    await assert.rejects(client.inspect('odd'), isRuntimeError(fake.socket, 'GET /containers/odd/json', 'not a container'));
    await assert.rejects(client.ping(), isRuntimeError(fake.socket, '500', 'daemon on fire'));
    await assert.rejects(client.watch(() => undefined).done, isRuntimeError(fake.socket, '400', 'too new'));
  });

  test('a daemon that never answers times out', async (t) => {
    const fake = await fakeDaemon(() => undefined);
    t.after(() => fake.close());
    const client = new DockerClient({ socket: fake.socket, timeoutMs: 200 });
    await assert.rejects(client.ping(), isRuntimeError(fake.socket, 'no answer within 200 ms'));
    await assert.rejects(client.watch(() => undefined).done, isRuntimeError(fake.socket, 'no answer within 200 ms'));
  });
});
