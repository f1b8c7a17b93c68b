/**
 * The store in a real agent, on the real kernel: a timed instance started over the API stops
 * itself, is listed as finished with its final counters, and its events (an aggregating
 * tracker's reports, a streaming tracker's events) are in the store; alerts are stored; the
 * store's metric families are exported and documented; the history is there after a restart.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadNative } from '../../src/core/native.js';
import { Agent, type InstanceView } from '../../src/agent/agent.js';
import { defaultConfig, type ServerConfig } from '../../src/agent/config.js';
import { buildApi } from '../../src/server/http.js';
import { needsRoot, repoRoot, waitFor } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-store-agent-'));
const path = join(dir, 'events.db');

function config(): ServerConfig {
  const c = defaultConfig();
  c.trackers = [];
  c.containers = false;
  c.rules.trackers = false;
  // Only what the test stores: the timed instances' events, and alerts.
  c.store = { ...c.store, path, trackers: [] };
  return c;
}

describe('the store in the agent', { skip: needsRoot }, () => {
  let agent: Agent;
  let app: FastifyInstance;
  let timedReports = 0;
  let timedId = 0;
  let execId = 0;

  before(async () => {
    agent = await Agent.start(config(), { native: loadNative(), log: () => {} });
    app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
  });
  after(async () => {
    await app?.close();
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => app.inject({ method, url, ...(payload !== undefined ? { payload: payload as string } : {}) });

  test('a timed instance stops itself, stays listed as finished, and its reports are in the store', async () => {
    const started = Date.now();
    const post = await inject('POST', '/instances', { tracker: 'syscount', options: { interval: 1 }, duration: 2 });
    assert.equal(post.statusCode, 201, post.body);
    const view = post.json() as InstanceView;
    timedId = view.id;
    assert.equal(view.state, 'running');
    assert.equal(view.duration, 2);
    assert.ok(Date.parse(view.stopsAt!) >= started + 2000);
    // Also a streaming tracker, timed; its exec events are stored though `store.trackers` is empty.
    const exec = (await inject('POST', '/instances', { tracker: 'process', options: { includeSelf: true }, duration: 3 })).json() as InstanceView;
    execId = exec.id;
    for (let i = 0; i < 3; i++) execFileSync('/bin/true');
    const get = async (id: number): Promise<InstanceView> => (await inject('GET', `/instances/${id}`)).json() as InstanceView;
    let done = await get(timedId);
    while (done.state !== 'finished' && Date.now() - started < 6000) {
      await new Promise((r) => setTimeout(r, 100));
      done = await get(timedId);
    }
    assert.equal(done.state, 'finished', 'it stopped itself');
    const took = Date.parse(done.stoppedAt!) - Date.parse(done.startedAt);
    assert.ok(took >= 1900 && took < 4000, `it ran ~2 s (${took} ms)`);
    assert.ok(done.stats.events > 0, 'its final counters');
    assert.equal(agent.manager.get(timedId), undefined, 'nothing of it runs');
    const list = ((await inject('GET', '/instances')).json() as { instances: InstanceView[] }).instances;
    assert.deepEqual(list.filter((i) => i.id === timedId).map((i) => i.state), ['finished']);
    assert.deepEqual(agent.list().map((i) => i.id).filter((id) => id === timedId), [], 'the running list (the seed API\'s /list, the logs) has it not');
    // No stream and no stop for what has finished; the way to its events is said.
    const stream = await inject('GET', `/instances/${timedId}/events`);
    assert.equal(stream.statusCode, 409);
    assert.match(stream.body, /GET \/query\?instance=/);
    assert.equal((await inject('DELETE', `/instances/${timedId}`)).statusCode, 409);
    await agent.store!.flush();
    const rows = [...agent.store!.scan({ kind: 'event', instance: timedId })];
    timedReports = rows.length;
    assert.ok(rows.length > 0, 'the reports are stored');
    assert.ok(rows.every((r) => r.tracker === 'syscount' && typeof (r.record.data as { count?: unknown }).count === 'number'), 'as the tracker\'s rows');
    // The last, partial interval was reported at the stop: a report at or after 2 s.
    assert.ok(rows[0]!.time >= Date.parse(done.startedAt) + 1500, 'the final report');

    await waitFor(() => agent.get(execId).state === 'finished', 'the process instance to stop', 6000);
    await agent.store!.flush();
    const execs = [...agent.store!.scan({ kind: 'event', instance: execId })].filter((r) => (r.record.data as { type?: string }).type === 'exec');
    assert.ok(execs.length >= 3, `the execs are stored (${execs.length})`);
    assert.ok(execs.some((r) => r.comm === 'true'));
  });

  test('duration must be a whole number of seconds from 1 to 86400', async () => {
    for (const duration of [0, 86_401, 1.5, '30', -1]) {
      const r = await inject('POST', '/instances', { tracker: 'process', duration });
      assert.equal(r.statusCode, 400, JSON.stringify(duration));
      assert.equal((r.json() as { error: { code: string } }).error.code, 'E_REQUEST');
      assert.match(r.body, /duration/);
    }
    assert.throws(() => agent.startTracker('process', {}, { duration: 0 }), { code: 'E_REQUEST', message: /duration must be a whole number of seconds from 1 to 86400, got 0/ });
    assert.deepEqual(agent.list(), [], 'nothing started');
  });

  test('alerts are stored; the store\'s families are exported and documented', async () => {
    const t = Date.now();
    // An exec from /dev/shm (rule dev_shm_exec) by a process that is not the agent's.
    agent.pipeline.push({ tracker: 'process', instance: 9999, time: t, data: { pid: 4_000_000, tid: 4_000_000, ppid: 1, uid: 0, comm: 'nc', type: 'exec', filename: '/dev/shm/nc', exe: '/dev/shm/nc', args: 'nc', args_size: 3 } });
    await agent.store!.flush();
    const alerts = [...agent.store!.scan({ kind: 'alert', rule: 'dev_shm_exec', from: t - 1, to: t + 1 })];
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.comm, 'nc');
    assert.equal(alerts[0]!.tracker, 'process');
    assert.equal([...agent.store!.scan({ kind: 'event', instance: 9999 })].length, 0, 'the event itself: not a stored tracker');
    const text = await agent.metrics.metrics();
    const doc = readFileSync(join(repoRoot, 'docs/metrics.md'), 'utf8');
    const families = ['eunomia_store_rows', 'eunomia_store_bytes', 'eunomia_store_file_bytes', 'eunomia_store_queue', 'eunomia_store_writer_thread', 'eunomia_store_writer_moves_total', 'eunomia_store_written_total', 'eunomia_store_evicted_total', 'eunomia_store_dropped_total'];
    for (const f of families) {
      assert.match(text, new RegExp(`^# TYPE ${f.replace(/_total$/, '(_total)?')} `, 'm'), f);
      assert.ok(doc.includes(`\`${f}\``), `${f} is in docs/metrics.md`);
    }
    const rows = Number(/^eunomia_store_rows\{kind="event"\} (\d+)/m.exec(text)?.[1]);
    assert.equal(rows, agent.store!.stats().events.rows);
    assert.ok(rows >= timedReports);
    assert.match(text, /^eunomia_store_written_total\{kind="alert"\} [1-9]/m);
    assert.match(text, /^eunomia_store_evicted_total\{kind="event",reason="ttl"\} 0/m);
    const writer = agent.store!.stats().writer;
    assert.match(text, new RegExp(`^eunomia_store_writer_thread ${writer.on === 'thread' ? 1 : 0}$`, 'm'));
    assert.match(text, new RegExp(`^eunomia_store_writer_moves_total ${writer.moves}$`, 'm'));
  });

  test('the history is there after the agent restarts', async () => {
    const before = [...agent.store!.scan({ kind: 'event', instance: timedId })].map((r) => r.id);
    await app.close();
    await agent.close();
    agent = await Agent.start(config(), { native: loadNative(), log: () => {} });
    app = await buildApi(agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
    assert.deepEqual([...agent.store!.scan({ kind: 'event', instance: timedId })].map((r) => r.id), before);
    assert.ok(before.length > 0);
    assert.equal([...agent.store!.scan({ kind: 'alert', rule: 'dev_shm_exec' })].length, 1);
    assert.equal(agent.store!.stats().events.written, 0, 'written counts this run');
  });

  test('a database the writer refuses fails the start, after the trackers loaded meanwhile, and leaves nothing running', async () => {
    // The writer's thread starts while the trackers load (the start does not wait for it first).
    const bad = join(dir, 'other.db');
    const { openDatabase } = await import('../../src/store/schema.js');
    const raw = openDatabase(bad, 'writer');
    raw.pragma('user_version = 99');
    raw.close();
    const c = config();
    c.store.path = bad;
    c.trackers = [{ name: 'process', options: {} }];
    // This process's BPF links (not the machine's: other processes attach and detach meanwhile).
    const links = (): number => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:bpf_link'; } catch { return false; } }).length;
    const before = links();
    await assert.rejects(Agent.start(c, { native: loadNative(), log: () => {} }), (e: Error & { code?: string }) => e.code === 'E_IO' && /not an event store of this version.*--no-store/.test(e.message));
    assert.equal(links(), before, 'the process tracker\'s programs are detached again');
  });

  test('--no-store: no store, no families', async () => {
    const c = config();
    c.store.enabled = false;
    const bare = await Agent.start(c, { native: loadNative(), log: () => {} });
    try {
      assert.equal(bare.store, undefined);
      assert.doesNotMatch(await bare.metrics.metrics(), /eunomia_store_/);
      // A timed instance without a store still stops itself and stays listed.
      const i = bare.startTracker('process', {}, { duration: 1 });
      assert.equal(bare.get(i.id).state, 'running');
      await waitFor(() => bare.get(i.id).state === 'finished', 'it to stop', 4000);
      assert.ok(bare.get(i.id).stoppedAt);
    } finally {
      await bare.close();
    }
  });
});
