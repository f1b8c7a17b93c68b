/** The capable tracker on the real kernel: binding port 80 needs CAP_NET_BIND_SERVICE. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { capableTracker } from '../../src/trackers/capable/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const PORT = 80;
const CAP_SETUID = 7;
const CAP_NET_BIND_SERVICE = 10;
const EACCES = 13;

/**
 * bind(127.0.0.1:PORT) COUNT times; with UID, bind once first, then become UID (dropping every
 * capability) for the COUNT binds. Exits with the errno of the last bind (0 if it worked).
 */
const BIND_C = `
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
static struct sockaddr_in a = { .sin_family = AF_INET };
static int try_bind(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int err = bind(s, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
  close(s);
  return err;
}
int main(int argc, char **argv) {
  a.sin_port = htons(atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (argc > 3) {
    uid_t uid = atoi(argv[3]);
    try_bind();
    if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) return 100;
  }
  int err = 0;
  for (int i = 0; i < atoi(argv[2]); i++) err = try_bind();
  return err;
}
`;

function run(argv: string[]): Promise<{ pid: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ pid: p.pid!, code }));
  });
}

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

describe('capable tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();
  let bind = '';
  const of = (events: TrackerEvent[], pid: number, cap?: number) =>
    events.filter((e) => e.data.pid === pid && (cap === undefined || e.data.cap_raw === cap));

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-cap-'));
    chmodSync(dir, 0o755); // run as nobody too
    bind = join(dir, 'bindtest');
    execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', bind], { input: BIND_C });
  });

  after(async () => {
    if (bind) rmSync(dirname(bind), { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('nobody binding port 80 is denied CAP_NET_BIND_SERVICE, root is allowed', async () => {
    let denied = { pid: 0, code: null as number | null };
    let allowed = { pid: 0, code: null as number | null };
    const { events, stats } = await traceWhile(
      capableTracker,
      {},
      async () => {
        // setpriv (root) checks CAP_SETUID to switch users, then execs bindtest as nobody.
        denied = await run([...NOBODY, bind, String(PORT), '3']);
        allowed = await run([bind, String(PORT), '1']);
      },
      (evs) => of(evs, denied.pid, CAP_NET_BIND_SERVICE).length >= 3 && of(evs, allowed.pid, CAP_NET_BIND_SERVICE).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(denied.code, EACCES);
    assert.notEqual(allowed.code, EACCES, 'root may bind (EADDRINUSE is fine: the check comes first)');
    const userNs = Number(readlinkSync('/proc/self/ns/user').replace(/\D/g, ''));

    const no = of(events, denied.pid, CAP_NET_BIND_SERVICE);
    assert.equal(no.length, 3, 'one check per bind');
    for (const e of no) {
      assert.equal(e.data.cap, 'CAP_NET_BIND_SERVICE');
      assert.equal(e.data.verdict, 'denied');
      assert.equal(e.data.ret, -1, '-EPERM');
      assert.equal(e.data.comm, 'bindtest');
      assert.equal(e.data.uid, 65534);
      assert.equal(e.data.euid, 65534);
      assert.equal(e.data.target_ns_level, 0, 'the network namespace belongs to the initial user namespace');
      assert.equal(e.data.target_ns, userNs);
      assert.equal(e.data.capable_ns, 0, 'no namespace granted it');
    }
    const setuid = of(events, denied.pid, CAP_SETUID);
    assert.ok(setuid.length > 0 && setuid.every((e) => e.data.verdict === 'allowed' && e.data.uid === 0), 'setpriv as root may setuid');

    const yes = of(events, allowed.pid, CAP_NET_BIND_SERVICE);
    assert.equal(yes.length, 1);
    assert.equal(yes[0].data.verdict, 'allowed');
    assert.equal(yes[0].data.ret, 0);
    assert.equal(yes[0].data.uid, 0);
    assert.equal(yes[0].data.euid, 0);
    assert.equal(yes[0].data.capable_ns, userNs);
  });

  test('root of a new user namespace may bind in its own network namespace: checked at level 1', async () => {
    let r = { pid: 0, code: null as number | null };
    const { events, stats } = await traceWhile(
      capableTracker,
      { cap: CAP_NET_BIND_SERVICE },
      async () => {
        r = await run(['unshare', '--user', '--map-root-user', '--net', bind, String(PORT), '1']);
      },
      (evs) => of(evs, r.pid).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(r.code, 0, 'bound port 80 in the new network namespace');
    const [e] = of(events, r.pid);
    assert.equal(e.data.verdict, 'allowed');
    assert.equal(e.data.target_ns_level, 1);
    assert.notEqual(e.data.target_ns, Number(readlinkSync('/proc/self/ns/user').replace(/\D/g, '')));
    assert.equal(e.data.target_ns, e.data.user_ns, "the new user namespace, the task's own");
    assert.equal(e.data.capable_ns, e.data.user_ns);
  });

  test('--denied keeps only denied checks', async () => {
    let denied = { pid: 0, code: null as number | null };
    let allowed = { pid: 0, code: null as number | null };
    const { events, stats } = await traceWhile(
      capableTracker,
      { denied: true },
      async () => {
        denied = await run([...NOBODY, bind, String(PORT), '1']);
        allowed = await run([bind, String(PORT), '1']);
      },
      (evs) => of(evs, denied.pid, CAP_NET_BIND_SERVICE).length > 0,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(of(events, denied.pid, CAP_NET_BIND_SERVICE).length, 1, 'the denied bind');
    assert.equal(of(events, denied.pid, CAP_SETUID).length, 0, "setpriv's allowed CAP_SETUID is filtered");
    assert.equal(of(events, allowed.pid).length, 0, "root's allowed bind is filtered");
    assert.ok(events.length > 0 && events.every((e) => e.data.verdict === 'denied'));
  });

  test('--unique reports one event per process, capability and verdict', async () => {
    let r = { pid: 0, code: null as number | null };
    const { events, stats } = await traceWhile(
      capableTracker,
      { unique: true },
      async () => {
        // one allowed bind as root, then 20 denied binds as nobody, in one process
        r = await run([bind, String(PORT), '20', '65534']);
      },
      (evs) => of(evs, r.pid, CAP_NET_BIND_SERVICE).length >= 2,
      { watch }, // stopping drains the ring buffer, so duplicates would still arrive
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(r.code, EACCES);
    const binds = of(events, r.pid, CAP_NET_BIND_SERVICE);
    assert.deepEqual(binds.map((e) => [e.data.verdict, e.data.uid]), [['allowed', 0], ['denied', 65534]], '21 checks, one event per verdict');
    assert.equal(of(events, r.pid, CAP_SETUID).length, 1, 'another capability of the same process is still reported');
  });

  test('--cap keeps only that capability', async () => {
    let r = { pid: 0, code: null as number | null };
    const { events, stats } = await traceWhile(
      capableTracker,
      { cap: CAP_NET_BIND_SERVICE },
      async () => {
        r = await run([...NOBODY, bind, String(PORT), '2']);
      },
      (evs) => of(evs, r.pid, CAP_NET_BIND_SERVICE).length >= 2,
      { watch },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(of(events, r.pid, CAP_NET_BIND_SERVICE).length, 2);
    assert.equal(of(events, r.pid, CAP_SETUID).length, 0, "setpriv's CAP_SETUID is filtered");
    assert.ok(events.every((e) => e.data.cap_raw === CAP_NET_BIND_SERVICE));
  });
});
