/**
 * How the API serves the console (src/server/http-console.ts): the built files without the
 * token and with caching headers, the security headers on every answer (files, JSON, errors,
 * refusals, event streams), GET /self and GET /containers; the console's sources never build
 * markup from text; and in Chromium, an agent without a token opens straight on the console.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { loadNative } from '../../src/core/native.js';
import { buildApi } from '../../src/server/http.js';
import { CONTENT_SECURITY_POLICY, registerConsole } from '../../src/server/http-console.js';
import { needsRoot, repoRoot } from '../helpers.js';
import { consolePage, cspViolations, launch } from './browser.js';

const TOKEN = 'console-test-token-0123456789';
const built = join(repoRoot, 'dist/console');

function assertSecurityHeaders(h: Record<string, unknown>, what: string): void {
  assert.equal(h['content-security-policy'], CONTENT_SECURITY_POLICY, `${what}: CSP`);
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
}

test('the policy is the strict one: nothing inline, nothing from elsewhere, no frames, no forms, no base', () => {
  assert.equal(CONTENT_SECURITY_POLICY, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
});

test('the console\'s sources never turn text into markup', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.(tsx?|html)$/.test(e.name)) files.push(join(d, e.name));
    }
  };
  walk(join(repoRoot, 'console'));
  assert.ok(files.length >= 10, `only ${files.length} console sources found`);
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    for (const bad of [/dangerouslySetInnerHTML/, /\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\(/, /new Function\(/, /\bstyle="/, /<script>/]) {
      assert.doesNotMatch(src, bad, `${f}: ${bad}`);
    }
  }
  // The built page: scripts and styles only by address (the policy would refuse inline ones).
  const html = readFileSync(join(built, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /<style/);
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from another host');
});

describe('the console\'s files', () => {
  let app: FastifyInstance;
  const fakeAgent = (): Agent => {
    throw new Error('the files need no agent');
  };
  before(async () => {
    app = Fastify();
    registerConsole(app, fakeAgent);
    // What buildApi adds after registerConsole: the token check refuses everything it sees.
    app.addHook('onRequest', async (_req, reply) => reply.code(401).send({ status: 'error', error: { code: 'E_AUTH', message: 'token' } }));
    app.get('/status', async () => ({ status: 'ok' }));
    await app.ready();
  });
  after(() => app?.close());

  test('GET /: the page, asked again each time (no-cache, ETag), gzipped when the browser takes it; no token needed', async () => {
    const res = await app.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(res.headers, 'GET /');
    assert.equal(res.body, readFileSync(join(built, 'index.html'), 'utf8'));
    const again = await app.inject({ url: '/', headers: { 'if-none-match': String(res.headers.etag) } });
    assert.equal(again.statusCode, 304);
    const gz = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip, deflate' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), res.body);
  });

  test('hashed assets: immutable for a year, the right types; an unknown one is 404', async () => {
    const html = readFileSync(join(built, 'index.html'), 'utf8');
    const js = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)![1]!;
    const css = /href="(\/assets\/style-[A-Z0-9]+\.css)"/.exec(html)![1]!;
    const a = await app.inject({ url: js });
    assert.equal(a.statusCode, 200);
    assert.equal(a.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable');
    assertSecurityHeaders(a.headers, js);
    assert.equal((await app.inject({ url: css })).headers['content-type'], 'text/css; charset=utf-8');
    const missing = await app.inject({ url: '/assets/main-NOPE.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'E_NOT_FOUND');
    assertSecurityHeaders(missing.headers, '404');
  });

  test('everything else still meets the token check, and its refusal carries the headers too', async () => {
    const res = await app.inject({ url: '/status' });
    assert.equal(res.statusCode, 401);
    assertSecurityHeaders(res.headers, '401');
    assert.equal((await app.inject({ method: 'POST', url: '/' })).statusCode, 401, 'only GET serves files');
  });

  test('an agent built without its console says how to build it', async () => {
    const bare = Fastify();
    registerConsole(bare, fakeAgent, { dir: pathToFileURL(`${mkdtempSync(join(tmpdir(), 'eunomia-noconsole-'))}/`) });
    const res = await bare.inject({ url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match(res.json().error.message, /^the console is not built \(.*\): run "npm run setup" \(scripts\/build-console\.js\)$/);
    await bare.close();
  });
});

describe('the console in the control API', { skip: needsRoot }, () => {
  let agent: Agent;
  let app: FastifyInstance;
  let open: FastifyInstance;
  let openBase: string;

  before(async () => {
    agent = await Agent.start({ ...defaultConfig(), trackers: [], containers: false, rules: { ...defaultConfig().rules, trackers: false } }, { native: loadNative(), log: () => {} });
    app = await buildApi(agent, { token: TOKEN, bodyLimitBytes: 64 * 1024, version: 'test' });
    open = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
    openBase = await open.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await open?.close();
    await agent?.close();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };

  test('the files need no token; the API does, and every answer carries the headers', async () => {
    assert.equal((await app.inject({ url: '/' })).statusCode, 200);
    for (const [url, headers, status] of [['/status', {}, 401], ['/status', auth, 200], ['/self', auth, 200], ['/nosuch', auth, 404], ['/health', {}, 200]] as const) {
      const res = await app.inject({ url, headers });
      assert.equal(res.statusCode, status, url);
      assertSecurityHeaders(res.headers, `${url} ${status}`);
    }
  });

  test('an event stream (its head written by the stream itself) carries the headers too', async () => {
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(`${openBase}/events`, (res) => {
        resolve(res.headers);
        res.destroy();
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(headers['content-type'], 'text/event-stream');
    assertSecurityHeaders(headers, 'GET /events');
  });

  test('GET /self: the agent\'s own figures', async () => {
    const s = (await app.inject({ url: '/self', headers: auth })).json();
    assert.equal(s.pid, process.pid);
    assert.ok(s.memory.rss > 10 << 20, `rss ${s.memory.rss}`);
    assert.ok(s.memory.heapUsed > 0);
    assert.ok(s.cpu.userSeconds > 0);
    assert.equal(typeof s.cpu.percent, 'number');
    for (const k of ['kernel', 'readerQueue', 'undecodable', 'mapInsertFailures', 'pipeline', 'streams']) assert.equal(typeof s.drops[k], 'number', `drops.${k}`);
    assert.deepEqual(Object.keys(s.queues).sort(), ['pipeline', 'store', 'streamClients']);
    assert.deepEqual(s.instances, []);
    assert.equal(typeof s.mapMemory.bytes, 'number');
    assert.ok('store' in s);
    // A tracker's maps show in the agent's kernel memory.
    const before = s.mapMemory.bytes;
    const inst = agent.startTracker('process');
    try {
      const s2 = (await app.inject({ url: '/self', headers: auth })).json();
      assert.ok(s2.mapMemory.bytes > before, `map memory ${before} → ${s2.mapMemory.bytes}`);
      assert.equal(s2.instances[0].name, 'process');
      // Its own maps, counted from their fds: its ring, tables and container filter.
      const own = s2.instances[0].mapMemory as { maps: number; bytes: number };
      assert.ok(own.maps >= 2 && own.bytes > 0, JSON.stringify(own));
      assert.ok(own.bytes <= s2.mapMemory.bytes - before, `the instance's ${own.bytes} within the agent's growth ${s2.mapMemory.bytes - before}`);
      assert.ok(s2.eventLoop === null || s2.eventLoop.p99Ms >= 0);
    } finally {
      await agent.stop(inst.id);
    }
  });

  test('GET /containers without container attribution says so', async () => {
    assert.deepEqual((await app.inject({ url: '/containers', headers: auth })).json(), { enabled: false, runtimes: [], containers: [] });
    assert.equal((await app.inject({ url: '/containers?all=maybe', headers: auth })).statusCode, 400);
  });

  test('in Chromium: an agent without a token opens on the console, with nothing refused by the policy', { timeout: 120_000 }, async () => {
    const browser = await launch();
    try {
      const { page, errors } = await consolePage(browser);
      const res = await page.goto(`${openBase}/`, { waitUntil: 'load' });
      assert.equal(res!.headers()['content-security-policy'], CONTENT_SECURITY_POLICY);
      await page.waitForSelector('header.top nav a[data-page=events]', { timeout: 20_000 });
      assert.equal(await page.$('.token-prompt'), null, 'no token prompt');
      // Every page renders.
      for (const p of ['alerts', 'containers', 'trackers', 'health']) {
        await page.click(`nav a[data-page=${p}]`);
        await page.waitForSelector(`section.page.${p}`, { timeout: 10_000 });
      }
      await page.waitForSelector('[data-figure=rss]', { timeout: 10_000 });
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
