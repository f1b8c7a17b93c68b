/**
 * GET /alerts/stream over a real socket: a rule of the test's own fires on a real exec and the
 * alert arrives as an SSE `alert` message; the same exec by the agent's own process raises
 * nothing. And the one SSE writer's promise to slow clients: what they cannot take is counted,
 * then told.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadNative } from '../../src/core/native.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { SseClient, type SseOutput } from '../../src/exporters/index.js';
import { buildApi } from '../../src/server/http.js';
import { needsRoot } from '../helpers.js';
import { openStream } from './sse.js';

describe('alert stream', { skip: needsRoot }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-alert-stream-'));
  const marked = join(dir, 'eunomia-alert-mark');
  let agent: Agent;
  let app: FastifyInstance;
  before(async () => {
    copyFileSync('/bin/true', marked);
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, `- rule: test_marked_exec
  name: Marked program run
  desc: The test's own rule.
  priority: warning
  events: [process]
  condition: type = exec and comm = "eunomia-alert-m"
  output: "{comm} ran"
`);
    const config = defaultConfig();
    config.trackers = [{ name: 'process', options: { includeSelf: true } }];
    config.containers = false;
    config.rules.files = [rules];
    config.rules.trackers = false;
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
  });
  after(async () => {
    await app?.close();
    await agent?.close();
  });

  test('ready, then the alert of a rule that fired; the same exec by the agent\'s own process raised none', async () => {
    const addr = await app.listen({ host: '127.0.0.1', port: 0 });
    const stream = await openStream(`${addr}/alerts/stream`);
    try {
      assert.deepEqual(await stream.next('ready'), {});
      // The neighbour: the same program run by the agent's own process, whose tree raises nothing.
      spawnSync(marked);
      // Not a child of the agent: it runs once its shell has exited, under init.
      spawnSync('sh', ['-c', `(sleep 0.3; exec ${marked}) >/dev/null 2>&1 &`]);
      type Alert = { rule: string; message: string };
      // Built-in rules may fire on the host's own doings meanwhile (the test runner's environment).
      let alert = (await stream.next('alert')) as Alert;
      while (alert.rule !== 'test_marked_exec') alert = (await stream.next('alert')) as Alert;
      assert.equal(alert.message, 'eunomia-alert-m ran');
      assert.equal(agent.analyzer!.recent().filter((a) => a.rule === 'test_marked_exec').length, 1, 'one alert: the agent\'s own exec raised none');
    } finally {
      stream.close();
    }
  });
});

describe('SSE writer', () => {
  test('a client behind its buffer loses messages, counted, and is told how many once it catches up', () => {
    let backlog = 0;
    let text = '';
    const out: SseOutput = { get writableLength() { return backlog; }, writeHead: () => {}, write: (s) => ((text += s), true), end: () => {} };
    const c = new SseClient(out, { id: 1 }, 100);
    const ev = { tracker: 't', instance: 1, time: 0, data: { n: 1 } };
    assert.equal(c.send(ev), true);
    backlog = 101;
    assert.equal(c.send(ev), false);
    assert.equal(c.message('alert', { a: 1 }), false);
    assert.equal(c.dropped, 2);
    backlog = 0;
    assert.equal(c.message('alert', { a: 2 }), true);
    c.end('end', { done: true });
    assert.equal(text, [
      'event: ready\ndata: {"id":1}\n\n',
      `data: ${JSON.stringify({ time: new Date(0).toISOString(), tracker: 't', instance: 1, n: 1 })}\n\n`,
      'event: dropped\ndata: {"dropped":2}\n\n',
      'event: alert\ndata: {"a":2}\n\n',
      'event: end\ndata: {"done":true}\n\n',
    ].join(''));
  });
});
