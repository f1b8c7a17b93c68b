/**
 * `eunomia query`: its tables (from answers of the query code on an in-memory store) and its
 * requests, against a real HTTP server standing in for the agent. store.test.ts runs it
 * against a real agent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { answerSummary, answerText, queryCommand } from '../../src/cli/query.js';
import { isEunomiaError } from '../../src/core/errors.js';
import { parseQuery, runQuery } from '../../src/query/index.js';
import { execRow, MemoryStore } from './memory-store.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const MIN = 60_000;

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

test('rows: time, tracker, container (host for the host), comm, and the tracker\'s own columns; control characters escaped', async () => {
  const s = new MemoryStore();
  s.add(execRow(NOW - 10 * MIN, { comm: 'curl', pid: 42, ppid: 1, uid: 0, exe: '/usr/bin/curl', args: ['curl', 'http://x'], container: { id: 'aaaaaaaaaaaa', name: 'web' } }));
  s.add(execRow(NOW - 5 * MIN, { comm: 'evil\u001b[2J', pid: 43, ppid: 1, uid: 0, exe: '/tmp/x\n', args: ['x'] }));
  const text = answerText(await runQuery(s, parseQuery({}, NOW)));
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 3, text);
  assert.match(lines[0]!, /^TIME\s+TRACKER\s+CONTAINER\s+COMM\s+DETAIL$/);
  assert.match(lines[1]!, /^2024-05-01 11:55:00\.000\s+process\s+host\s+evil\\x1b\[2J\s+EVENT=exec PID=43 PPID=1 UID=0 PATH=\/tmp\/x\\n ARGS=x$/);
  assert.match(lines[2]!, /^2024-05-01 11:50:00\.000\s+process\s+web\s+curl\s+EVENT=exec PID=42 .*PATH=\/usr\/bin\/curl ARGS=curl http:\/\/x$/);
  assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(text), 'no control character but the line ends');
});

test('groups and alerts as tables; the summary says what is missing and how to page', async () => {
  const s = new MemoryStore();
  for (let i = 0; i < 3; i++) s.add(execRow(NOW - (i + 1) * MIN, { comm: i ? 'sh' : 'curl', pid: i }));
  s.add({ time: NOW - MIN, kind: 'alert', tracker: 'process', instance: 0, container: '', containerName: '', rule: 'r1', comm: 'sh', record: { rule: 'r1', priority: 'error', message: 'shell <b>', source: 'process' } });
  assert.equal(answerText(await runQuery(s, parseQuery({ group: 'comm' }, NOW))), 'COMM  COUNT\nsh    2\ncurl  1\n');
  assert.match(answerText(await runQuery(s, parseQuery({ kind: 'alert' }, NOW))), /^TIME\s+PRIORITY\s+RULE\s+CONTAINER\s+COMM\s+MESSAGE\n2024-05-01 11:59:00\.000\s+error\s+r1\s+host\s+sh\s+shell <b>\n$/);
  assert.match(answerSummary(await runQuery(s, parseQuery({ kind: 'event' }, NOW))), /\nincomplete: the store holds rows from 2024-05-01 11:57:00\.000 only\n$/);
  s.evictOldest(1);
  const summary = answerSummary(await runQuery(s, parseQuery({ limit: '1' }, NOW)));
  assert.match(summary, /^window 2024-05-01 11:00:00\.000 → 2024-05-01 12:00:00\.000 UTC: 1 rows \(2 scanned\)\n/);
  assert.match(summary, /\nincomplete: the store holds rows from 2024-05-01 11:58:00\.000 only; 1 rows of the window were evicted or dropped\n/);
  assert.match(summary, new RegExp(`\\nmore: next page with --to ${NOW - MIN} --before \\d+\\n$`));
  const all = answerSummary(await runQuery(s, parseQuery({ from: '-2m' }, NOW)));
  assert.equal(all, 'window 2024-05-01 11:58:00.000 → 2024-05-01 12:00:00.000 UTC: 2 rows (2 scanned)\n', 'complete: one line');
});

test('the command sends its flags as parameters with the token, prints the answer, and reports the server\'s error', async () => {
  const seen: IncomingMessage[] = [];
  const answer = await runQuery(new MemoryStore(), parseQuery({}, NOW));
  const server = createServer((req, res) => {
    seen.push(req);
    const bad = new URL(req.url!, 'http://x').searchParams.get('where') === 'comm == x';
    res.writeHead(bad ? 400 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(bad ? { status: 'error', error: { code: 'E_REQUEST', message: 'parameter "where", column 6: unknown operator "=="' } } : answer));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const out = collect();
    const err = collect();
    const code = await queryCommand(['--server', url, '--token', 'tok-0123456789abcdef', '--from', '-15m', '--where', 'comm = curl', '--group', 'comm', '--kind', 'alert', '--json'], { stdout: out.stream, stderr: err.stream });
    assert.equal(code, 0);
    const q = new URL(seen[0]!.url!, 'http://x');
    assert.equal(q.pathname, '/query');
    assert.deepEqual(Object.fromEntries(q.searchParams), { where: 'comm = curl', kind: 'alert', from: '-15m', group: 'comm' });
    assert.equal(seen[0]!.headers.authorization, 'Bearer tok-0123456789abcdef');
    assert.deepEqual(JSON.parse(out.text()), answer);
    await assert.rejects(queryCommand(['--server', url, '--where', 'comm == x'], { stdout: out.stream, stderr: err.stream }), (e: unknown) => {
      assert.ok(isEunomiaError(e, 'E_REQUEST'));
      assert.equal(e.message, 'server: 400 E_REQUEST parameter "where", column 6: unknown operator "=="');
      return true;
    });
    await assert.rejects(queryCommand(['--server', url, '--frm', '-1h'], { stdout: out.stream, stderr: err.stream }), /E?Unknown option '--frm'.*eunomia query --help/);
  } finally {
    server.close();
  }
});
