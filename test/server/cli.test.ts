/** `eunomia server` and `eunomia client` as processes: refusal off loopback, client commands, push and follow. */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { loadRules } from '../../src/rules/index.js';
import { buildBpf, freePort, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');

const run = promisify(execFile);
const TOKEN = 'cli-token-0123456789abcdef';

async function client(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, 'client', ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('eunomia server and client', { skip: needsRoot || needsClang }, () => {
  let server: ChildProcess;
  let err = '';
  let base: string;
  let metricsPort: number;
  const watch = new KernelWatch();

  before(async () => {
    const port = 30000 + (process.pid % 20000);
    base = `http://127.0.0.1:${port}`;
    metricsPort = await freePort();
    server = spawn(process.execPath, [bin, 'server', '--listen', `127.0.0.1:${port}`, '--token', TOKEN, '--no-containers', '--metrics-listen', `127.0.0.1:${metricsPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr!.on('data', (d) => (err += d));
    await waitFor(() => /server listening/.test(err), 'the server to start', 20_000);
    watch.note(server.pid);
  });
  after(async () => {
    if (server.exitCode === null) server.kill('SIGKILL');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('the server starts its default trackers and the rules\' trackers, and says where it listens', async () => {
    assert.match(err, new RegExp(`security rules: ${loadRules([]).rules().length} on; alerts to the log\n`));
    assert.match(err, new RegExp(`server listening on ${base} \\(token required\\); 7 trackers running: process, files, tcpconnect, opensnoop, mountsnoop, secsnoop, bindsnoop;`));
    assert.ok(watch.seen.progs.size >= 7);
    assert.match(err, new RegExp(`Prometheus metrics on http://127.0.0.1:${metricsPort}/metrics\n`));
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(metrics.status, 200, 'metrics need no token');
    assert.match(await metrics.text(), /^# TYPE eunomia_alerts_total counter$/m);
  });

  test('client: list, start, stop; the token is needed', async () => {
    const denied = await client(['--server', base, 'list']);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr.trim(), 'eunomia: server: 401 E_AUTH this API needs a token: send "Authorization: Bearer <token>"');
    const env = { EUNOMIA_TOKEN: TOKEN };
    const started = await client(['--server', base, 'start', 'opensnoop', '--failed'], env);
    assert.match(started.stdout, /^started opensnoop as instance 8\n$/);
    const list = await client(['--server', base, 'list'], env);
    assert.match(list.stdout, /^ID\s+NAME\s+KIND\s+EVENTS\s+LOST\s+UNDECODABLE\s+STARTED\n1\s+process\s+tracker\s+\d+\s+0\s+0\s/);
    assert.match(list.stdout, /\n8\s+opensnoop\s+tracker\s/);
    const stopped = await client(['--server', base, 'stop', '8'], env);
    assert.match(stopped.stdout, /^stopped instance 8: \d+ events, 0 lost, 0 undecodable\n$/);
    const gone = await client(['--server', base, 'stop', '8'], env);
    assert.equal(gone.stderr.trim(), 'eunomia: server: 404 E_NOT_FOUND no tracker instance with id 8');
    const bad = await client(['--server', base, 'start', 'nosuch'], env);
    assert.match(bad.stderr, /unknown tracker "nosuch"/);
    const closed = await freePort();
    const down = await client(['--server', `http://127.0.0.1:${closed}`, 'list']);
    assert.equal(down.stderr.trim(), `eunomia: cannot reach the server at http://127.0.0.1:${closed}: ECONNREFUSED — is "eunomia server" running?`);
  });

  test('compile, push, see events: the example program streams its opens as JSON lines', async () => {
    const obj = buildBpf(join(repoRoot, 'examples/opensnoop-lite/opensnoop.bpf.c'));
    const marker = join(mkdtempSync(join(tmpdir(), 'eunomia-push-')), 'pushed-marker');
    writeFileSync(marker, 'x');
    const push = spawn(process.execPath, [bin, 'client', '--server', base, '--token', TOKEN, 'push', obj, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    push.stdout!.on('data', (d) => (out += d));
    await waitFor(() => /^loaded opensnoop as instance \d+\n/.test(out), 'the push', 20_000);
    const id = Number(/instance (\d+)/.exec(out)![1]);
    watch.note(server.pid);
    await waitFor(() => {
      spawnSync('cat', [marker]);
      return out.includes(marker);
    }, 'the open of the marker on the stream', 20_000);
    const ev = out.split('\n').filter((l) => l.includes(marker)).map((l) => JSON.parse(l) as Record<string, unknown>)[0]!;
    assert.equal(ev.instance, id);
    assert.equal(ev.tracker, 'opensnoop');
    const exited = new Promise((r) => push.on('exit', r));
    await client(['--server', base, '--token', TOKEN, 'stop', String(id)]);
    assert.equal(await exited, 0, 'follow ends when the instance stops');
  });

  test('a third-party object whose BTF lacks its event: pushed with its header, its records decoded field by field', async () => {
    const obj = buildBpf(join(repoRoot, 'test/bpf/hot_local.bpf.c'));
    const marker = join(mkdtempSync(join(tmpdir(), 'eunomia-header-')), 'header-marker');
    writeFileSync(marker, 'x');
    const args = ['--server', base, '--token', TOKEN, 'push', obj, '--name', 'localsnoop', '--follow'];
    // Without the type: refused, saying how to send it.
    const refused = await client(args.filter((a) => a !== '--follow'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot tell how to decode the records of events: .*--header TOOL.h --event event/);
    const push = spawn(process.execPath, [bin, 'client', ...args, '--header', join(repoRoot, 'test/bpf/hot_local.h'), '--event', 'event'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    push.stdout!.on('data', (d) => (out += d));
    await waitFor(() => /^loaded localsnoop as instance \d+\n/.test(out), 'the push', 30_000);
    const id = Number(/instance (\d+)/.exec(out)![1]);
    watch.note(server.pid);
    let cat: number | undefined;
    await waitFor(() => {
      cat = spawnSync('cat', [marker]).pid;
      return out.includes(marker);
    }, 'the open of the marker on the stream', 20_000);
    const ev = JSON.parse(out.split('\n').find((l) => l.includes(marker))!) as Record<string, unknown>;
    assert.equal(ev.tracker, 'localsnoop');
    assert.equal(ev.fname, marker);
    assert.equal(ev.comm, 'cat');
    assert.equal(ev.uid, process.getuid!());
    assert.equal(ev.flags, 0, 'O_RDONLY');
    assert.equal(ev.dfd, -100, 'AT_FDCWD');
    assert.ok(typeof ev.pid === 'number' && ev.pid > 0 && typeof ev.ts === 'number' && cat !== undefined);
    const list = await client(['--server', base, '--token', TOKEN, 'list']);
    assert.match(list.stdout, new RegExp(`\\n${id}\\s+localsnoop\\s+program\\s+\\d+\\s+0\\s+0\\s`), 'events, 0 lost, 0 undecodable');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^eunomia_decode_errors_total\{tracker="localsnoop"\} 0$/m);
    const exited = new Promise((r) => push.on('exit', r));
    await client(['--server', base, '--token', TOKEN, 'stop', String(id)]);
    assert.equal(await exited, 0);
  });

  test('SIGTERM: the server stops everything and prints each instance\'s counters', async () => {
    const exited = new Promise((r) => server.on('exit', r));
    server.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(err, /SIGTERM: stopping/);
    assert.match(err, /process #1: \d+ events seen, 0 lost \(kernel ring buffer 0, native queue 0\), 0 undecodable/);
    assert.match(err, /streams: \d+ events sent to clients, 0 dropped for slow clients/);
  });
});

describe('eunomia server refuses what is unsafe or wrong', { skip: needsRoot }, () => {
  const server = (args: string[]) => spawnSync(process.execPath, [bin, 'server', ...args], { encoding: 'utf8', timeout: 30_000 });

  test('off loopback without a token: one line, exit 1, nothing started', () => {
    const r = server(['--listen', '0.0.0.0:0', '--no-containers']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'eunomia: listening on 0.0.0.0:0 (not loopback) needs a token: --token, --token-file or "token" in the config — anyone who reaches the port could load code into the kernel');
  });

  test('a bad config file: one line naming the file and key', () => {
    const p = join(mkdtempSync(join(tmpdir(), 'eunomia-cfg-')), 'server.toml');
    writeFileSync(p, 'listen = "127.0.0.1:0"\nprometheus = true\n');
    const r = server(['--config', p]);
    assert.equal(r.status, 1);
    assert.match(r.stderr.trim(), new RegExp(`^eunomia: config ${p}: unknown key "prometheus" \\(known here: .*\\)$`));
  });
});
