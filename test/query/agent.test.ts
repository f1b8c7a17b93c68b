/**
 * GET /query and `eunomia query` on a real agent: its store (in a temp dir) records the
 * process tracker's events of real commands, on the host and in a real container, and the
 * alert a real shell in that container raises; queries filter, range and group them over the
 * API, with its token, and from the command line.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { loadNative } from '../../src/core/native.js';
import type { QueryAnswer } from '../../src/query/index.js';
import { buildApi } from '../../src/server/http.js';
import { dockerAsync, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { needsRoot, repoRoot } from '../helpers.js';

const TOKEN = 'query-test-token-0123456789';

describe('GET /query on a real agent and its store', { skip: needsDocker }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-query-agent-'));
  const marker = `query-marker-${process.pid}`;
  let agent: Agent;
  let app: FastifyInstance;
  let name: string;
  let instance: number;
  let between = 0;

  const get = async (params: Record<string, string>, token = TOKEN) => {
    const res = await app.inject({ method: 'GET', url: `/query?${new URLSearchParams(params)}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.statusCode, body: res.json() as QueryAnswer & { error?: { code: string; message: string } } };
  };
  /** Asks until the answer has `n` rows (the store writes in batches, ~100 ms apart). */
  const rowsOf = async (params: Record<string, string>, n: number): Promise<QueryAnswer> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const { status, body } = await get(params);
      assert.equal(status, 200, JSON.stringify(body));
      if ((body.rows?.length ?? body.groups?.length) === n || Date.now() > end) return body;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    name = uniqueName('query');
    startSleeper(name);
    const config = defaultConfig();
    // includeSelf: the test's own commands are this (the agent's) process's children.
    config.trackers = [{ name: 'process', options: { includeSelf: true } }];
    config.rules.trackers = false;
    config.store = { ...config.store, path: join(dir, 'events.db'), trackers: ['process'] };
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    app = await buildApi(agent, { bodyLimitBytes: 1 << 16, version: 'test', token: TOKEN });
    instance = agent.list().find((i) => i.name === 'process')!.id;

    for (let i = 0; i < 3; i++) spawnSync('/bin/echo', [marker, 'first', String(i)]);
    await new Promise((r) => setTimeout(r, 20));
    between = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 2; i++) spawnSync('/bin/echo', [marker, 'second', String(i)]);
    await dockerAsync('exec', name, 'cat', '/etc/hostname');
    await dockerAsync('exec', name, 'ls', '/');
    await dockerAsync('exec', '-t', name, 'sh', '-c', 'true'); // an interactive shell: an alert
  });
  after(async () => {
    await app?.close();
    await agent?.close();
    removeContainers(name);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a filter on comm and arguments finds the real execs, with their columns and whole record', async () => {
    const a = await rowsOf({ where: `comm = echo and args contains ${marker}` }, 5);
    assert.deepEqual(a.rows!.map((r) => (r.record.data as { args: string[] }).args.slice(2).join(' ')), ['second 1', 'second 0', 'first 2', 'first 1', 'first 0'], 'newest first');
    for (const r of a.rows!) {
      assert.deepEqual([r.kind, r.tracker, r.instance, r.comm, r.container, r.containerName], ['event', 'process', instance, 'echo', '', '']);
      assert.equal((r.record.data as { container: { id: string } }).container.id, 'host');
      assert.equal((r.record as { time: number }).time >= r.ms, true);
    }
    assert.deepEqual([a.complete, a.dropped], [false, 0], 'the store is younger than the hour asked');
    const since = await get({ from: String(a.rows![4]!.ms), where: `args contains ${marker}` });
    assert.deepEqual([since.body.rows!.length, since.body.complete, since.body.dropped], [5, true, 0]);
  });

  test('a time range splits the two runs', async () => {
    const where = `args contains ${marker}`;
    await rowsOf({ where }, 5);
    const first = (await get({ where, to: String(between) })).body;
    const second = (await get({ where, from: String(between) })).body;
    assert.deepEqual(first.rows!.map((r) => (r.record.data as { args: string[] }).args[2]), ['first', 'first', 'first']);
    assert.deepEqual(second.rows!.map((r) => (r.record.data as { args: string[] }).args[2]), ['second', 'second']);
  });

  test('groups: by container.name and comm of the container\'s execs, by tracker, by instance', async () => {
    const g = await rowsOf({ group: 'container.name,comm', where: `container.name = ${name} and type = exec` }, 3);
    assert.deepEqual(g.groups!.map((x) => `${x.key['container.name']}/${x.key.comm}:${x.count}`).sort(), [`${name}/cat:1`, `${name}/ls:1`, `${name}/sh:1`]);
    const byId = await get({ container: name, group: 'comm', where: 'type = exec' });
    assert.deepEqual(byId.body.groups!.map((x) => x.key.comm).sort(), ['cat', 'ls', 'sh'], 'the container parameter by name');
    const trackers = await get({ group: 'evt.tracker' });
    assert.deepEqual(trackers.body.groups!.map((x) => x.key['evt.tracker']), ['process'], 'only the stored tracker');
    const inst = await get({ instance: String(instance), group: 'type', where: `args contains ${marker}` });
    assert.deepEqual(inst.body.groups, [{ key: { type: 'exec' }, count: 5 }]);
  });

  test('the alert of the shell is stored and queried by its own fields', async () => {
    const a = await rowsOf({ kind: 'alert', where: `rule = shell_in_container and container.name = ${name}` }, 1);
    const r = a.rows![0]!;
    assert.deepEqual([r.kind, r.rule, r.comm, r.containerName, r.record.priority, (r.record.process as { comm: string }).comm], ['alert', 'shell_in_container', 'sh', name, 'warning', 'sh']);
    const g = await get({ kind: 'alert', group: 'rule,priority', where: `process.comm = sh and evt.tracker = process and container.name = ${name}` });
    assert.deepEqual(g.body.groups, [{ key: { rule: 'shell_in_container', priority: 'warning' }, count: 1 }]);
  });

  test('mistakes are 400 naming the parameter; a bad where has the compiler\'s column; no token is 401', async () => {
    const bad = await get({ where: 'comm == echo' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error, { code: 'E_REQUEST', message: 'parameter "where", column 6: unknown operator "==" — did you mean "="? (in: comm == echo)' });
    const unknown = await get({ where: 'comm = echo', form: '-1h' });
    assert.deepEqual([unknown.status, unknown.body.error!.message.startsWith('parameter "form": unknown parameter')], [400, true]);
    const twice = await app.inject({ method: 'GET', url: '/query?limit=1&limit=2', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual([twice.statusCode, twice.json().error.message], [400, 'parameter "limit": given more than once; give it once']);
    assert.equal((await get({}, '')).status, 401);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Bearer ${TOKEN}` } })).json() as { paths: Record<string, { get: { parameters: { name: string }[] } }> };
    assert.ok(doc.paths['/query']!.get.parameters.some((p) => p.name === 'where'), 'documented in the OpenAPI document');
  });

  test('eunomia query prints the rows and groups from the server', async () => {
    await rowsOf({ where: `args contains ${marker}` }, 5);
    const addr = await app.listen({ host: '127.0.0.1', port: 0 });
    // Asynchronously: the server answering it runs in this process.
    const cli = (...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> => new Promise((resolve) => {
      execFile(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'query', '--server', addr, ...args], { encoding: 'utf8', env: { ...process.env, EUNOMIA_TOKEN: TOKEN } },
        (e, stdout, stderr) => resolve({ status: e ? Number(e.code) : 0, stdout, stderr }));
    });
    const rows = await cli('--where', `comm = echo and args contains ${marker}`, '--from', '-10m');
    assert.equal(rows.status, 0, rows.stderr);
    const lines = rows.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME\s+TRACKER\s+CONTAINER\s+COMM\s+DETAIL$/);
    assert.equal(lines.length, 6);
    assert.match(lines[1]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\d [\\d:.]+\\s+process\\s+host\\s+echo\\s+EVENT=exec PID=\\d+ .*ARGS=/bin/echo ${marker} second 1$`));
    assert.match(rows.stderr, /\bwindow .* UTC: 5 rows \(\d+ scanned\)\nincomplete: the store holds rows from .* only\n$/);
    const groups = await cli('--group', 'comm', '--container', name, '--where', 'type = exec', '--json');
    assert.equal(groups.status, 0, groups.stderr);
    assert.deepEqual((JSON.parse(groups.stdout) as QueryAnswer).groups!.map((g) => g.key.comm).sort(), ['cat', 'ls', 'sh']);
    const bad = await cli('--where', 'comm = (');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^eunomia: server: 400 E_REQUEST parameter "where", column 8: expected a value, found "\("/m);
  });
});

describe('GET /query without a store', { skip: needsRoot }, () => {
  test('is a 409 saying the store is off', async () => {
    const config = defaultConfig();
    config.trackers = [];
    config.containers = false;
    config.rules.trackers = false;
    config.store = { ...config.store, enabled: false };
    const agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    const app = await buildApi(agent, { bodyLimitBytes: 1 << 16, version: 'test' });
    try {
      assert.equal(agent.store, undefined);
      const res = await app.inject({ method: 'GET', url: '/query?where=comm%20%3D%20sh' });
      assert.equal(res.statusCode, 409);
      assert.deepEqual(res.json(), { status: 'error', error: { code: 'E_STATE', message: 'the event store is off (--no-store, or enabled = false in [store]): there is nothing to query' } });
    } finally {
      await app.close();
      await agent.close();
    }
  });
});
