/** The tcpconnlat tracker on the real kernel: latency of connects made by this process. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { tcpconnlatTracker } from '../../src/trackers/tcpconnlat/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot, waitFor } from '../helpers.js';
import { traceWhile } from './harness.js';

async function listen(host: string): Promise<Server> {
  const s = createServer((c) => c.on('error', () => {}).end());
  s.listen(0, host);
  await once(s, 'listening');
  return s;
}

const portOf = (s: Server): number => (s.address() as { port: number }).port;

/** Connects and returns the client socket's local port. */
async function connectTo(port: number, host: string): Promise<number> {
  const c = connect(port, host);
  await once(c, 'connect');
  const local = c.localPort!;
  c.destroy();
  return local;
}

/** A refused connect: returns the error code. */
async function refused(port: number): Promise<string | undefined> {
  const c = connect(port, '127.0.0.1');
  const [err] = (await once(c, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
  return err.code;
}

const comm = readFileSync('/proc/self/comm', 'utf8').trim();
const mine = (events: TrackerEvent[], sport: number, dport: number): TrackerEvent[] =>
  events.filter((e) => e.data.pid === process.pid && e.data.sport === sport && e.data.dport === dport);

describe('tcpconnlat tracker', { skip: needsRoot }, () => {
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

  test('one event per connect, with the connecting process, addresses, ports and latency', async () => {
    let a = 0;
    let b = 0;
    const { events, stats } = await traceWhile(
      tcpconnlatTracker,
      {},
      async () => {
        a = await connectTo(portOf(v4), '127.0.0.1');
        b = await connectTo(portOf(v6), '::1');
      },
      (ev) => mine(ev, a, portOf(v4)).length > 0 && mine(ev, b, portOf(v6)).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    for (const [sport, server, family, addr] of [[a, v4, 'ipv4', '127.0.0.1'], [b, v6, 'ipv6', '::1']] as const) {
      const got = mine(events, sport, portOf(server));
      assert.equal(got.length, 1, `one ${family} event`);
      const e = got[0]!;
      assert.equal(e.tracker, 'tcpconnlat');
      assert.equal(e.data.tid, process.pid, 'the connecting thread, stored at SYN_SENT');
      assert.equal(e.data.comm, comm);
      assert.equal(e.data.uid, process.getuid!());
      assert.equal(e.data.family, family);
      assert.equal(e.data.saddr, addr);
      assert.equal(e.data.daddr, addr);
      const ns = Number(e.data.latency_ns);
      assert.ok(ns > 0 && ns < 1e9, `latency ${ns} ns`);
    }
  });

  test('--min-us drops faster connects in the kernel (an unfiltered instance sees the same connect)', async () => {
    const native = loadNative();
    preflight(native);
    const events: TrackerEvent[] = [];
    const m = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
    const slow = m.start(tcpconnlatTracker, { minUs: 10_000_000, includeSelf: true });
    const all = m.start(tcpconnlatTracker, { includeSelf: true });
    watch.note();
    let sport = 0;
    try {
      sport = await connectTo(portOf(v4), '127.0.0.1');
      await waitFor(() => mine(events, sport, portOf(v4)).some((e) => e.instance === all.id), 'the unfiltered event');
    } finally {
      await m.stopAll();
    }
    const got = mine(events, sport, portOf(v4));
    assert.equal(got.filter((e) => e.instance === all.id).length, 1);
    assert.equal(got.filter((e) => e.instance === slow.id).length, 0, 'below 10 s: filtered');
    assert.ok(Number(got[0]!.data.latency_ns) < 10e9);
  });

  test('a refused connect produces no latency event', async () => {
    const closed = await listen('127.0.0.1');
    const port = portOf(closed);
    await new Promise((r) => closed.close(r));
    let code: string | undefined;
    let after = 0;
    const { events, stats } = await traceWhile(
      tcpconnlatTracker,
      {},
      async () => {
        code = await refused(port);
        after = await connectTo(portOf(v4), '127.0.0.1'); // seen => the refused one would be too
      },
      (ev) => mine(ev, after, portOf(v4)).length > 0,
      { watch },
    );
    assert.equal(code, 'ECONNREFUSED');
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(mine(events, after, portOf(v4)).length, 1);
    assert.equal(events.filter((e) => e.data.dport === port).length, 0);
  });
});
