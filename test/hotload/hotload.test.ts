/**
 * Hot-loaded programs on the real kernel, run by TrackerManager like any tracker: the seed's
 * exact example, a program with a ring buffer and a perf buffer, options by name, replace in
 * place, a sampling program, the example, and nothing left behind after many cycles.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { EunomiaError, ErrorCodes, type ErrorCode } from '../../src/core/errors.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import { parseProgramPackage, programDescriptor } from '../../src/hotload/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import type { OptionValues, TrackerDescriptor } from '../../src/runtime/types.js';
import { buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-hotload-'));

/** open(2) itself (libc and Node use openat): what the seed's program traces. */
const OPENER = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long fd = syscall(SYS_open, argv[1], O_RDONLY);
  return fd < 0;
}
`;

/** A sampling program: a perf_event section has no attach point, the package's `perf` gives it. */
const SAMPLER = String.raw`
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct cpu_sample { __u32 pid; __u32 cpu; };
struct cpu_sample *__eunomia_event_cpu_sample __attribute__((unused, section(".eunomia.types")));
const volatile __u32 target_tgid = 0;
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 64 * 1024); } samples SEC(".maps");
SEC("perf_event")
int on_sample(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	struct cpu_sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s)
		return 0;
	s->pid = target_tgid;
	s->cpu = bpf_get_smp_processor_id();
	bpf_ringbuf_submit(s, 0);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** Compiles C source text (our test programs) the way bpf/Makefile does. */
function compile(name: string, source: string): Buffer {
  const src = join(dir, `${name}.bpf.c`);
  writeFileSync(src, source);
  return readFileSync(buildBpf(src));
}

function descriptor(object: Buffer, extra: Record<string, unknown> = {}): TrackerDescriptor {
  return programDescriptor(parseProgramPackage({ name: 'hot_multi', object: object.toString('base64'), ...extra }));
}

function isCode(code: ErrorCode, re: RegExp) {
  return (e: unknown): boolean => e instanceof EunomiaError && e.code === code && re.test(e.message);
}

const getppid = (n: number): void => {
  for (let i = 0; i < n; i++) void process.ppid; // every read is a getppid(2)
};

describe('hot-loaded programs on the real kernel', { skip: needsRoot || needsClang }, () => {
  const watch = new KernelWatch();
  const events: TrackerEvent[] = [];
  let manager: TrackerManager;
  let hotMulti: Buffer;

  before(() => {
    const native = loadNative();
    preflight(native);
    manager = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
    hotMulti = readFileSync(buildBpf(join(repoRoot, 'test/bpf/hot_multi.bpf.c')));
  });

  after(async () => {
    await manager.stopAll();
    rmSync(dir, { recursive: true, force: true });
    assert.ok(watch.seen.progs.size >= 50, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'every program, link and map they loaded is gone');
  });

  const of = (id: number, from = 0): TrackerEvent[] => events.slice(from).filter((e) => e.instance === id);

  test("the seed's example JSON, exactly: an open(2) is reported with its pid and filename", async () => {
    const opener = join(dir, 'opener');
    writeFileSync(`${opener}.c`, OPENER);
    execFileSync('cc', ['-O1', '-o', opener, `${opener}.c`], { stdio: 'pipe' });
    const target = join(dir, 'seed-target.txt');
    writeFileSync(target, 'hello\n');

    const pkg = parseProgramPackage(readFileSync(join(repoRoot, 'test/fixtures/seed-hotupdate.json'), 'utf8'));
    const inst = manager.start(programDescriptor(pkg));
    watch.note();
    const r = spawnSync(opener, [target]);
    assert.equal(r.status, 0, 'the helper opened the file');
    await waitFor(() => of(inst.id).some((e) => e.data.pid === r.pid && e.data.filename === target), `an event for pid ${r.pid} opening ${target}`);
    const stats = await manager.stop(inst.id);
    const ev = of(inst.id).find((e) => e.data.pid === r.pid)!;
    assert.equal(ev.tracker, 'hotupdate');
    assert.equal(stats.decodeErrors, 0);
    assert.equal(stats.lostKernel + stats.lostQueue, 0);
  });

  test('hot_multi: a ring buffer and a perf buffer, both decoded; the package option sets the rodata', async () => {
    const inst = manager.start(descriptor(hotMulti, { options: { tag: 5 } }), { target_tgid: process.pid });
    watch.note();
    const ppid = process.ppid;
    getppid(20);
    const from = (source: number): TrackerEvent[] => of(inst.id).filter((e) => e.data.source === source);
    await waitFor(() => from(1).length >= 20 && from(2).length >= 20, '20 events from each stream');
    const stats = await manager.stop(inst.id);
    for (const e of of(inst.id)) {
      assert.equal(e.tracker, 'hot_multi');
      assert.equal(e.data.pid, process.pid);
      assert.equal(e.data.tag, 5);
      assert.ok(Math.abs(e.time - Date.now()) < 60_000, 'the time comes from the ts_ns field');
    }
    assert.ok(from(1).every((e) => e.data.value === 0 && (e.data.seen as number) > 0), 'ring buffer: enter events with the raw tracepoint count');
    assert.ok(from(2).every((e) => e.data.value === ppid), 'perf buffer: exit events with the result of getppid');
    assert.equal(stats.events, of(inst.id).length);
    assert.equal(stats.decodeErrors + stats.lostKernel + stats.lostQueue, 0);
  });

  test('options by name at start override the package; an unknown one is E_OPTION and loads nothing', async () => {
    const inst = manager.start(descriptor(hotMulti, { options: { tag: 5 } }), { target_tgid: process.pid, tag: 11 });
    watch.note();
    getppid(5);
    await waitFor(() => of(inst.id).length >= 10, 'events');
    await manager.stop(inst.id);
    assert.ok(of(inst.id).every((e) => e.data.tag === 11));
    const running = manager.list().length;
    assert.throws(() => manager.start(descriptor(hotMulti), { target_pid: 1 }), isCode(ErrorCodes.OPTION, /unknown option "target_pid" \(options: target_tgid, tag\)/));
    assert.throws(() => manager.start(descriptor(hotMulti), { tag: 'x' } as OptionValues), isCode(ErrorCodes.OPTION, /tag/));
    assert.equal(manager.list().length, running);
  });

  test('replace keeps the id and switches programs; a failed replace keeps the old one running', async () => {
    const opts = { target_tgid: process.pid };
    const first = manager.start(descriptor(hotMulti, { options: { tag: 1 } }), opts);
    const id = first.id;
    watch.note();
    getppid(5);
    await waitFor(() => of(id).length >= 10, 'events from the first program');

    const second = await manager.replace(id, descriptor(hotMulti, { options: { tag: 2 } }), opts);
    watch.note();
    assert.equal(second.id, id);
    assert.equal(manager.get(id), second);
    assert.deepEqual(manager.list().filter((i) => i.id === id).map((i) => i.name), ['hot_multi']);
    const mark = events.length;
    getppid(5);
    await waitFor(() => of(id, mark).length >= 10, 'events from the replacement');
    assert.ok(of(id, mark).every((e) => e.data.tag === 2), 'only the new program reports after replace()');
    assert.ok(second.stats().events >= of(id).length - 1, "the id's counts go on across the replacement");

    // Refused by the verifier, a missing tracepoint, an unknown option: the old one stays.
    const bad = programDescriptor(parseProgramPackage({ name: 'bad', object: readFileSync(buildBpf(join(repoRoot, 'test/bpf/bad.bpf.c'))).toString('base64'), event: {} }));
    await assert.rejects(manager.replace(id, bad, {}), isCode(ErrorCodes.LOAD, /bad: load/));
    const missing = compile('missing_tp', '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nSEC("tp/syscalls/sys_enter_no_such_call") int p(void *ctx) { return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n');
    await assert.rejects(manager.replace(id, descriptor(missing), {}), isCode(ErrorCodes.ATTACH, /sys_enter_no_such_call/));
    await assert.rejects(manager.replace(id, descriptor(hotMulti), { nope: 1 }), isCode(ErrorCodes.OPTION, /"nope"/));
    await assert.rejects(manager.replace(999, descriptor(hotMulti), opts), isCode(ErrorCodes.NOT_FOUND, /999/));
    assert.equal(manager.get(id), second);
    const mark2 = events.length;
    getppid(5);
    await waitFor(() => of(id, mark2).length >= 10, 'events from the program that stayed');
    assert.ok(of(id, mark2).every((e) => e.data.tag === 2));
    const stats = await manager.stop(id);
    assert.equal(stats.events, of(id).length, 'stats count every event of the id, both programs');
    assert.equal(stats.decodeErrors, 0);
  });

  test('a perf_event program is attached where the package says (software CPU clock) and samples', async () => {
    const sampler = compile('sampler', SAMPLER);
    assert.throws(() => parseProgramPackage({ name: 'sampler', object: sampler.toString('base64') }), isCode(ErrorCodes.PACKAGE, /perf: program on_sample .* say which with "perf"/));
    const d = programDescriptor(parseProgramPackage({ name: 'sampler', object: sampler.toString('base64'), perf: { frequency: 1000 } }));
    const inst = manager.start(d, { target_tgid: process.pid });
    watch.note();
    const end = Date.now() + 5000;
    while (of(inst.id).length === 0 && Date.now() < end) {
      const spin = Date.now() + 50;
      while (Date.now() < spin); // on CPU, so the clock samples us
      await new Promise((r) => setImmediate(r));
    }
    await manager.stop(inst.id);
    assert.ok(of(inst.id).length > 0, 'samples of this process');
    assert.ok(of(inst.id).every((e) => e.data.pid === process.pid));
  });

  test('examples/opensnoop-lite: opens by a child are reported, Eunomia itself is left out', async () => {
    const object = readFileSync(buildBpf(join(repoRoot, 'examples/opensnoop-lite/opensnoop.bpf.c')));
    const inst = manager.start(programDescriptor(parseProgramPackage({ name: 'opensnoop', object: object.toString('base64') })));
    watch.note();
    const mineFile = join(dir, 'mine.txt');
    const catFile = join(dir, 'cat.txt');
    writeFileSync(catFile, 'x');
    closeSync(openSync(mineFile, 'w'));
    execFileSync('cat', [catFile]);
    await waitFor(() => of(inst.id).some((e) => e.data.path === catFile && e.data.comm === 'cat'), 'the open by cat');
    await manager.stop(inst.id);
    assert.ok(!of(inst.id).some((e) => e.data.path === mineFile), "Eunomia's own open is not reported (eunomia_exclude_pid)");
  });

  test('an object built with eunomia.bpf.h takes the common options: --pid filters in the kernel, includeSelf lets Eunomia in', async () => {
    const object = readFileSync(buildBpf(join(repoRoot, 'examples/opensnoop-lite/opensnoop.bpf.c')));
    const d = programDescriptor(parseProgramPackage({ name: 'opensnoop', object: object.toString('base64') }));
    assert.equal(d.commonOptions, true);
    const file = join(dir, 'common.txt');
    writeFileSync(file, 'x');
    const sleeper = spawn('sh', ['-c', `read x; exec cat ${file}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    const inst = manager.start(d, { pid: sleeper.pid!, includeSelf: true });
    try {
      closeSync(openSync(file, 'r')); // this process: included, but not the pid asked for
      execFileSync('cat', [file]); // another process
      sleeper.stdin!.end('go\n'); // the pid asked for: it execs cat, the same pid
      await waitFor(() => of(inst.id).some((e) => e.data.path === file && e.data.pid === sleeper.pid), 'the open by the chosen pid');
    } finally {
      await manager.stop(inst.id);
    }
    assert.deepEqual([...new Set(of(inst.id).map((e) => e.data.pid))], [sleeper.pid], 'only the pid asked for');
    assert.throws(() => manager.start(d, { hostOnly: true, containersOnly: true }), /--host-only and --containers-only exclude each other/);
  });

  test('50 start/stop cycles leave nothing loaded', async () => {
    const d = descriptor(hotMulti);
    for (let i = 0; i < 50; i++) {
      const inst = manager.start(d, { target_tgid: process.pid });
      assert.ok(watch.note() >= 6, 'programs, links and maps are held while it runs');
      await manager.stop(inst.id);
    }
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });
});
