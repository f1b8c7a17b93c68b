/**
 * The control API on the real kernel: through Fastify's injection for the request/response
 * contract, and over a real socket for streams, tokens and concurrency.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadNative } from '../../src/core/native.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { buildApi } from '../../src/server/http.js';
import { trackers } from '../../src/trackers/registry.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { openStream } from './sse.js';

const TOKEN = 'test-token-0123456789abcdef';
const openssl = ['/usr/bin/openssl'].find((p) => existsSync(p));

async function agentFor(): Promise<Agent> {
  return Agent.start({ ...defaultConfig(), trackers: [], containers: false, rules: { ...defaultConfig().rules, trackers: false } }, { native: loadNative(), log: () => {} });
}

describe('control API', { skip: needsRoot }, () => {
  let agent: Agent;
  let app: FastifyInstance;
  const watch = new KernelWatch();

  before(async () => {
    agent = await agentFor();
    app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
  });
  after(async () => {
    await app?.close();
    await agent?.close();
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url, ...(payload !== undefined ? { payload: payload as string } : {}), headers });

  test('seed API: /start answers the id that /list and /stop use; errors are JSON with a code', async () => {
    const start = await inject('POST', '/start', { name: 'process', export_handlers: [{ name: 'container_info', args: [] }], args: ['-p', '1'] });
    assert.equal(start.statusCode, 200, start.body);
    const { status, id } = start.json() as { status: string; id: number };
    assert.equal(status, 'ok');
    watch.note();
    const list = (await inject('GET', '/list')).json() as { status: string; list: { id: number; name: string }[] };
    assert.deepEqual(list, { status: 'ok', list: [{ id, name: 'process' }] });
    assert.equal(((await inject('GET', `/instances/${id}`)).json() as { options: { pid: number } }).options.pid, 1, 'args are the tracker\'s flags');
    assert.deepEqual((await inject('POST', '/stop', { id })).json(), { status: 'ok' });
    const again = await inject('POST', '/stop', { id });
    assert.equal(again.statusCode, 404);
    assert.deepEqual(again.json(), { status: 'error', error: { code: 'E_NOT_FOUND', message: `no tracker instance with id ${id}` } });
  });

  test('REST: catalogue, start, get, stop; ids count up and are never reused', async () => {
    const cat = (await inject('GET', '/trackers')).json() as { trackers: { name: string; options: { flag: string }[] }[] };
    assert.equal(cat.trackers.length, trackers.length);
    assert.ok(cat.trackers.find((t) => t.name === 'opensnoop')!.options.some((o) => o.flag === 'container'));
    const a = await inject('POST', '/instances', { tracker: 'opensnoop', options: { failed: true } });
    assert.equal(a.statusCode, 201, a.body);
    const b = await inject('POST', '/instances', { tracker: 'process' });
    const ia = a.json() as { id: number; name: string; kind: string; options: { failed: boolean } };
    const ib = b.json() as { id: number };
    assert.equal(ib.id, ia.id + 1);
    assert.equal(ia.kind, 'tracker');
    assert.equal(ia.options.failed, true);
    watch.note();
    const list = (await inject('GET', '/instances')).json() as { instances: { id: number }[] };
    assert.deepEqual(list.instances.map((i) => i.id), [ia.id, ib.id]);
    const del = await inject('DELETE', `/instances/${ia.id}`);
    assert.equal(del.statusCode, 200);
    assert.equal((del.json() as { stats: { lostKernel: number } }).stats.lostKernel, 0);
    await inject('DELETE', `/instances/${ib.id}`);
    const c = (await inject('POST', '/instances', { tracker: 'process' })).json() as { id: number };
    assert.equal(c.id, ib.id + 1, 'a stopped id is not given out again');
    await inject('DELETE', `/instances/${c.id}`);
  });

  test('bad requests get the right 4xx and a message naming the problem; the server goes on', async () => {
    const cases: [string, () => ReturnType<typeof inject>, number, string, RegExp][] = [
      ['unknown tracker', () => inject('POST', '/instances', { tracker: 'nosuch' }), 404, 'E_UNKNOWN_TRACKER', /unknown tracker "nosuch"/],
      ['seed unknown tracker', () => inject('POST', '/start', { name: 'nosuch' }), 404, 'E_UNKNOWN_TRACKER', /unknown tracker "nosuch"/],
      ['unknown option', () => inject('POST', '/instances', { tracker: 'process', options: { bogus: 1 } }), 400, 'E_OPTION', /unknown option "bogus"/],
      ['wrong option type', () => inject('POST', '/instances', { tracker: 'process', options: { pid: 'one' } }), 400, 'E_OPTION', /option pid: expected an integer/],
      ['bad tracker flag', () => inject('POST', '/start', { name: 'process', args: ['--bogus'] }), 400, 'E_USAGE', /Unknown option '--bogus'/],
      ['a run flag is not a tracker flag', () => inject('POST', '/start', { name: 'process', args: ['-T', '5'] }), 400, 'E_USAGE', /Unknown option '-T'/],
      ['wrong id type', () => inject('POST', '/stop', { id: 'one' }), 400, 'E_REQUEST', /id must be integer/],
      ['missing field', () => inject('POST', '/stop', {}), 400, 'E_REQUEST', /must have required property 'id'/],
      ['extra field', () => inject('POST', '/stop', { id: 1, force: true }), 400, 'E_REQUEST', /must NOT have additional properties/],
      ['neither tracker nor program', () => inject('POST', '/instances', { options: {} }), 400, 'E_REQUEST', /must match exactly one schema/],
      ['unknown export handler', () => inject('POST', '/start', { name: 'process', export_handlers: [{ name: 'kafka' }] }), 400, 'E_REQUEST', /export handler "kafka" is not known/],
      ['unknown id', () => inject('GET', '/instances/999'), 404, 'E_NOT_FOUND', /no tracker instance with id 999/],
      ['id not a number', () => inject('GET', '/instances/abc'), 400, 'E_REQUEST', /instance id must be a positive integer, got "abc"/],
      ['unknown route', () => inject('GET', '/nope'), 404, 'E_NOT_FOUND', /no route GET \/nope/],
      ['not JSON', () => inject('POST', '/instances', '{"tracker":', { 'content-type': 'application/json' }), 400, 'E_REQUEST', /JSON/],
      ['not JSON content type', () => inject('POST', '/instances', 'tracker=process', { 'content-type': 'text/plain' }), 415, 'E_REQUEST', /send JSON/],
      ['huge body', () => inject('POST', '/instances', { program: 'x'.repeat(100 * 1024) }), 413, 'E_REQUEST', /request body too large: the limit is 65536 bytes/],
    ];
    for (const [what, req, status, code, re] of cases) {
      const r = await req();
      assert.equal(r.statusCode, status, `${what}: ${r.body}`);
      const body = r.json() as { status: string; error: { code: string; message: string } };
      assert.equal(body.status, 'error', what);
      assert.equal(body.error.code, code, `${what}: ${r.body}`);
      assert.match(body.error.message, re, what);
    }
    assert.equal((await inject('GET', '/health')).statusCode, 200, 'still serving');
    assert.deepEqual(((await inject('GET', '/instances')).json() as { instances: unknown[] }).instances, []);
  });

  test('an OpenAPI document describes the routes', async () => {
    const doc = (await inject('GET', '/openapi.json')).json() as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/start', '/stop', '/list', '/trackers', '/instances', '/instances/{id}', '/instances/{id}/events', '/events', '/health']) assert.ok(doc.paths[p], p);
  });

  test('a live stream over a real socket: ready, the instance\'s events as JSON, end with stats', async () => {
    const addr = await app.listen({ host: '127.0.0.1', port: 0 });
    // includeSelf: the echo is this (the agent's) process's child.
    const inst = (await inject('POST', '/instances', { tracker: 'process', options: { includeSelf: true } })).json() as { id: number };
    const stream = await openStream(`${addr}/instances/${inst.id}/events`);
    try {
      assert.deepEqual(await stream.next('ready'), { id: inst.id });
      const marker = `sse-marker-${process.pid}`;
      const child = spawnSync('/bin/echo', [marker]);
      const ev = (await stream.until((e) => (e.args as string[] | undefined)?.includes(marker) === true)) as Record<string, unknown>;
      assert.equal(ev.tracker, 'process');
      assert.equal(ev.instance, inst.id);
      assert.equal(ev.pid, child.pid);
      await inject('DELETE', `/instances/${inst.id}`);
      const end = (await stream.next('end')) as { id: number; stats: { events: number } };
      assert.equal(end.id, inst.id);
      assert.ok(end.stats.events >= 1);
    } finally {
      stream.close();
    }
  });
});

describe('control API with a token', { skip: needsRoot }, () => {
  let agent: Agent;
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    agent = await agentFor();
    app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test', token: TOKEN });
    // On all interfaces, as a token is required for; reached through a non-loopback address.
    await app.listen({ host: '0.0.0.0', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    base = `http://${external?.address ?? '127.0.0.1'}:${port}`;
  });
  after(async () => {
    await app?.close();
    await agent?.close();
  });

  test('no token or a wrong one: 401 with a JSON error; the right one passes; /health needs none', async () => {
    const none = await fetch(`${base}/instances`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await none.json(), { status: 'error', error: { code: 'E_AUTH', message: 'this API needs a token: send "Authorization: Bearer <token>"' } });
    const wrong = await fetch(`${base}/instances`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { message: string } }).error.message, 'wrong API token');
    const post = await fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tracker: 'process' }) });
    assert.equal(post.status, 401, 'nothing is started without the token');
    assert.deepEqual(agent.list(), []);
    const ok = await fetch(`${base}/instances`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${base}/health`)).status, 200);
    const stream = await fetch(`${base}/events`);
    assert.equal(stream.status, 401, 'streams need it too');
  });
});

describe('control API over TLS', { skip: needsRoot || (!openssl && 'openssl is not installed') }, () => {
  test('with a key and certificate it serves HTTPS only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-tls-'));
    execFileSync(openssl!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    const agent = await agentFor();
    const app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test', token: TOKEN, https: { key: readFileSync(join(dir, 'key.pem')), cert } });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const port = (app.server.address() as AddressInfo).port;
      const get = (path: string): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          httpsGet({ host: '127.0.0.1', port, path, ca: cert, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          }).on('error', reject);
        });
      const r = await get('/instances');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { instances: [] });
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'plain HTTP is not answered');
    } finally {
      await app.close();
      await agent.close();
    }
  });
});

describe('concurrency', { skip: needsRoot }, () => {
  test('many starts at once, and stops racing their starts, leave the table consistent and nothing loaded', async () => {
    const agent = await agentFor();
    const app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const watch = new KernelWatch();
    const post = (body: unknown): Promise<Response> => fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      const starts = await Promise.all(Array.from({ length: 20 }, (_, i) => post({ tracker: i % 2 ? 'process' : 'opensnoop' })));
      assert.ok(starts.every((r) => r.status === 201));
      const ids = await Promise.all(starts.map(async (r) => ((await r.json()) as { id: number }).id));
      assert.equal(new Set(ids).size, 20, 'every start got its own id');
      watch.note();
      // Each stop races a second stop of the same id and a fresh start.
      const results = await Promise.all(ids.flatMap((id) => [
        fetch(`${base}/instances/${id}`, { method: 'DELETE' }).then((r) => r.status),
        fetch(`${base}/instances/${id}`, { method: 'DELETE' }).then((r) => r.status),
        post({ tracker: 'process' }).then(async (r) => { watch.note(); return ((await r.json()) as { id: number }).id; }),
      ]));
      for (let i = 0; i < ids.length; i++) {
        const [a, b] = [results[3 * i], results[3 * i + 1]];
        assert.deepEqual([a, b].sort(), [200, 404], `id ${ids[i]}: exactly one stop succeeded`);
      }
      const fresh = ids.map((_, i) => results[3 * i + 2] as number);
      const listed = agent.list().map((i) => i.id).sort((x, y) => x - y);
      assert.deepEqual(listed, [...fresh].sort((x, y) => x - y), 'the table holds exactly the fresh starts');
      await Promise.all(fresh.map((id) => fetch(`${base}/instances/${id}`, { method: 'DELETE' })));
      assert.deepEqual(agent.list(), []);
    } finally {
      await app.close();
      await agent.close();
    }
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('200 instances started and stopped over HTTP leave no program behind', async () => {
    const agent = await agentFor();
    const app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const watch = new KernelWatch();
    try {
      for (let i = 0; i < 200; i++) {
        const r = await fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tracker: i % 4 === 0 ? 'opensnoop' : 'process' }) });
        assert.equal(r.status, 201);
        const { id } = (await r.json()) as { id: number };
        watch.note();
        assert.equal((await fetch(`${base}/instances/${id}`, { method: 'DELETE' })).status, 200);
      }
      assert.ok(watch.seen.progs.size >= 200, 'every instance loaded its own programs');
    } finally {
      await app.close();
      await agent.close();
    }
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });
});
