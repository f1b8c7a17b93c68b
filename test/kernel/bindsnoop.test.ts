/** The bindsnoop tracker on the real kernel: binds made by this process and by a small C program. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { bindsnoopTracker } from '../../src/trackers/bindsnoop/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const comm = readFileSync('/proc/self/comm', 'utf8').trim();
const portOf = (s: Server | UdpSocket): number => (s.address() as { port: number }).port;
const close = (s: Server | UdpSocket): Promise<unknown> => new Promise((r) => s.close(() => r(undefined)));
/** Sockets a test opened, closed after it whatever happened (an open one keeps the process alive). */
const opened: (Server | UdpSocket)[] = [];

/** Listens on host:port; resolves with the server, or with the error code if listen failed. */
function listen(port: number, host: string): Promise<Server | string> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('listening', () => {
      opened.push(s);
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.listen(port, host);
  });
}

async function server(port: number, host = '127.0.0.1'): Promise<Server> {
  const s = await listen(port, host);
  if (typeof s === 'string') throw new Error(`listen ${host}:${port}: ${s}`);
  return s;
}

/** A port the kernel just gave out and took back: free for the test to bind. */
async function freePort(): Promise<number> {
  const s = await server(0);
  const port = portOf(s);
  await close(opened.pop()!);
  return port;
}

const mine = (events: TrackerEvent[], port: number, pid = process.pid): TrackerEvent[] =>
  events.filter((e) => e.data.pid === pid && e.data.port === port);

/** Sets every option bindsnoop shows, binds to the device lo, then binds 127.0.0.1:argv[1]. */
const OPTS_PROGRAM = `
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
static void opt(int s, int level, int name, const char *what) {
	int one = 1;
	if (setsockopt(s, level, name, &one, sizeof(one))) { perror(what); exit(2); }
}
int main(int argc, char **argv) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	opt(s, SOL_IP, IP_FREEBIND, "IP_FREEBIND");
	opt(s, SOL_IP, IP_TRANSPARENT, "IP_TRANSPARENT");
	opt(s, SOL_IP, IP_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT");
	opt(s, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	opt(s, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT");
	if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)) { perror("SO_BINDTODEVICE"); return 2; }
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(s, (struct sockaddr *)&a, sizeof(a))) { perror("bind"); return 1; }
	return 0;
}
`;

describe('bindsnoop tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();

  afterEach(async () => {
    await Promise.all(opened.splice(0).map(close));
  });

  after(async () => assert.deepEqual(await watch.leftovers(), NOTHING_LEFT));

  test('a TCP listen on 127.0.0.1:0 and a UDP bind on ::1, with the ports the kernel chose', async () => {
    let tcp!: Server;
    let udp!: UdpSocket;
    const { events, stats } = await traceWhile(
      bindsnoopTracker,
      {},
      async () => {
        tcp = await server(0);
        udp = createSocket('udp6');
        opened.push(udp);
        udp.bind(0, '::1');
        await once(udp, 'listening');
      },
      (ev) => mine(ev, portOf(tcp)).length > 0 && mine(ev, portOf(udp)).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);

    const [t] = mine(events, portOf(tcp));
    assert.ok(t, 'TCP bind event');
    assert.equal(t.tracker, 'bindsnoop');
    assert.equal(t.data.comm, comm);
    assert.equal(t.data.uid, process.getuid!());
    assert.equal(t.data.protocol, 'TCP');
    assert.equal(t.data.protocol_raw, 6);
    assert.equal(t.data.family, 'ipv4');
    assert.equal(t.data.addr, '127.0.0.1');
    assert.equal(t.data.opts, '...R.', 'Node sets SO_REUSEADDR on TCP servers');
    assert.equal(t.data.opts_raw, 8);
    assert.equal(t.data.result, '0');
    assert.equal(t.data.result_raw, 0);
    assert.equal(t.data.bound_dev_if, 0);
    assert.equal(t.data.device, '');

    const [u] = mine(events, portOf(udp));
    assert.ok(u, 'UDP bind event');
    assert.equal(u.data.protocol, 'UDP');
    assert.equal(u.data.family, 'ipv6');
    assert.equal(u.data.addr, '::1');
    assert.equal(u.data.opts, '.....', 'no option on a plain dgram socket');
    assert.equal(u.data.result, '0');
  });

  test('binding a port in use reports EADDRINUSE with the port asked for', async () => {
    const first = await server(0);
    const port = portOf(first);
    let second: Server | string = '';
    const { events, stats } = await traceWhile(
      bindsnoopTracker,
      {},
      async () => {
        second = await listen(port, '127.0.0.1');
      },
      (ev) => mine(ev, port).length > 0,
      { watch },
    );
    assert.equal(second, 'EADDRINUSE');
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    const got = mine(events, port);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.data.result, 'EADDRINUSE');
    assert.equal(got[0]!.data.result_raw, -98);
    assert.equal(got[0]!.data.protocol, 'TCP');
    assert.equal(got[0]!.data.addr, '127.0.0.1');
  });

  test('every socket option and the bound device of a C program', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-bindsnoop-'));
    writeFileSync(join(dir, 'bindopts.c'), OPTS_PROGRAM);
    execFileSync('cc', ['-O1', '-o', join(dir, 'bindopts'), join(dir, 'bindopts.c')]);
    const port = await freePort();
    let pid = 0;
    let code: number | null = null;
    const { events, stats } = await traceWhile(
      bindsnoopTracker,
      {},
      async () => {
        const child = spawn(join(dir, 'bindopts'), [String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
        pid = child.pid!;
        [code] = (await once(child, 'exit')) as [number | null];
      },
      (ev) => mine(ev, port, pid).length > 0,
      { watch },
    ).finally(() => rmSync(dir, { recursive: true, force: true }));
    assert.equal(code, 0, 'the program set every option and bound');
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    const got = mine(events, port, pid);
    assert.equal(got.length, 1);
    const e = got[0]!;
    assert.equal(e.data.comm, 'bindopts');
    assert.equal(e.data.ppid, process.pid);
    assert.equal(e.data.opts, 'FTNRr');
    assert.equal(e.data.opts_raw, 0b11111);
    assert.equal(e.data.bound_dev_if, Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8')));
    assert.equal(e.data.device, 'lo');
    assert.equal(e.data.protocol, 'TCP');
    assert.equal(e.data.result, '0');
  });

  test('--port keeps only binds of that port', async () => {
    const port = await freePort();
    let other!: Server;
    const { events, stats } = await traceWhile(
      bindsnoopTracker,
      { port },
      async () => {
        other = await server(0); // filtered out, bound first
        await server(port);
      },
      (ev) => mine(ev, port).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(mine(events, port).length, 1);
    assert.equal(mine(events, portOf(other)).length, 0, 'the other bind filtered in the kernel');
    assert.ok(events.every((e) => e.data.port === port), 'only that port, whoever bound it');
  });

  test('--failed keeps only failed binds', async () => {
    const first = await server(0);
    const port = portOf(first);
    let ok!: Server;
    let failed: Server | string = '';
    const { events, stats } = await traceWhile(
      bindsnoopTracker,
      { failed: true },
      async () => {
        ok = await server(0); // succeeds: filtered out, bound first
        failed = await listen(port, '127.0.0.1');
      },
      (ev) => mine(ev, port).length > 0,
      { watch },
    );
    assert.equal(failed, 'EADDRINUSE');
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(mine(events, port)[0]!.data.result, 'EADDRINUSE');
    assert.equal(mine(events, portOf(ok)).length, 0, 'the successful bind filtered in the kernel');
    assert.ok(events.every((e) => e.data.result_raw !== 0), 'no successful bind at all');
  });
});
