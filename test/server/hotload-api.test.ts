/**
 * Hot-loaded programs over the API, on the real kernel: the seed's exact /start request, our
 * multi-map program, a hot update in place, and bad packages — each event seen on a stream.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadNative } from '../../src/core/native.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { buildApi } from '../../src/server/http.js';
import { buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot } from '../helpers.js';
import { openStream, type SseStream } from './sse.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-hotapi-'));
const seedJson = readFileSync(join(repoRoot, 'test/fixtures/seed-hotupdate.json'), 'utf8');

describe('hot-loaded programs over the API', { skip: needsRoot || needsClang }, () => {
  let agent: Agent;
  let app: FastifyInstance;
  let base: string;
  let stream: SseStream;
  let hotMulti: string;
  const watch = new KernelWatch();

  const send = async (method: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };

  before(async () => {
    agent = await Agent.start({ ...defaultConfig(), trackers: [], containers: false, bodyLimitBytes: 1024 * 1024, rules: { ...defaultConfig().rules, trackers: false } }, { native: loadNative(), log: () => {} });
    app = await buildApi(agent, { bodyLimitBytes: 1024 * 1024, version: 'test' });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    stream = await openStream(`${base}/events`);
    await stream.next('ready');
    hotMulti = readFileSync(buildBpf(join(repoRoot, 'test/bpf/hot_multi.bpf.c'))).toString('base64');
  });
  after(async () => {
    stream?.close();
    await app?.close();
    await agent?.close();
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test("the seed's request, as its docs send it: /start hotupdate with the package JSON as a string; open(2) seen on the stream", async () => {
    const opener = join(dir, 'opener');
    writeFileSync(`${opener}.c`, '#define _GNU_SOURCE\n#include <fcntl.h>\n#include <sys/syscall.h>\n#include <unistd.h>\nint main(int c, char **v) { return syscall(SYS_open, v[1], O_RDONLY) < 0; }\n');
    execFileSync('cc', ['-O1', '-o', opener, `${opener}.c`]);
    const target = join(dir, 'seed-target');
    writeFileSync(target, 'x');
    const r = await send('POST', '/start', { name: 'hotupdate', export_handlers: [{ name: 'none', args: [] }], args: [seedJson] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const id = r.json.id as number;
    watch.note();
    assert.deepEqual(((await (await fetch(`${base}/list`)).json()) as { list: unknown[] }).list, [{ id, name: 'hotupdate' }]);
    const child = spawnSync(opener, [target]);
    assert.equal(child.status, 0);
    const ev = (await stream.until((e) => e.instance === id && e.pid === child.pid)) as Record<string, unknown>;
    assert.equal(ev.filename, target);
    assert.equal(ev.tracker, 'hotupdate');
    assert.equal((await send('POST', '/stop', { id })).status, 200);
  });

  test('our program with several programs and maps (ring buffer and perf buffer), options by name; then a hot update in place', async () => {
    const r = await send('POST', '/instances', { program: { name: 'hot_multi', object: hotMulti, options: { tag: 7 } }, options: { target_tgid: process.pid } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const id = r.json.id as number;
    assert.equal(r.json.kind, 'program');
    watch.note();
    for (let i = 0; i < 20; i++) void process.ppid;
    const ring = (await stream.until((e) => e.instance === id && e.source === 1)) as Record<string, unknown>;
    const perf = (await stream.until((e) => e.instance === id && e.source === 2)) as Record<string, unknown>;
    assert.equal(ring.tag, 7);
    assert.equal(perf.value, process.ppid);

    // Hot update: same id, the new program's option shows in its events.
    const u = await send('PUT', `/instances/${id}`, { program: { name: 'hot_multi', object: hotMulti, options: { tag: 9 } }, options: { target_tgid: process.pid } });
    assert.equal(u.status, 200, JSON.stringify(u.json));
    assert.equal(u.json.id, id);
    watch.note();
    for (let i = 0; i < 20; i++) void process.ppid;
    const after = (await stream.until((e) => e.instance === id && e.tag === 9)) as Record<string, unknown>;
    assert.equal(after.pid, process.pid);
    const list = (await (await fetch(`${base}/instances`)).json()) as { instances: { id: number }[] };
    assert.deepEqual(list.instances.map((i) => i.id), [id], 'one instance, the same id');

    // A bad update keeps the old program running.
    const bad = await send('PUT', `/instances/${id}`, { program: { name: 'hot_multi', object: hotMulti, options: { no_such_var: 1 } } });
    assert.equal(bad.status, 422, JSON.stringify(bad.json));
    for (let i = 0; i < 20; i++) void process.ppid;
    await stream.until((e) => e.instance === id && e.tag === 9);
    assert.equal((await fetch(`${base}/instances/${id}`, { method: 'DELETE' })).status, 200);
  });

  test('bad packages get a 4xx naming the problem, nothing reaches the kernel, the server goes on', async () => {
    const seed = JSON.parse(seedJson) as { data: string; data_sz: number };
    const x86 = readFileSync('/bin/true').toString('base64');
    const cases: [string, unknown, number, RegExp][] = [
      ['truncated base64', { ...seed, data: seed.data.slice(0, 1000) }, 422, /data: truncated base64/],
      ['base64 shorter than data_sz', { ...seed, data: seed.data.replace(/\n/g, '').slice(0, 1000) }, 422, /data_sz/],
      ['not an ELF', { name: 'x', object: Buffer.from('hello world, not an object').toString('base64') }, 422, /ELF/],
      ['an ELF for another machine', { name: 'x', object: x86 }, 422, /x86|machine/i],
      ['wrong types', { name: 5, object: hotMulti }, 422, /name/],
      ['unknown field', { name: 'x', object: hotMulti, colour: 'red' }, 422, /colour/],
    ];
    const before = agent.list().length;
    for (const [what, program, status, re] of cases) {
      const r = await send('POST', '/instances', { program });
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
      const err = r.json.error as { code: string; message: string };
      assert.equal(err.code, 'E_PACKAGE', what);
      assert.match(err.message, re, what);
    }
    const huge = await send('POST', '/instances', { program: { name: 'x', object: 'A'.repeat(2 * 1024 * 1024) } });
    assert.equal(huge.status, 413);
    const seedStart = await send('POST', '/start', { name: 'hotupdate', args: ['{"data": "AAAA", "data_sz": 99'] });
    assert.equal(seedStart.status, 422, JSON.stringify(seedStart.json));
    assert.equal((seedStart.json.error as { code: string }).code, 'E_PACKAGE');
    assert.equal(agent.list().length, before, 'nothing was started');
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });
});
