/** The tcpconnect tracker on the real kernel: connects and accepts made by this process. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { tcpconnectTracker } from '../../src/trackers/tcpconnect/index.js';
import { KernelWatch, NOTHING_LEFT, heldBy, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

async function listen(host: string): Promise<Server> {
  const s = createServer((c) => c.on('error', () => {}).end());
  s.listen(0, host);
  await once(s, 'listening');
  return s;
}

const portOf = (s: Server): number => (s.address() as { port: number }).port;

interface Made {
  client: number; // the client socket's local port
  server: number;
}

/** Connects to the server and waits until the server has accepted it. */
async function connectTo(s: Server, host: string): Promise<Made> {
  const accepted = once(s, 'connection');
  const c: Socket = connect(portOf(s), host);
  await once(c, 'connect');
  const client = c.localPort!;
  await accepted;
  c.destroy();
  return { client, server: portOf(s) };
}

/** A port nothing listens on: one the kernel just gave out and took back. */
async function closedPort(): Promise<number> {
  const s = await listen('127.0.0.1');
  const port = portOf(s);
  await new Promise((r) => s.close(r));
  return port;
}

const comm = readFileSync('/proc/self/comm', 'utf8').trim();

const mine = (events: TrackerEvent[], dir: string, sport: number, dport: number): TrackerEvent[] =>
  events.filter((e) => e.data.pid === process.pid && e.data.direction === dir && e.data.sport === sport && e.data.dport === dport);

describe('tcpconnect tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();
  let v4: Server;
  let v6: Server;

  before(async () => {
    v4 = await listen('127.0.0.1');
    v6 = await listen('::1');
  });

  after(async () => {
    await new Promise((r) => v4.close(r));
    await new Promise((r) => v6.close(r));
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('reports the connect and the accept of an IPv4 and an IPv6 connection', async () => {
    let a!: Made;
    let b!: Made;
    const { events, stats } = await traceWhile(
      tcpconnectTracker,
      {},
      async () => {
        a = await connectTo(v4, '127.0.0.1');
        b = await connectTo(v6, '::1');
      },
      (ev) => [a, b].every((m) => mine(ev, 'connect', m.client, m.server).length && mine(ev, 'accept', m.client, m.server).length),
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    for (const [m, family, addr] of [[a, 'ipv4', '127.0.0.1'], [b, 'ipv6', '::1']] as const) {
      const [conn] = mine(events, 'connect', m.client, m.server);
      const [acc] = mine(events, 'accept', m.client, m.server);
      assert.ok(conn, `${family} connect event`);
      assert.ok(acc, `${family} accept event`);
      for (const e of [conn, acc]) {
        assert.equal(e.tracker, 'tcpconnect');
        assert.equal(e.data.tid, process.pid, 'made on the main thread');
        assert.equal(e.data.uid, process.getuid!());
        assert.equal(e.data.comm, comm);
        assert.equal(e.data.family, family);
        assert.equal(e.data.family_raw, family === 'ipv4' ? 2 : 10);
        assert.equal(e.data.saddr, addr);
        assert.equal(e.data.daddr, addr);
        assert.equal(e.data.established, true);
        assert.equal(e.data.result, '0');
      }
      assert.equal(mine(events, 'connect', m.client, m.server).length, 1, 'one connect event');
      assert.equal(mine(events, 'accept', m.client, m.server).length, 1, 'one accept event');
    }
  });

  test('a refused connect is reported with ECONNREFUSED', async () => {
    const port = await closedPort();
    let failed: string | undefined;
    const { events, stats } = await traceWhile(
      tcpconnectTracker,
      {},
      async () => {
        const c = connect(port, '127.0.0.1');
        const [err] = (await once(c, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
        failed = err.code;
      },
      (ev) => ev.some((e) => e.data.pid === process.pid && e.data.dport === port),
      { watch },
    );
    assert.equal(failed, 'ECONNREFUSED');
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    const got = events.filter((e) => e.data.pid === process.pid && e.data.dport === port);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.data.direction, 'connect');
    assert.equal(got[0]!.data.established, false);
    assert.equal(got[0]!.data.error_raw, 111);
    assert.equal(got[0]!.data.result, 'ECONNREFUSED');
    assert.equal(got[0]!.data.daddr, '127.0.0.1');
    assert.ok(Number(got[0]!.data.sport) > 0, 'the source port was chosen by then');
  });

  test('--port keeps only connections to that server port', async () => {
    let a!: Made;
    let b!: Made;
    const { events, stats } = await traceWhile(
      tcpconnectTracker,
      { port: portOf(v4) },
      async () => {
        b = await connectTo(v6, '::1'); // filtered out, made first
        a = await connectTo(v4, '127.0.0.1');
      },
      (ev) => mine(ev, 'connect', a.client, a.server).length > 0 && mine(ev, 'accept', a.client, a.server).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(mine(events, 'connect', a.client, a.server).length, 1);
    assert.equal(mine(events, 'accept', a.client, a.server).length, 1);
    assert.equal(events.filter((e) => e.data.dport === b.server).length, 0, 'the other port filtered in the kernel');
    assert.ok(events.every((e) => e.data.dport === a.server), 'only the chosen port, whoever made it');
  });

  test('--connect-only loads no accept program and reports no accept', async () => {
    let a!: Made;
    let programs = 0;
    let all = 0;
    const { events, stats } = await traceWhile(
      tcpconnectTracker,
      { connectOnly: true },
      async () => {
        programs = heldBy().progs.size;
        a = await connectTo(v4, '127.0.0.1');
      },
      (ev) => mine(ev, 'connect', a.client, a.server).length > 0,
      { watch },
    );
    await traceWhile(tcpconnectTracker, {}, () => (all = heldBy().progs.size), () => true, { watch });
    assert.equal(programs, 1, 'only the sock:inet_sock_set_state program');
    assert.equal(all, 3, 'by default also the accept and accept4 exits');
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(mine(events, 'connect', a.client, a.server).length, 1);
    assert.equal(mine(events, 'accept', a.client, a.server).length, 0);
    assert.ok(events.every((e) => e.data.direction === 'connect'));
  });

  for (const [flag, keep, drop] of [['ipv6', 'ipv6', 'ipv4'], ['ipv4', 'ipv4', 'ipv6']] as const) {
    test(`--${flag} keeps only ${keep} connections`, async () => {
      let a!: Made;
      let b!: Made;
      const [kept, dropped] = keep === 'ipv4' ? [v4, v6] : [v6, v4];
      const host = (s: Server): string => (s === v4 ? '127.0.0.1' : '::1');
      const { events, stats } = await traceWhile(
        tcpconnectTracker,
        { [flag]: true },
        async () => {
          b = await connectTo(dropped, host(dropped));
          a = await connectTo(kept, host(kept));
        },
        (ev) => mine(ev, 'connect', a.client, a.server).length > 0 && mine(ev, 'accept', a.client, a.server).length > 0,
        { watch },
      );
      assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
      assert.equal(mine(events, 'connect', a.client, a.server)[0]!.data.family, keep);
      assert.equal(mine(events, 'connect', b.client, b.server).length + mine(events, 'accept', b.client, b.server).length, 0);
      assert.ok(events.every((e) => e.data.family === keep), `no ${drop} event at all`);
    });
  }
});
