/** The process tracker on the real kernel: exec and exit events of commands we run. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { findTracker } from '../../src/trackers/registry.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { KernelWatch, NOTHING_LEFT, needsRoot, waitFor } from '../helpers.js';

interface Exited {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** execenv PROG ENV...: execs PROG with exactly these environment strings (duplicates too, which no shell passes). */
const EXECENV_C = `
#include <unistd.h>
int main(int argc, char **argv) {
  char *args[] = { argv[1], 0 };
  execve(argv[1], args, argv + 2);
  return 127;
}
`;

function runCommand(cmd: string, args: string[], opts: { killAfterMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env: opts.env });
    child.on('error', reject);
    if (opts.killAfterMs) setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
    child.on('exit', (code, signal) => resolve({ pid: child.pid!, code, signal }));
  });
}

function collector(): { events: TrackerEvent[]; emit: (ev: TrackerEvent) => void; of: (pid: number, type?: string, instance?: number) => TrackerEvent[] } {
  const events: TrackerEvent[] = [];
  return {
    events,
    emit: (ev) => events.push(ev),
    of: (pid, type, instance) => events.filter((e) => e.data.pid === pid && (!type || e.data.type === type) && (instance === undefined || e.instance === instance)),
  };
}

describe('process tracker', { skip: needsRoot }, () => {
  const native = loadNative();
  const watch = new KernelWatch();

  before(() => {
    preflight(native);
  });

  after(async () => {
    assert.ok(watch.seen.progs.size >= 2, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'nothing they loaded is left in the kernel');
  });

  test('reports exec and exit of a command with pid, ppid, path, args, exit code and lifetime', async () => {
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    const inst = m.start(findTracker('process'), { includeSelf: true });
    watch.note();
    const t0 = Date.now();
    const r = await runCommand('/bin/sh', ['-c', 'sleep 0.2; exit 7', 'eunomia-test', 'an arg with spaces']);
    await waitFor(() => c.of(r.pid, 'exit').length > 0, 'the exit event');
    const stats = await m.stop(inst.id);

    assert.equal(r.code, 7);
    const [exec] = c.of(r.pid, 'exec');
    assert.ok(exec, 'exec event seen');
    assert.equal(exec.tracker, 'process');
    assert.equal(exec.data.ppid, process.pid);
    assert.equal(exec.data.uid, process.getuid!());
    assert.equal(exec.data.filename, '/bin/sh');
    assert.match(String(exec.data.exe), /^\/usr\/bin\/(dash|bash)$/, 'exe resolved through the /bin symlink');
    assert.deepEqual(exec.data.args, ['/bin/sh', '-c', 'sleep 0.2; exit 7', 'eunomia-test', 'an arg with spaces']);
    assert.equal(exec.data.comm, 'sh');
    assert.ok(Math.abs(exec.time - t0) < 5000, 'wall-clock time');
    for (const k of ['cgroup_id', 'pid_ns', 'mnt_ns', 'user_ns']) assert.ok(Number(exec.data[k]) > 0, `${k} set`);
    assert.equal(String(exec.data.mnt_ns), (await import('node:fs')).readlinkSync('/proc/self/ns/mnt').replace(/\D/g, ''));

    const [exit] = c.of(r.pid, 'exit');
    assert.equal(exit.data.exit_code, 7);
    assert.equal(exit.data.exit_signal, 0);
    assert.equal(exit.data.ppid, process.pid);
    const ms = Number(exit.data.duration_ns) / 1e6;
    assert.ok(ms >= 190 && ms < 3000, `lifetime ${ms} ms`);
    // The kernel sends an exit as the exec struct's head alone; it decodes to the same fields,
    // those of an exec empty (and the exec-only ones undefined, checked below).
    assert.deepEqual(Object.keys(exit.data), Object.keys(exec.data));
    assert.deepEqual([exit.data.filename, exit.data.exe, exit.data.args, exit.data.args_size, exit.data.args_truncated], ['', '', [], 0, 0]);
    assert.equal(exit.data.comm, 'sh');
    // The sleep child of sh is seen too, with sh as parent.
    assert.ok(c.events.some((e) => e.data.type === 'exec' && e.data.ppid === r.pid && e.data.comm === 'sleep'));
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    assert.equal(stats.events, c.events.length);
  });

  test('a process killed by a signal reports the signal', async () => {
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    const inst = m.start(findTracker('process'), { includeSelf: true });
    watch.note();
    const r = await runCommand('/bin/sleep', ['10'], { killAfterMs: 100 });
    await waitFor(() => c.of(r.pid, 'exit').length > 0, 'the exit event');
    await m.stop(inst.id);
    assert.equal(r.signal, 'SIGKILL');
    const [exit] = c.of(r.pid, 'exit');
    assert.equal(exit.data.exit_signal, 9);
    assert.equal(exit.data.exit_code, 0);
  });

  test('two instances with different pid filters run at once, each sees only its process', async () => {
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    // Both shells wait, then exec a command in place (same pid), then exit.
    const a = spawn('/bin/sh', ['-c', 'read x; exec /bin/echo a-side'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const b = spawn('/bin/sh', ['-c', 'read x; exec /bin/echo b-side'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const ia = m.start(findTracker('process'), { pid: a.pid, includeSelf: true });
    watch.note();
    const ib = m.start(findTracker('process'), { pid: b.pid, includeSelf: true });
    const exited = (p: typeof a) => new Promise((r) => p.on('exit', r));
    const done = Promise.all([exited(a), exited(b)]);
    a.stdin!.end('go\n');
    b.stdin!.end('go\n');
    await done;
    await waitFor(() => c.of(a.pid!, 'exit', ia.id).length > 0 && c.of(b.pid!, 'exit', ib.id).length > 0, 'both exits');
    await m.stopAll();
    const byA = c.events.filter((e) => e.instance === ia.id);
    const byB = c.events.filter((e) => e.instance === ib.id);
    assert.deepEqual(new Set(byA.map((e) => e.data.pid)), new Set([a.pid]));
    assert.deepEqual(new Set(byB.map((e) => e.data.pid)), new Set([b.pid]));
    assert.deepEqual(byA.map((e) => e.data.type), ['exec', 'exit']);
    assert.deepEqual(byA[0].data.args, ['/bin/echo', 'a-side']);
    assert.deepEqual(byB[0].data.args, ['/bin/echo', 'b-side']);
  });

  test('minimum duration keeps only processes that lived long enough', async () => {
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    const inst = m.start(findTracker('process'), { minDuration: 150, includeSelf: true });
    watch.note();
    const short = await runCommand('/bin/true', []);
    const long = await runCommand('/bin/sleep', ['0.3']);
    await waitFor(() => c.of(long.pid, 'exit').length > 0, 'the long exit');
    await m.stop(inst.id);
    assert.equal(c.of(short.pid).length, 0, 'short-lived process filtered in the kernel');
    assert.equal(c.of(long.pid, 'exec').length, 0, 'no exec events with a minimum duration');
    assert.ok(Number(c.of(long.pid, 'exit')[0].data.duration_ns) >= 150e6);
  });

  test("Eunomia's own activity (its process and what it spawns) is excluded unless asked for", async () => {
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    const excl = m.start(findTracker('process'));
    watch.note();
    const incl = m.start(findTracker('process'), { includeSelf: true });
    const r = await runCommand('/bin/true', ['self-test']);
    await waitFor(() => c.of(r.pid, 'exit', incl.id).length > 0, 'the exit seen by the includeSelf instance');
    await m.stopAll();
    assert.deepEqual(c.of(r.pid, undefined, incl.id).map((e) => e.data.type), ['exec', 'exit']);
    assert.equal(c.of(r.pid, undefined, excl.id).length, 0, 'our child is excluded in the kernel');
  });

  test('exec carries what the security rules need: stdin/stdout kind, terminal, vpid, capabilities, upper layer', async () => {
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    const inst = m.start(findTracker('process'), { includeSelf: true });
    watch.note();
    // A shell whose stdin is a TCP connection (a reverse shell's shape); Node's 'pipe' is a unix socket pair.
    const server = createServer((s) => s.end('exit\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sock = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(sock, 'connect');
    const child = spawn('/bin/sh', ['-c', 'read line; exit 0'], { stdio: [sock, 'pipe', 'ignore'] });
    await once(child, 'exit');
    sock.destroy();
    server.close();
    await waitFor(() => c.of(child.pid!, 'exec').length > 0, 'the exec event');
    await m.stop(inst.id);

    const d = c.of(child.pid!, 'exec')[0]!.data;
    assert.equal(d.stdin, 'inet');
    assert.equal(d.stdout, 'unix');
    assert.equal(d.tty, '', 'no controlling terminal under the test runner');
    assert.equal(d.vpid, child.pid, 'on the host, the pid in its namespace is the pid');
    assert.equal(d.upper_layer, false);
    // Root on the host: the effective set /proc shows.
    const capEff = BigInt('0x' + /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    assert.equal((d.caps as string[]).length, capEff.toString(2).replace(/0/g, '').length);
    assert.ok((d.caps as string[]).includes('CAP_SYS_ADMIN'));
    const exits = c.of(child.pid!, 'exit');
    for (const e of exits) for (const k of ['stdin', 'tty', 'caps', 'vpid', 'upper_layer', 'exe_fs', 'ld_preload', 'ld_library_path']) assert.equal(e.data[k], undefined, `exit events have no ${k}`);
  });

  test('exec tells a named FIFO from a pipe, names the binary\'s filesystem, and reads LD_PRELOAD and LD_LIBRARY_PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-process-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Our own tmpfs: the host's /tmp may or may not be one.
    const mnt = join(dir, 'tmpfs');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'eunomia-test', mnt]);
    try {
      copyFileSync('/bin/true', join(mnt, 'true'));
      chmodSync(join(mnt, 'true'), 0o755);
      const c = collector();
      const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
      const inst = m.start(findTracker('process'), { includeSelf: true });
      watch.note();
      const PATH = process.env.PATH;
      // cat exec'd in place with its stdin opened from the FIFO (a writer in the background),
      // and cat at the end of an ordinary pipeline.
      const viaFifo = await runCommand('/bin/sh', ['-c', 'echo hi > "$1" & exec /bin/cat < "$1"', 'sh', fifo]);
      const viaPipe = await runCommand('/bin/sh', ['-c', 'echo hi | /bin/cat']);
      const onTmpfs = await runCommand(join(mnt, 'true'), []);
      const onRoot = await runCommand('/bin/true', []);
      // LD_PRELOAD, then (the last definition would win) a variable whose value holds
      // "LD_PRELOAD=" and one named LD_PRELOADX: neither is taken for it.
      const preload = await runCommand('/bin/true', [], { env: { PATH, LD_PRELOAD: '/tmp/eunomia-x.so', LD_LIBRARY_PATH: '/tmp/lib:/usr/lib', FOO: 'LD_PRELOAD=/not/this', LD_PRELOADX: '/nor/this' } });
      // A long value, after a 6000-byte variable (read in parts), and then one whose 512-byte
      // read boundary (the kernel's ENV_STR) falls just before "LD_PRELOAD=": a part that only
      // looks like a variable's start.
      const longValue = '/tmp/' + 'a'.repeat(1000) + '.so';
      const long = await runCommand('/bin/true', [], { env: { PATH, BIG: 'z'.repeat(6000), LD_PRELOAD: longValue, PAD: 'y'.repeat(507) + 'LD_PRELOAD=/fake' } });
      const plain = await runCommand('/bin/true', [], { env: { PATH, LD_PRELOAD: '', LD_LIBRARY_PATH: '' } });
      const pids = [viaFifo.pid, onTmpfs.pid, onRoot.pid, preload.pid, long.pid, plain.pid];
      await waitFor(() => pids.every((p) => c.of(p, 'exec').length > 0) && c.events.some((e) => e.data.ppid === viaPipe.pid && e.data.comm === 'cat'), 'the exec events');
      await m.stop(inst.id);

      const cat = c.of(viaFifo.pid, 'exec').find((e) => (e.data.args as string[])[0] === '/bin/cat')!.data;
      assert.equal(cat.stdin, 'fifo');
      assert.equal(Number(cat.stdin_raw) >>> 28, 0o1, 'still S_IFIFO in the file-type bits');
      assert.equal(cat.stdout, 'char', '/dev/null');
      const piped = c.events.find((e) => e.data.type === 'exec' && e.data.ppid === viaPipe.pid && e.data.comm === 'cat')!.data;
      assert.equal(piped.stdin, 'pipe');
      assert.equal(Number(piped.stdin_raw), 0o1 << 28, 'an anonymous pipe: the file type alone');

      const tmpfs = c.of(onTmpfs.pid, 'exec')[0]!.data;
      assert.equal(tmpfs.exe, join(mnt, 'true'));
      assert.equal(tmpfs.exe_fs, 'tmpfs');
      assert.equal(tmpfs.upper_layer, false);
      const root = c.of(onRoot.pid, 'exec')[0]!.data;
      const rootMagic = parseInt(execFileSync('stat', ['-f', '-L', '-c', '%t', '/bin/true'], { encoding: 'utf8' }).trim(), 16);
      assert.equal(root.exe_fs_magic, rootMagic);
      assert.notEqual(root.exe_fs, 'tmpfs');

      const pre = c.of(preload.pid, 'exec')[0]!.data;
      assert.equal(pre.ld_preload, '/tmp/eunomia-x.so');
      assert.equal(pre.ld_library_path, '/tmp/lib:/usr/lib');
      const lng = c.of(long.pid, 'exec')[0]!.data;
      assert.equal(lng.ld_preload, longValue.slice(0, 255), 'the first 255 bytes');
      assert.equal(lng.ld_library_path, '');
      const pl = c.of(plain.pid, 'exec')[0]!.data;
      assert.equal(pl.ld_preload, '', 'set but empty reads as unset');
      assert.equal(pl.ld_library_path, '');
      assert.equal(root.ld_preload, process.env.LD_PRELOAD ?? '', 'inherited from ours');
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exec reads GLIBC_TUNABLES and PATH from the environment, each definition counted as its reader counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-process-'));
    try {
      const execenv = join(dir, 'execenv');
      execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', execenv], { input: EXECENV_C });
      const c = collector();
      const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
      const inst = m.start(findTracker('process'), { includeSelf: true });
      watch.note();
      const set = await runCommand('/bin/true', [], { env: { PATH: '/opt/eunomia/bin:/usr/bin:/bin', GLIBC_TUNABLES: 'glibc.malloc.mxfast=0' } });
      const none = await runCommand('/bin/true', [], { env: {} });
      // Set twice or more: getenv's first PATH, ld.so's last LD_PRELOAD, the longest GLIBC_TUNABLES
      // (ld.so parses each); PATHEXT is not PATH. The long GLIBC_TUNABLES, a CVE-2023-4911 payload's shape, is
      // read in parts (longer than the kernel's 512-byte reads).
      const payload = 'glibc.mem.tagging=glibc.mem.tagging=' + 'A'.repeat(1500);
      const twice = await runCommand(execenv, [
        '/bin/true',
        'PATHEXT=/not/this',
        'GLIBC_TUNABLES=glibc.malloc.check=0',
        'PATH=/first/bin',
        'LD_PRELOAD=/first.so',
        `GLIBC_TUNABLES=${payload}`,
        'PATH=/second/bin',
        'LD_PRELOAD=/second.so',
        'GLIBC_TUNABLES=glibc.malloc.mxfast=0',
      ]);
      // A string of exactly one read (511 bytes and its NUL) ends in an empty second part; PATH after it is still found.
      const edge = await runCommand('/bin/true', [], { env: { GLIBC_TUNABLES: 'x'.repeat(511 - 'GLIBC_TUNABLES='.length), PATH: '/after' } });
      const pids = [set.pid, none.pid, twice.pid, edge.pid];
      await waitFor(() => pids.every((p) => c.of(p, 'exec').some((e) => (e.data.args as string[])[0] === '/bin/true')), 'the exec events');
      await m.stop(inst.id);
      const of = (pid: number) => c.of(pid, 'exec').find((e) => (e.data.args as string[])[0] === '/bin/true')!.data;

      const s = of(set.pid);
      assert.equal(s.glibc_tunables, 'glibc.malloc.mxfast=0');
      assert.equal(s.glibc_tunables_len, 'glibc.malloc.mxfast=0'.length);
      assert.equal(s.path_env, '/opt/eunomia/bin:/usr/bin:/bin');
      const n = of(none.pid);
      for (const k of ['glibc_tunables', 'path_env', 'ld_preload', 'ld_library_path']) assert.equal(n[k], '', `${k} empty without an environment`);
      assert.equal(n.glibc_tunables_len, 0);
      const t = of(twice.pid);
      assert.equal(t.path_env, '/first/bin');
      assert.equal(t.ld_preload, '/second.so');
      assert.equal(t.glibc_tunables, payload.slice(0, 255), 'the first 255 bytes');
      assert.equal(t.glibc_tunables_len, payload.length, 'the whole length: it was cut');
      assert.equal(of(edge.pid).glibc_tunables_len, 496);
      assert.equal(of(edge.pid).path_env, '/after');
      for (const e of c.events.filter((e) => e.data.type === 'exit')) {
        for (const k of ['glibc_tunables', 'glibc_tunables_len', 'path_env', 'vppid', 'gpcomm']) assert.equal(e.data[k], undefined, `exit events have no ${k}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('vppid is the parent as the process sees it (0 when the parent is outside its pid namespace); gpcomm names the grandparent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-process-'));
    // A shell under a name of its own, to find it as a grandparent.
    const gp = join(dir, 'eunomia-gp');
    symlinkSync('/bin/sh', gp);
    const c = collector();
    const m = new TrackerManager({ native, clock: systemClock(), emit: c.emit });
    const inst = m.start(findTracker('process'), { includeSelf: true });
    watch.note();
    try {
      // On the host: node → eunomia-gp → sh → true.
      const host = await runCommand(gp, ['-c', '/bin/sh -c "/bin/true; exit 0"; exit 0']);
      // A new pid namespace: unshare forks its init (sh, pid 1), whose parent, unshare, stays
      // outside; sh's child is inside. nsenter joins the namespace from outside and forks a
      // child there, as `docker exec` does: its parent is outside too.
      const ns = spawn('unshare', ['--pid', '--fork', '/bin/sh', '-c', 'read x; /bin/true; exit 0'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const nsDone = once(ns, 'exit');
      let init = 0;
      await waitFor(() => (init = Number(readFileSync(`/proc/${ns.pid}/task/${ns.pid}/children`, 'utf8').trim())) > 0, 'the namespace init');
      const entered = await runCommand('nsenter', ['--target', String(init), '--pid', '/bin/true']);
      ns.stdin!.end('go\n');
      await nsDone;
      const execOf = (ppid: number, comm: string) => c.events.find((e) => e.data.type === 'exec' && e.data.ppid === ppid && e.data.comm === comm)?.data;
      await waitFor(() => [execOf(host.pid, 'sh'), execOf(init, 'true'), execOf(entered.pid, 'true')].every(Boolean), 'the exec events');
      await m.stop(inst.id);

      const shell = c.of(host.pid, 'exec')[0]!.data;
      assert.equal(shell.comm, 'eunomia-gp');
      assert.equal(shell.vppid, process.pid, 'on the host, vppid is ppid');
      assert.equal(shell.pcomm, readFileSync('/proc/self/comm', 'utf8').trim());
      const sh = execOf(host.pid, 'sh')!;
      assert.equal(sh.vppid, host.pid);
      assert.equal(sh.pcomm, 'eunomia-gp');
      assert.equal(sh.gpcomm, readFileSync('/proc/self/comm', 'utf8').trim(), 'our process is its grandparent');
      const tru = execOf(Number(sh.pid), 'true')!;
      assert.equal(tru.pcomm, 'sh');
      assert.equal(tru.gpcomm, 'eunomia-gp', 'the shell that ran sh -c');

      const initExec = c.of(init, 'exec')[0]!.data;
      assert.equal(initExec.vpid, 1, "the namespace's init");
      assert.equal(initExec.vppid, 0, 'its parent, unshare, is outside the namespace');
      assert.equal(initExec.ppid, ns.pid);
      const inside = execOf(init, 'true')!;
      assert.equal(inside.vppid, 1, 'a child of the init');
      assert.ok(Number(inside.vpid) > 1);
      assert.equal(inside.pid_ns, initExec.pid_ns);
      const joined = execOf(entered.pid, 'true')!;
      assert.equal(joined.pid_ns, initExec.pid_ns, 'nsenter put it in the namespace');
      assert.ok(Number(joined.vpid) > 1);
      assert.equal(joined.vppid, 0, 'started from outside: its parent, nsenter, is not in the namespace');
      assert.equal(joined.pcomm, 'nsenter');
    } finally {
      await m.stopAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('start and stop 100 times leaves no program, link or map behind', async () => {
    const m = new TrackerManager({ native, clock: systemClock(), emit: () => {} });
    const mine = new KernelWatch();
    for (let i = 0; i < 100; i++) {
      const inst = m.start(findTracker('process'));
      assert.ok(mine.note() >= 5, 'programs, links and maps held while running');
      await m.stop(inst.id);
    }
    assert.equal(mine.seen.progs.size, 200, 'two programs per start');
    assert.deepEqual(await mine.leftovers(), NOTHING_LEFT, 'bpftool lists none of them');
  });
});
