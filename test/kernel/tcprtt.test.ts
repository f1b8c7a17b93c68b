/** The tcprtt tracker on the real kernel: RTT histograms of loopback connections we make. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import type { Bucket } from '../../src/trackers/histogram.js';
import { addressBytes } from '../../src/trackers/tcprtt/address.js';
import { tcprttTracker } from '../../src/trackers/tcprtt/index.js';
import type { OptionValues } from '../../src/runtime/types.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const ROUNDS = 200;

async function listen(host: string): Promise<net.Server> {
  const server = net.createServer((s) => s.on('data', (d) => s.write(d)).on('error', () => {}));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return server;
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

/** ROUNDS one-byte request/response exchanges on a new connection; returns the client's local port. */
async function pingPong(host: string, port: number, localAddress?: string): Promise<number> {
  const c = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  await new Promise<void>((resolve, reject) => c.once('connect', resolve).once('error', reject));
  const local = c.localPort!;
  for (let i = 0; i < ROUNDS; i++) {
    c.write('x');
    await new Promise((r) => c.once('data', r));
  }
  await new Promise<void>((r) => c.end(r));
  return local;
}

const bucketSum = (row: Record<string, unknown>): number => (row.buckets as Bucket[]).reduce((s, b) => s + b.count, 0);

let ipv6 = true;
try {
  (await listen('::1')).close();
} catch {
  ipv6 = false;
}

/** The cgroup v2 directory of this process (its sockets are charged to it). */
function ownCgroupDir(): string | undefined {
  const path = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const mount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4];
  return path !== undefined && mount ? join(mount, path) : undefined;
}

describe('tcprtt tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();
  after(async () => assert.deepEqual(await watch.leftovers(), NOTHING_LEFT));

  /** Traces `work`, reporting only at stop. */
  async function trace(options: OptionValues, work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
    const { events, stats } = await traceWhile(tcprttTracker, { interval: 3600, top: 0, ...options }, work, () => true, { watch });
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.ok(events.every((e) => e.tracker === 'tcprtt'));
    return events.map((e) => e.data);
  }

  test('a histogram of the server side of a loopback connection: buckets sum to the count', async () => {
    const server = await listen('127.0.0.1');
    const rows = await trace({ lport: portOf(server) }, () => pingPong('127.0.0.1', portOf(server)));
    server.close();
    assert.equal(rows.length, 1, 'one histogram without grouping');
    const [r] = rows as [Record<string, unknown>];
    assert.equal(r.unit, 'usecs');
    assert.ok(Number(r.count) >= ROUNDS, `a sample per received segment (${r.count})`);
    assert.equal(bucketSum(r), r.count);
    const buckets = r.buckets as Bucket[];
    assert.deepEqual(buckets[0], { low: 0, high: 1, count: buckets[0]!.count });
    assert.ok(buckets.at(-1)!.count > 0, 'trailing empty slots dropped');
    assert.ok(Number(r.avg) > 0 && Number(r.avg) < 1e6, `average ${r.avg} µs`);
    assert.ok(!('raddr' in r) && !('lport' in r));

    const text = tcprttTracker.plain!(r);
    assert.match(text, /^ +usecs : count +distribution$/m);
    assert.match(text, /^ *\d+ -> \d+ : \d+ +\|\*+ *\|$/m, 'a bar of stars');
    assert.ok(text.includes(`count ${r.count}, avg ${r.avg} usecs`));
  });

  test('--lport and --rport select one side of a connection; other ports get no samples', async () => {
    const a = await listen('127.0.0.1');
    const b = await listen('127.0.0.1');
    let clientA = 0;
    const both = async () => {
      [clientA] = await Promise.all([pingPong('127.0.0.1', portOf(a)), pingPong('127.0.0.1', portOf(b))]);
    };
    const byRport = await trace({ rport: portOf(a), byLport: true }, both);
    assert.deepEqual(byRport.map((r) => r.lport), [clientA], 'only the client socket of connection A');
    const byLport = await trace({ lport: portOf(b), byLport: true }, both);
    assert.deepEqual(byLport.map((r) => r.lport), [portOf(b)], 'only the server socket of B');
    assert.ok(Number(byLport[0]!.count) >= ROUNDS);
    a.close();
    b.close();
  });

  test('--by-raddr, --laddr and --raddr with IPv4 addresses', async () => {
    const server = await listen('127.0.0.3');
    const port = portOf(server);
    const work = () => Promise.all([pingPong('127.0.0.3', port, '127.0.0.1'), pingPong('127.0.0.3', port, '127.0.0.2')]);
    const byLaddr = await trace({ laddr: '127.0.0.3', byRaddr: true, byLport: true }, work);
    const key = (r: Record<string, unknown>) => `${String(r.raddr)}:${String(r.lport)}`;
    assert.deepEqual(byLaddr.map(key).sort(), [`127.0.0.1:${port}`, `127.0.0.2:${port}`]);
    for (const r of byLaddr) assert.equal(bucketSum(r), r.count);
    const byRaddr = await trace({ raddr: '127.0.0.2', byRaddr: true, byLport: true }, work);
    assert.deepEqual(byRaddr.map(key), [`127.0.0.2:${port}`]);
    server.close();
  });

  test('IPv6: --by-raddr shows the address, --raddr filters on it', { skip: !ipv6 && 'no IPv6 loopback' }, async () => {
    const server = await listen('::1');
    const port = portOf(server);
    const rows = await trace({ lport: port, byRaddr: true }, () => pingPong('::1', port));
    assert.deepEqual(rows.map((r) => r.raddr), ['::1']);
    let client = 0;
    const onlyClient = await trace({ raddr: '::1', rport: port, byLport: true }, async () => (client = await pingPong('::1', port)));
    assert.deepEqual(onlyClient.map((r) => r.lport), [client]);
    server.close();
  });

  test('--ms: the histogram in milliseconds', async () => {
    const server = await listen('127.0.0.1');
    const rows = await trace({ lport: portOf(server), ms: true }, () => pingPong('127.0.0.1', portOf(server)));
    server.close();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.unit, 'msecs');
    assert.equal(bucketSum(rows[0]!), rows[0]!.count);
    assert.ok((rows[0]!.buckets as Bucket[])[0]!.count > 0, 'loopback RTTs are below a millisecond');
    assert.match(tcprttTracker.plain!(rows[0]!), /msecs : count/);
  });

  test('--cgroup filters on the cgroup of the socket', { skip: !ownCgroupDir() && 'no cgroup v2' }, async () => {
    const dir = ownCgroupDir()!;
    const other = join(dir, `eunomia-tcprtt-${process.pid}`);
    mkdirSync(other);
    try {
      const server = await listen('127.0.0.1');
      const port = portOf(server);
      const mine = await trace({ lport: port, cgroup: statSync(dir).ino }, () => pingPong('127.0.0.1', port));
      assert.equal(mine.length, 1);
      assert.ok(Number(mine[0]!.count) >= ROUNDS);
      const theirs = await trace({ lport: port, cgroup: statSync(other).ino }, () => pingPong('127.0.0.1', port));
      assert.deepEqual(theirs, []);
      server.close();
    } finally {
      rmdirSync(other);
    }
  });

  test('--pid is refused: the owner of a socket is unknown where RTTs are sampled', () => {
    const m = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: () => {} });
    assert.throws(() => m.start(tcprttTracker, { pid: process.pid }), { code: 'E_OPTION', message: /--pid is not supported/ });
  });

  test('addresses parse into the 16 bytes the kernel compares', () => {
    assert.equal(addressBytes('10.1.2.3').toString('hex'), '00000000000000000000ffff0a010203');
    assert.equal(addressBytes('::ffff:10.1.2.3').toString('hex'), '00000000000000000000ffff0a010203');
    assert.equal(addressBytes('2001:db8::1').toString('hex'), '20010db8000000000000000000000001');
    assert.equal(addressBytes('[fe80::1%eth0]').toString('hex'), 'fe800000000000000000000000000001');
    assert.throws(() => addressBytes('::'), { code: 'E_OPTION' });
    assert.throws(() => addressBytes('example.com'), { code: 'E_OPTION' });
  });
});
