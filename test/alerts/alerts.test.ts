/** Alert throttling, and the sinks: log line, JSON lines file, webhook with retries and a bounded queue. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { alertLine, jsonlSink, logSink, Throttle, webhookSink, type Alert } from '../../src/alerts/index.js';

const alert = (rule: string, container: string, n = 0): Alert => ({
  time: new Date(1_700_000_000_000 + n).toISOString(),
  rule,
  name: rule,
  priority: 'critical',
  tags: ['T1059'],
  message: `shell in ${container} #${n}`,
  source: 'process',
  container: { id: container, full_id: container, name: container },
});

describe('throttle', () => {
  test('a burst per rule and container, then one per interval; what is held back is counted on the next', () => {
    let now = 0;
    const t = new Throttle({ burst: 3, intervalMs: 1000, now: () => now });
    const out = Array.from({ length: 10 }, (_, i) => t.admit(alert('shell', 'web', i)));
    assert.equal(out.filter(Boolean).length, 3, 'the burst');
    assert.ok(t.admit(alert('shell', 'db')), 'another container has its own bucket');
    assert.ok(t.admit(alert('other', 'web')), 'another rule too');
    now += 1000;
    const next = t.admit(alert('shell', 'web', 99));
    assert.equal(next?.suppressed, 7, 'the 7 held back are reported with the next one');
    assert.equal(t.admit(alert('shell', 'web', 100)), undefined);
    assert.deepEqual(t.stats(), { passed: 6, suppressed: 8, keys: 3 });
  });

  test('an alert storm: 100 000 alerts from one rule and container let through a handful', () => {
    let now = 0;
    const t = new Throttle({ burst: 5, intervalMs: 10_000, now: () => now });
    let passed = 0;
    for (let i = 0; i < 100_000; i++) {
      now += 1; // 100 s of a storm at 1000 alerts/s
      if (t.admit(alert('fork', 'c1', i))) passed++;
    }
    assert.equal(passed, 5 + 9, 'the burst, then one per full 10 s (the storm spans 99.999 s: 9)');
    assert.equal(t.stats().suppressed, 100_000 - passed);
  });

  test('the key table is bounded', () => {
    const t = new Throttle({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) t.admit(alert('r', `c${i}`));
    assert.equal(t.stats().keys, 100);
  });
});

describe('alert sinks', () => {
  test('log line and JSON lines file', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const log = logSink(out);
    log.send({ ...alert('shell', 'web'), suppressed: 3 });
    assert.equal(text, '2023-11-14T22:13:20.000Z CRITICAL shell: shell in web #0 (+3 more held back)\n');
    assert.equal(alertLine(alert('x', 'y')).endsWith('\n'), true);

    const path = join(mkdtempSync(join(tmpdir(), 'eunomia-alerts-')), 'alerts.jsonl');
    const file = jsonlSink(path);
    file.send(alert('a', 'web', 1));
    file.send(alert('b', 'db', 2));
    await file.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.deepEqual(lines.map((l) => l.rule), ['a', 'b']);
    assert.deepEqual(lines[0], alert('a', 'web', 1));
    assert.deepEqual(file.stats(), { sent: 2, dropped: 0, failed: 0 });
  });

  async function receiver(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; url: string }> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => handler(req, res, body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
  }

  test('webhook: posted as JSON in order; a 5xx is retried, a 4xx is not', async () => {
    const got: Alert[] = [];
    let calls = 0;
    const { server, url } = await receiver((req, res, body) => {
      calls++;
      const a = JSON.parse(body) as Alert;
      if (a.rule === 'flaky' && calls < 3) return void res.writeHead(503).end();
      if (a.rule === 'refused') return void res.writeHead(400).end();
      assert.equal(req.headers['content-type'], 'application/json');
      got.push(a);
      res.writeHead(204).end();
    });
    try {
      const hook = webhookSink(url, { retryMs: 10 });
      hook.send(alert('flaky', 'web', 1));
      hook.send(alert('refused', 'web', 2));
      hook.send(alert('ok', 'web', 3));
      await hook.close();
      assert.deepEqual(got.map((a) => a.rule), ['flaky', 'ok']);
      assert.equal(calls, 5, 'flaky: two 503s then accepted; refused: once, not retried; ok: once');
      assert.deepEqual(hook.stats(), { sent: 2, dropped: 0, failed: 1 });
    } finally {
      server.close();
    }
  });

  test('webhook: an unreachable receiver costs a bounded queue, every loss counted', async () => {
    const { server, url } = await receiver(() => {});
    server.close(); // nothing listens there any more
    await once(server, 'close');
    const hook = webhookSink(url, { retryMs: 5, attempts: 2, maxQueue: 10 });
    for (let i = 0; i < 50; i++) hook.send(alert('r', 'c', i));
    await hook.close();
    const s = hook.stats();
    assert.equal(s.sent, 0);
    assert.equal(s.dropped, 40, 'beyond the queue of 10');
    assert.equal(s.failed, 10, 'the queued ones, after their attempts');
  });
});
