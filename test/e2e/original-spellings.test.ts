/**
 * The original Eunomia's spellings, end to end, each with its one-line note: `run tcp`,
 * `run hotupdate '<package JSON>'`, `--container-id`, the `prometheus` export handler of
 * POST /start, and its metric names (metrics.original_names) on /metrics.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerAsync, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { freePort, needsRoot, repoRoot, startRun, waitFor } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');
const hostCc = ['cc', 'gcc', 'clang-16'].find((c) => spawnSync(c, ['--version']).status === 0);
const seedJson = readFileSync(join(repoRoot, 'test/fixtures/seed-hotupdate.json'), 'utf8');
/** This process's task name, as the trackers report it. */
const comm = readFileSync('/proc/self/comm', 'utf8').trim();

const NOTE_TCP = 'tracker "tcp" is deprecated (the original Eunomia\'s): read as tcpconnect';
const NOTE_CONTAINER_ID = '--container-id is deprecated (the original Eunomia\'s): read as --container';
const NOTE_PROMETHEUS = 'export handler "prometheus" is deprecated (the original Eunomia\'s): read as on — the instance\'s metric families are exported on /metrics, as every instance\'s are (docs/metrics.md)';
const NOTE_HOTUPDATE = '"run hotupdate" is deprecated (the original Eunomia\'s): read as the package run here without a server, as "eunomia client push FILE --follow" runs it on one';


const jsonLines = (text: string): Record<string, unknown>[] => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Opens a TCP connection to `port` on loopback and closes it once established. */
async function connectOnce(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.end();
      resolve();
    });
    s.on('error', reject);
  });
}

/** A sample's value on a /metrics page: the line with exactly this name and label text. */
/** Whether a process's stderr has this line. */
const hasLine = (text: string, line: string): boolean => text.split('\n').includes(line);

function sample(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the original Eunomia's spellings", { skip: needsRoot }, () => {
  let dir: string;
  let listener: Server;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eunomia-spellings-'));
    listener = createServer((s) => s.resume()).listen(0, '127.0.0.1');
    await new Promise((r) => listener.once('listening', r));
    port = (listener.address() as { port: number }).port;
  });
  after(() => {
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('run tcp: read as tcpconnect, with its note; a real connect is traced', async () => {
    const cli = await startRun(['tcp', '--port', String(port), '--fmt', 'json', '-T', '3']);
    await connectOnce(port);
    assert.equal(await cli.exited, 0, cli.err());
    assert.ok(hasLine(cli.err(), `eunomia: ${NOTE_TCP}`), cli.err());
    const connects = jsonLines(cli.out()).filter((e) => e.direction === 'connect');
    assert.equal(connects.length, 1, cli.out());
    assert.equal(connects[0]!.tracker, 'tcpconnect');
    assert.equal(connects[0]!.pid, process.pid);
    assert.equal(connects[0]!.dport, port);
    assert.equal(connects[0]!.result, '0');
  });

  test('run hotupdate "$(cat seed-hotupdate.json)": the seed\'s package runs without a server; its open(2) is printed', { skip: !hostCc && 'no host C compiler (cc, gcc or clang-16) for the open(2) helper' }, async () => {
    // The seed's program is on sys_enter_open, which libc no longer calls: a helper calls it.
    const opener = join(dir, 'opener');
    writeFileSync(`${opener}.c`, '#define _GNU_SOURCE\n#include <fcntl.h>\n#include <sys/syscall.h>\n#include <unistd.h>\nint main(int c, char **v) { return syscall(SYS_open, v[1], O_RDONLY) < 0; }\n');
    execFileSync(hostCc!, ['-O1', '-o', opener, `${opener}.c`], { stdio: 'pipe' });
    const target = join(dir, 'hotupdate-target.txt');
    writeFileSync(target, 'x\n');
    const cli = await startRun(['hotupdate', seedJson, '--fmt', 'json', '-T', '3']);
    const r = spawnSync(opener, [target]);
    assert.equal(r.status, 0, 'the helper opened the file');
    assert.equal(await cli.exited, 0, cli.err());
    assert.ok(hasLine(cli.err(), `eunomia: ${NOTE_HOTUPDATE}`), cli.err());
    const hits = jsonLines(cli.out()).filter((e) => e.filename === target);
    assert.equal(hits.length, 1, cli.out());
    assert.equal(hits[0]!.pid, r.pid);
    assert.equal(hits[0]!.tracker, 'hotupdate');
    assert.match(cli.err(), /hotupdate: \d+ events seen, 0 lost .*, 0 undecodable/);
  });

  test('run hotupdate without the package: a usage error naming what is missing', () => {
    const r = spawnSync(process.execPath, [bin, 'run', 'hotupdate', '-T', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^eunomia: "run hotupdate" needs the package JSON as its argument/);
  });

  describe('eunomia server: POST /start with "tcp" and the prometheus handler; metrics.original_names', () => {
    let server: ChildProcess;
    let err = '';
    let base: string;
    let metrics: string;

    before(async () => {
      const config = join(dir, 'original-names.toml');
      writeFileSync(config, 'trackers = []\n[rules]\nenabled = false\n[metrics]\noriginal_names = true\n');
      const apiPort = await freePort();
      const metricsPort = await freePort();
      base = `http://127.0.0.1:${apiPort}`;
      metrics = `http://127.0.0.1:${metricsPort}/metrics`;
      server = spawn(process.execPath, [bin, 'server', '--config', config, '--listen', `127.0.0.1:${apiPort}`, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--no-store'], { stdio: ['ignore', 'ignore', 'pipe'] });
      server.stderr!.on('data', (d) => (err += d));
      await waitFor(() => /server listening/.test(err) || server.exitCode !== null, 'the server to start', 20_000);
      assert.match(err, /server listening/, err);
    });
    after(() => {
      if (server.exitCode === null) server.kill('SIGINT');
    });

    const start = async (body: unknown): Promise<{ status: string; id: number; notes?: string[] }> => {
      const r = await fetch(`${base}/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 200, await r.clone().text());
      return (await r.json()) as { status: string; id: number; notes?: string[] };
    };
    const page = async (): Promise<string> => (await fetch(metrics)).text();

    test('"tcp" with the prometheus handler: notes for both; connects counted under both names', async () => {
      const answer = await start({ name: 'tcp', export_handlers: [{ name: 'prometheus', args: [] }], args: ['--port', String(port)] });
      assert.deepEqual(answer, { status: 'ok', id: answer.id, notes: [NOTE_PROMETHEUS, NOTE_TCP] });
      const list = (await (await fetch(`${base}/list`)).json()) as { list: { id: number; name: string }[] };
      assert.deepEqual(list.list, [{ id: answer.id, name: 'tcpconnect' }]);
      for (let i = 0; i < 3; i++) await connectOnce(port);
      const current = `eunomia_tcp_connections_total{comm="${comm}",direction="connect",family="ipv4",port="${port}",result="0"}`;
      const original = `eunomia_observed_tcp_v4_count{uid="${process.getuid!()}",task="${comm}",port="${port}"}`;
      let text = '';
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        text = await page();
        if (sample(text, current) === 3 && sample(text, original) === 3) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(sample(text, current), 3, `${current} in:\n${text.split('\n').filter((l) => l.includes('tcp')).join('\n')}`);
      assert.equal(sample(text, original), 3, 'the original name counts the same connects (not the accepts)');
      assert.match(text, /^# TYPE eunomia_observed_tcp_v4_count counter$/m);
    });

    test('without the prometheus handler the families are exported all the same (the current behaviour); no notes', async () => {
      const answer = await start({ name: 'process', export_handlers: [{ name: 'none', args: [] }] });
      assert.deepEqual(answer, { status: 'ok', id: answer.id });
      const marker = join(dir, 'spell-true');
      writeFileSync(marker, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      for (let i = 0; i < 2; i++) execFileSync(marker);
      const current = 'eunomia_process_execs_total{comm="spell-true"}';
      const original = 'eunomia_bserved_process_start{comm="spell-true"}';
      const originalEnd = 'eunomia_observed_process_end{comm="spell-true",exit_code="0"}';
      let text = '';
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        text = await page();
        if (sample(text, current) === 2 && sample(text, original) === 2 && sample(text, originalEnd) === 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(sample(text, current), 2, text.split('\n').filter((l) => l.includes('spell-true')).join('\n'));
      assert.equal(sample(text, original), 2);
      assert.equal(sample(text, originalEnd), 2);
    });

    test('--container-id in /start args: read as --container, with its note', async () => {
      const answer = await start({ name: 'opensnoop', args: ['--container-id', 'no-such-container'] });
      assert.deepEqual(answer.notes, [NOTE_CONTAINER_ID]);
      const inst = (await (await fetch(`${base}/instances/${answer.id}`)).json()) as { options: Record<string, unknown> };
      assert.equal(inst.options.container, 'no-such-container');
    });
  });

  test('without metrics.original_names: the current families only, none of the original\'s names', async () => {
    const metricsPort = await freePort();
    const cli = await startRun(['tcpconnect', '--port', String(port), '--prometheus', '--metrics-listen', `127.0.0.1:${metricsPort}`, '-T', '4', '-o', '/dev/null']);
    await connectOnce(port);
    const current = `eunomia_tcp_connections_total{comm="${comm}",direction="connect",family="ipv4",port="${port}",result="0"}`;
    let text = '';
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && sample(text, current) !== 1) {
      text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await cli.exited, 0, cli.err());
    assert.equal(sample(text, current), 1, text);
    assert.doesNotMatch(text, /eunomia_observed_|eunomia_bserved_|eunomia_capable_counter/);
  });
});

describe('--container-id: the original spelling of --container, on a real container', { skip: needsDocker }, () => {
  const names: string[] = [];
  let web: string;

  before(() => {
    web = uniqueName('spellings-web');
    names.push(web);
    startSleeper(web);
  });
  after(() => removeContainers(...names));

  test('run opensnoop --container-id NAME: only that container\'s opens, with the note', async () => {
    const cli = await startRun(['opensnoop', '--container-id', web, '--fmt', 'json', '-T', '4']);
    const marker = `/etc/spellings-marker-${process.pid}`;
    await dockerAsync('exec', web, 'cat', marker).catch(() => {}); // the open fails (ENOENT): still an event
    spawnSync('cat', [marker]); // the same open on the host: filtered out in the kernel
    assert.equal(await cli.exited, 0, cli.err());
    assert.ok(hasLine(cli.err(), `eunomia: ${NOTE_CONTAINER_ID}`), cli.err());
    const events = jsonLines(cli.out());
    const hits = events.filter((e) => e.path === marker);
    assert.equal(hits.length, 1, `exactly the container's open of ${marker}`);
    assert.equal((hits[0]!.container as { name: string }).name, web);
    // Nothing from elsewhere: the container's events, and the runtime's work in its cgroup (the host, with `setup` naming it).
    for (const e of events) {
      const c = e.container as { name: string; setup?: { name: string } };
      assert.equal(c.setup?.name ?? c.name, web, JSON.stringify(e));
    }
  });
});
