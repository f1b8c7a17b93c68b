/**
 * The memleak tracker on the real kernel: a C program leaks a known number of bytes from known
 * functions, through each allocator function, and the tracker reports exactly those, by stack;
 * what is freed, failed, or belonged to an address space that ended is not a leak. In kernel
 * mode, the sockets and pipes a process keeps are its kernel allocations, named.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import type { TrackerInstance, TrackerStats } from '../../src/runtime/tracker.js';
import type { OptionValues } from '../../src/runtime/types.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { memleakTracker, type MemleakRow } from '../../src/trackers/memleak/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot, repoRoot, waitFor } from '../helpers.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';

// Each mode waits for a line on stdin (the tracker is attached by then), allocates, says so on
// stdout, and waits again. No stdio: its buffers would be allocations of their own.
const WORKLOAD = `
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#define NOINLINE __attribute__((noinline))
static void say(const char *s) { if (write(1, s, strlen(s)) < 0) exit(3); }
static void wait_line(void) { char c; while (read(0, &c, 1) == 1 && c != '\\n'); }
static void *keep[64];
static int nkeep;

NOINLINE void leak_here(void) { for (int i = 0; i < 40; i++) { char *p = malloc(4096); p[0] = 1; } }
NOINLINE void fine_here(void) { for (int i = 0; i < 10000; i++) { char *p = malloc(64); p[0] = 1; free(p); } }
NOINLINE void small_leak_here(int n) { for (int i = 0; i < n; i++) { char *p = malloc(64); p[0] = 1; } }

NOINLINE void in_malloc(void) { for (int i = 0; i < 3; i++) keep[nkeep++] = malloc(1000); }
NOINLINE void in_calloc(void) { for (int i = 0; i < 2; i++) keep[nkeep++] = calloc(10, 300); }
NOINLINE void in_realloc(void) { void *p = realloc(NULL, 100); keep[nkeep++] = realloc(p, 5000); }
NOINLINE void in_posix_memalign(void) { for (int i = 0; i < 2; i++) { void *p; if (posix_memalign(&p, 64, 2048)) exit(4); keep[nkeep++] = p; } }
NOINLINE void in_aligned_alloc(void) { keep[nkeep++] = aligned_alloc(256, 1024); }
NOINLINE void in_valloc(void) { keep[nkeep++] = valloc(4096); }
static void *mapped;
NOINLINE void in_mmap(void) { mapped = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }

NOINLINE void fail_here(void) { volatile size_t huge = SIZE_MAX; if (malloc(huge)) exit(5); }
NOINLINE void fail_mmap_here(void) { for (int i = 0; i < 2; i++) if (mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) exit(6); }
NOINLINE void fail_calloc_here(void) { volatile size_t n = SIZE_MAX / 2; if (calloc(n, 4)) exit(7); }

int main(int argc, char **argv)
{
	const char *mode = argv[1];
	say("waiting\\n");
	wait_line();
	if (!strcmp(mode, "leak")) {
		leak_here();
		fine_here();
	} else if (!strcmp(mode, "small")) {
		small_leak_here(atoi(argv[2]));
		leak_here();
	} else if (!strcmp(mode, "kinds")) {
		in_malloc(); in_calloc(); in_realloc(); in_posix_memalign(); in_aligned_alloc(); in_valloc(); in_mmap();
		say("allocated\\n");
		wait_line();
		for (int i = 0; i < nkeep; i++) free(keep[i]);
		munmap(mapped, 3 * 4096);
	} else if (!strcmp(mode, "fail")) {
		fail_here(); fail_mmap_here(); fail_calloc_here();
	} else if (!strcmp(mode, "exec")) {
		leak_here();
		say("done\\n");
		wait_line();
		execl("/bin/sleep", "sleep", "60", (char *)0);
		return 8;
	} else if (!strcmp(mode, "kernel")) {
		int n = atoi(argv[2]), fds[2];
		int *open_fds = calloc(3 * n, sizeof(int));
		for (int i = 0; i < n; i++) {
			if ((open_fds[3 * i] = socket(AF_INET, SOCK_STREAM, 0)) < 0 || pipe(fds)) exit(9);
			open_fds[3 * i + 1] = fds[0];
			open_fds[3 * i + 2] = fds[1];
		}
		say("done\\n");
		wait_line();
		for (int i = 0; i < 3 * n; i++) close(open_fds[i]);
	}
	say("done\\n");
	for (;;) pause();
}
`;

const LEAK_BYTES = 40 * 4096; // 163,840

interface Workload {
  child: ChildProcess;
  pid: number;
  /** Sends a line: the program goes on to its next step. */
  next(): void;
  /** Resolves once the program has said `word` (its `n`th time). */
  said(word: string, n?: number): Promise<void>;
}

describe('memleak tracker', { skip: needsRoot || needsCc }, () => {
  const watch = new KernelWatch();
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-memleak-'));
  const bin = join(dir, 'ml-workload');
  const children: ChildProcess[] = [];

  before(() => {
    writeFileSync(join(dir, 'w.c'), WORKLOAD);
    execFileSync('cc', ['-O0', '-fno-omit-frame-pointer', '-o', bin, join(dir, 'w.c')]);
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    assert.ok(watch.seen.progs.size >= 1, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  /** Starts the program in `mode`, and waits until it waits for its first line (its libc is mapped). */
  async function workload(...args: string[]): Promise<Workload> {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const said = (word: string, n = 1) => waitFor(() => out.split('\n').filter((l) => l === word).length >= n, `the workload to say "${word}"`, 10_000);
    await said('waiting');
    return { child, pid: child.pid!, next: () => child.stdin!.write('\n'), said };
  }

  /** Runs the tracker around `body`; its rows come from `inst.snapshot()` (no interval report meanwhile) or the events. */
  async function traced(options: OptionValues, body: (inst: TrackerInstance, events: TrackerEvent[]) => Promise<void>): Promise<TrackerStats> {
    const native = loadNative();
    preflight(native);
    const events: TrackerEvent[] = [];
    const m = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
    const inst = m.start(memleakTracker, { interval: 3600, minAge: 1, ...options });
    watch.note();
    try {
      await body(inst, events);
    } finally {
      await m.stop(inst.id);
    }
    return inst.stats();
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const rowsOf = (inst: TrackerInstance) => inst.snapshot() as MemleakRow[];
  const from = (rows: MemleakRow[], fn: string) => rows.filter((r) => r.stack.includes(fn));
  const sum = (rows: MemleakRow[], k: 'bytes' | 'allocations') => rows.reduce((n, r) => n + Number(r[k]), 0);

  test('-p PID --min-age 1: exactly the 163,840 bytes leak_here leaked, by stack, and nothing of fine_here', async () => {
    const w = await workload('leak');
    let last: MemleakRow[] = [];
    const stats = await traced({ pid: w.pid, interval: 1 }, async (_inst, events) => {
      w.next();
      await w.said('done');
      // Reports every second; the leak is older than --min-age in the second or third.
      await waitFor(() => events.some((e) => (e.data as MemleakRow).stack.includes('leak_here')), 'a report with leak_here', 6000);
      const at = events.filter((e) => (e.data as MemleakRow).stack.includes('leak_here')).at(-1)!.time;
      last = events.filter((e) => e.time === at).map((e) => e.data as MemleakRow);
    });
    const leak = from(last, 'leak_here');
    assert.equal(leak.length, 1, JSON.stringify(last));
    const [r] = leak;
    assert.equal(r!.kind, 'outstanding');
    assert.equal(r!.allocator, 'heap');
    assert.equal(r!.bytes, LEAK_BYTES);
    assert.equal(r!.allocations, 40);
    assert.equal(r!.pid, w.pid);
    assert.equal(r!.comm, 'ml-workload');
    assert.equal(r!.sample_rate, 1);
    assert.ok(r!.oldest_ns! >= 1e9 && r!.oldest_ns! < 10e9, `oldest ${r!.oldest_ns} ns`);
    // Root first; the return address one byte back: leak_here, called from main.
    assert.deepEqual(r!.stack.slice(r!.stack.indexOf('main'), r!.stack.indexOf('main') + 2), ['main', 'leak_here']);
    assert.equal(r!.stack.at(-1), 'leak_here', 'the allocation site is the leaf');
    assert.equal(from(last, 'fine_here').length, 0, '10,000 blocks malloc\'d and freed: none outstanding');
    assert.ok(last.every((x) => x.kind === 'outstanding'));
    assert.equal(stats.mapInsertFailures, 0);
    assert.equal(stats.decodeErrors, 0);
  });

  test('each allocator function, exact sizes by stack; after the frees, nothing outstanding', async () => {
    const w = await workload('kinds');
    await traced({ pid: w.pid }, async (inst) => {
      w.next();
      await w.said('allocated');
      assert.equal(rowsOf(inst).length, 0, 'younger than --min-age: not reported yet');
      await sleep(1100);
      const rows = rowsOf(inst);
      const expect: [string, number, number, string][] = [
        ['in_malloc', 3000, 3, 'heap'],
        ['in_calloc', 6000, 2, 'heap'],
        ['in_realloc', 5000, 1, 'heap'], // realloc(NULL, 100), then grown to 5000: one block
        ['in_posix_memalign', 4096, 2, 'heap'],
        ['in_aligned_alloc', 1024, 1, 'heap'],
        ['in_valloc', 4096, 1, 'heap'],
        ['in_mmap', 3 * 4096, 1, 'mmap'],
      ];
      for (const [fn, bytes, n, allocator] of expect) {
        const rs = from(rows, fn);
        assert.deepEqual([sum(rs, 'bytes'), sum(rs, 'allocations'), [...new Set(rs.map((r) => r.allocator))]], [bytes, n, [allocator]], `${fn}: ${JSON.stringify(rs)}`);
        assert.ok(rs.every((r) => r.stack.at(-1) === fn && r.pid === w.pid));
      }
      assert.equal(rows.length, expect.length, `no other rows (no nested malloc of posix_memalign, no mmap inside malloc): ${JSON.stringify(rows.map((r) => r.stack.slice(-2)))}`);
      w.next();
      await w.said('done');
      await sleep(1100);
      assert.deepEqual(rowsOf(inst), [], 'everything freed: nothing outstanding after the age');
    });
  });

  test('failed allocations are counted apart, by stack, never as leaks', async () => {
    const w = await workload('fail');
    await traced({ pid: w.pid }, async (inst) => {
      w.next();
      await w.said('done');
      await sleep(1100);
      const rows = rowsOf(inst);
      assert.ok(rows.every((r) => r.kind === 'failed'), JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
      const [huge] = from(rows, 'fail_here');
      assert.equal(huge?.allocations, 1);
      assert.equal(huge?.bytes, 2n ** 64n - 1n, 'malloc((size_t)-1): the size asked for');
      assert.equal(huge?.allocator, 'heap');
      const [mmapped] = from(rows, 'fail_mmap_here');
      assert.deepEqual([mmapped?.allocations, mmapped?.allocator], [2, 'mmap'], 'mmap returned MAP_FAILED twice');
      const [calloced] = from(rows, 'fail_calloc_here');
      assert.equal(calloced?.allocations, 1, 'calloc whose size overflows');
      assert.equal(calloced?.bytes, 2n ** 64n - 1n, 'n × size saturated');
      assert.deepEqual(rowsOf(inst), [], 'failures are reported once, in the report of their interval');
    });
  });

  test('--min-size leaves small blocks out; --sample-rate 10 records about one in ten', async () => {
    const w = await workload('small', '2000');
    await traced({ pid: w.pid, minSize: 1024 }, async (inst) => {
      w.next();
      await w.said('done');
      await sleep(1100);
      const rows = rowsOf(inst);
      assert.equal(sum(from(rows, 'leak_here'), 'bytes'), LEAK_BYTES);
      assert.equal(from(rows, 'small_leak_here').length, 0, '64-byte blocks are below --min-size 1024');
    });
    const s = await workload('small', '2000');
    await traced({ pid: s.pid, sampleRate: 10 }, async (inst) => {
      s.next();
      await s.said('done');
      await sleep(1100);
      const small = from(rowsOf(inst), 'small_leak_here');
      const n = sum(small, 'allocations');
      // Binomial(2000, 0.1): 200 ± 13.4; these bounds are 5 standard deviations out.
      assert.ok(n >= 133 && n <= 267, `${n} of 2000 recorded`);
      assert.equal(sum(small, 'bytes'), n * 64);
      assert.ok(small.every((r) => r.sample_rate === 10));
    });
  });

  test("an exec or an exit ends the address space: its blocks are no longer reported", async () => {
    const w = await workload('exec');
    await traced({ pid: w.pid }, async (inst) => {
      w.next();
      await w.said('done');
      await sleep(1100);
      assert.equal(sum(from(rowsOf(inst), 'leak_here'), 'bytes'), LEAK_BYTES);
      w.next(); // execs sleep
      await waitFor(() => spawnSync('cat', [`/proc/${w.pid}/comm`], { encoding: 'utf8' }).stdout.trim() === 'sleep', 'the exec', 5000);
      assert.deepEqual(rowsOf(inst).filter((r) => r.stack.includes('leak_here')), [], 'after the exec');
    });
    const x = await workload('leak');
    await traced({ pid: x.pid }, async (inst) => {
      x.next();
      await x.said('done');
      await sleep(1100);
      assert.equal(sum(from(rowsOf(inst), 'leak_here'), 'bytes'), LEAK_BYTES);
      x.child.kill('SIGKILL');
      await new Promise((r) => x.child.once('exit', r));
      assert.deepEqual(rowsOf(inst), [], 'after the exit');
    });
  });

  test('--kernel -p PID: the sockets and pipes it keeps are outstanding slab allocations with named kernel stacks; closed, they go', async () => {
    const N = 200;
    const w = await workload('kernel', String(N));
    await traced({ pid: w.pid, kernel: true }, async (inst) => {
      w.next();
      await w.said('done');
      await sleep(1100);
      const rows = rowsOf(inst);
      // The socket itself (other allocations under sk_alloc, such as a new slab's bookkeeping, come and go).
      const sock = rows.filter((r) => r.stack.at(-2) === 'sk_prot_alloc' && r.stack.includes('__sys_socket'));
      assert.equal(sum(sock, 'allocations'), N, JSON.stringify(rows.map((r) => [r.allocations, r.stack.slice(-3)])));
      assert.ok(sock.every((r) => r.allocator === 'slab' && r.pid === w.pid && r.comm === 'ml-workload'));
      // kmalloc: the pipe's buffer array (kcalloc in alloc_pipe_info).
      const kmalloc = rows.filter((r) => r.stack.at(-2) === 'alloc_pipe_info' && /kmalloc/.test(r.stack.at(-1)!));
      assert.ok(kmalloc.length >= 1, 'a kmalloc from alloc_pipe_info');
      assert.ok(kmalloc.every((r) => r.allocations === N && Number(r.bytes) % N === 0 && Number(r.bytes) >= N * 8), JSON.stringify(kmalloc));
      assert.ok(rows.every((r) => !/^(bpf_|__bpf_trace)/.test(r.stack.at(-1)!)), 'the tracing frames are not part of the stack');
      // A stack the kernel could not keep (its map's slot held another: a busy host) is counted
      // as lost with its reason; every stack it kept is named whole.
      const kept = rows.filter((r) => r.stack[0] !== '[lost stack]');
      const unnamed = kept.filter((r) => r.stack.includes('[unknown]') || r.reason);
      assert.deepEqual(unnamed.map((r) => [r.reason, r.stack.slice(0, 4)]), [], 'every frame named from kallsyms');
      assert.ok(rows.filter((r) => r.stack[0] === '[lost stack]').every((r) => /^the kernel could not keep its stack/.test(r.reason ?? '')));
      w.next();
      await w.said('done', 2);
      // Sockets are freed after an RCU grace period. (What the slabs allocated for themselves stays with their pages.)
      let left: MemleakRow[] = [];
      await waitFor(() => (left = rowsOf(inst).filter((r) => r.stack.at(-2) === 'alloc_pipe_info' || r.stack.at(-2) === 'sk_prot_alloc')).length === 0, 'the frees', 5000).catch((e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify(left.map((r) => [r.allocations, r.stack.slice(-4)]))}`);
      });
    });
  });

  test('without -p or --container it is kernel mode; --obj alone is refused (never host-wide uprobes)', async () => {
    await traced({ interval: 3600 }, async (inst) => {
      // The kmem tracepoints are attached, no uprobe.
      assert.ok(inst.programStats().some((p) => p.program === 'ml_kmalloc'));
      assert.ok(!inst.programStats().some((p) => p.program === 'ml_alloc_enter'));
    });
    const m = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: () => {} });
    assert.throws(() => m.start(memleakTracker, { obj: 'libjemalloc' }), { code: 'E_OPTION', message: /--obj needs -p PID or --container ID/ });
    assert.throws(() => m.start(memleakTracker, { pid: 1, obj: 'libc', kernel: true }), { code: 'E_OPTION' });
    assert.throws(() => m.start(memleakTracker, { pages: true, pid: process.pid }), { code: 'E_OPTION', message: /--pages is for kernel mode/ });
    // A name no container has (the agent's containers would resolve a real one: memleak-container.test.ts).
    assert.throws(() => memleakTracker.uprobes!({ container: 'no-such-web' }, { idsOf: () => [] }), { code: 'E_CONTAINER', message: /--container no-such-web: no running container of that name/ });
  });

  test('a statically linked process: told to give --obj; with --obj /proc/PID/exe its malloc is traced', async (t) => {
    const st = join(dir, 'ml-static');
    if (spawnSync('cc', ['-static', '-O0', '-fno-omit-frame-pointer', '-o', st, join(dir, 'w.c')]).status !== 0) {
      t.skip('no static C library (cc -static) for the workload');
      return;
    }
    const child = spawn(st, ['leak'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('waiting'), 'the static workload');
    const m = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: () => {} });
    assert.throws(() => m.start(memleakTracker, { pid: child.pid! }), { code: 'E_OPTION', message: new RegExp(`process ${child.pid} maps no C library \\(statically linked\\?\\) — give the file that has its malloc and free with --obj`) });
    await traced({ pid: child.pid!, obj: `/proc/${child.pid}/exe` }, async (inst) => {
      child.stdin!.write('\n');
      await waitFor(() => out.includes('done'), 'the leak');
      await sleep(1100);
      assert.equal(sum(from(rowsOf(inst), 'leak_here'), 'bytes'), LEAK_BYTES);
    });
  });

  test("the CLI: bcc's lines, \"N bytes in M allocations from stack\", leaf first", async () => {
    const w = await workload('leak');
    const cli = spawn(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'memleak', '-p', String(w.pid), '--min-age', '1', '-i', '1', '-T', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout!.on('data', (d) => (out += d));
    cli.stderr!.on('data', (d) => (err += d));
    const exited = new Promise((r) => cli.on('exit', r));
    await waitFor(() => /memleak tracker started/.test(err), 'the CLI to start', 15_000);
    w.next();
    assert.equal(await exited, 0, err);
    assert.match(out, new RegExp(`\\t163840 bytes in 40 heap allocations from stack, ml-workload \\(pid ${w.pid}\\), oldest \\d+\\.\\d s\\n\\t\\tleak_here\\n\\t\\tmain\\n`));
    assert.doesNotMatch(out, /fine_here/);
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'memleak', '--obj', 'libc', '-T', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--obj needs -p PID or --container ID/);
  });
});
