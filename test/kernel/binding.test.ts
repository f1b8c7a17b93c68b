/**
 * The native binding against the real kernel: every attach type, ring and perf buffers,
 * globals, maps, verifier errors, and nothing left behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { BpfObject } from '../../src/core/bpf-object.js';
import { compileDecoder } from '../../src/core/btf/index.js';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';
import { preflight } from '../../src/core/kernel.js';
import { PROBE_OBJECT, probeProgramKinds } from '../../src/core/kernel-probe.js';
import { objectDir } from '../../src/core/paths.js';
import { loadNative, type NativeBinding } from '../../src/core/native.js';
import { bssGlobal, buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const skip = needsRoot || needsClang;
/** File offset of a function in a shared library, the way a user finds it with readelf. */
function fileOffset(lib: string, func: string): number {
  const syms = execFileSync('readelf', ['-W', '--dyn-syms', lib], { encoding: 'utf8' });
  const m = new RegExp(`\\s([0-9a-f]+)\\s+\\d+\\s+FUNC\\s+\\S+\\s+\\S+\\s+(\\d+)\\s+${func}@@`).exec(syms);
  if (!m) throw new Error(`${func} not in ${lib}`);
  const secs = execFileSync('readelf', ['-SW', lib], { encoding: 'utf8' });
  const s = new RegExp(`\\[\\s*${m[2]}\\]\\s+\\S+\\s+\\S+\\s+([0-9a-f]+)\\s+([0-9a-f]+)`).exec(secs)!;
  return parseInt(m[1], 16) - parseInt(s[1], 16) + parseInt(s[2], 16);
}

const C_RAW_TP = 0, C_TP_BTF = 1, C_UPROBE = 2, C_URETPROBE = 3, C_PERF_EVENT = 4;

function count(obj: BpfObject, idx: number): number {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(idx);
  return Number(obj.map('counts').lookup(k)!.readBigUInt64LE(0));
}


/** features.bpf.c's .bss counter of calls (eunomia.bpf.h has a .bss variable too). */
const tpHits = (obj: BpfObject): number => bssGlobal(obj, 'tp_hits');

describe('native binding on the real kernel', { skip }, () => {
  let native: NativeBinding;
  let featuresObj: string;
  let badObj: string;
  const watch = new KernelWatch();

  before(() => {
    native = loadNative();
    preflight(native);
    featuresObj = buildBpf(join(repoRoot, 'test/bpf/features.bpf.c'));
    badObj = buildBpf(join(repoRoot, 'test/bpf/bad.bpf.c'));
  });

  after(async () => {
    assert.ok(watch.seen.progs.size > 5 && watch.seen.links.size > 5, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'every program, link and map they loaded is gone');
  });

  test('every attach type fires: tracepoint, raw_tp, tp_btf, uprobe, uretprobe, perf_event; ring and perf buffers deliver batches', async (t) => {
    const obj = BpfObject.open(native, readFileSync(featuresObj), 'features'); // from a buffer
    t.after(() => obj.close());
    const decoder = compileDecoder(obj.btf, 'feature_event');
    obj.setGlobals({ target_tgid: process.pid, magic: 0xc0ffee });
    obj.load();
    const links = obj.attachAll(); // tp, raw_tp, tp_btf from their sections
    assert.equal(links.length, 3);
    obj.attachUprobe('on_uprobe', { binary: LIBC, func: 'getppid', pid: process.pid });
    obj.attachUprobe('on_uretprobe', { binary: LIBC, func: 'getppid', pid: process.pid, retprobe: true });
    const perfLinks = obj.attachPerfEvent('on_perf_event', { type: 1 /* software */, config: 0 /* cpu clock */, frequency: 1000 });
    assert.ok(perfLinks.length >= 1);
    watch.note();

    const ring: Record<string, unknown>[] = [];
    const perf: Record<string, unknown>[] = [];
    let ringBatches = 0;
    const collect = (into: Record<string, unknown>[], batch: () => void) => (buf: Buffer, n: number) => {
      batch();
      let off = 0;
      for (let i = 0; i < n; i++) {
        const len = buf.readUInt32LE(off);
        into.push(decoder.decode(buf, off + 8));
        off += 8 + ((len + 7) & ~7);
      }
    };
    const r1 = obj.openReader('events', collect(ring, () => ringBatches++));
    const r2 = obj.openReader('perf_events', collect(perf, () => {}), { perfPages: 8 });

    const myPpid = process.ppid; // before counting: every read is a getppid()
    const N = 2000;
    for (let i = 0; i < N; i++) void process.ppid; // getppid() through libc: tp + uprobe
    await waitFor(() => ring.length >= N && perf.length >= N, `${N} ring and perf events`);
    await new Promise((r) => setTimeout(r, 50));

    // Our N calls, plus any the test runner made: the kernel's own counter is the truth.
    const hits = tpHits(obj);
    assert.ok(hits >= N, '.bss global counted every call');
    assert.equal(ring.length, hits);
    assert.equal(perf.length, hits);
    assert.ok(ringBatches < N / 10, `records arrive in batches (${ringBatches} batches for ${N})`);
    assert.deepEqual(ring.map((e) => e.seq), [...Array(hits).keys()], 'in order, none missing');
    for (const e of ring.slice(0, 5)) {
      assert.equal(e.pid, process.pid);
      assert.equal(e.tid, process.pid);
      assert.equal(e.ppid, myPpid);
      assert.equal(e.magic, 0xc0ffee, '.rodata global set before load');
      assert.equal(e.comm, readFileSync('/proc/self/comm', 'utf8').trim());
      assert.equal(e.source, 1);
    }
    assert.equal(perf[0].source, 2);
    assert.ok(count(obj, C_RAW_TP) >= N);
    assert.ok(count(obj, C_TP_BTF) >= N);
    assert.equal(count(obj, C_UPROBE), hits, 'uprobe on libc getppid: once per call');
    assert.equal(count(obj, C_URETPROBE), hits);
    await waitFor(() => count(obj, C_PERF_EVENT) > 0, 'a perf_event sample');

    const s1 = await r1.close();
    const s2 = await r2.close();
    assert.equal(s1.records, hits);
    assert.equal(s1.delivered, hits);
    assert.equal(s1.lostQueue, 0);
    assert.equal(s2.lostKernel, 0);
    assert.equal(obj.kernelLost(), 0);
    await obj.close();
  });

  test('detach stops a program; hash map lookup, update, delete, iterate and batch', async (t) => {
    const obj = BpfObject.open(native, featuresObj);
    t.after(() => obj.close());
    obj.setGlobals({ target_tgid: process.pid });
    obj.load();
    const link = obj.attach('on_raw_sys_enter');
    watch.note();
    void process.ppid;
    assert.ok(count(obj, C_RAW_TP) > 0);
    obj.detach(link);
    const before = count(obj, C_RAW_TP); // the detach itself made syscalls
    for (let i = 0; i < 100; i++) void process.ppid;
    assert.equal(count(obj, C_RAW_TP), before, 'no hits after detach');

    const m = obj.map('scratch_hash');
    const key = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
    const val = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
    // More entries than one batch call reads (256): the batch ops go on from their cursor.
    for (let i = 1; i <= 1000; i++) m.update(key(i), val(i * 10));
    assert.equal(m.lookup(key(7))!.readBigUInt64LE(0), 70n);
    assert.equal(m.lookup(key(5000)), null);
    assert.equal(m.delete(key(7)), true);
    assert.equal(m.delete(key(7)), false);
    assert.equal([...m.keys()].length, 999);
    const all = m.entries();
    assert.equal(all.length, 999);
    assert.equal(new Set(all.map((e) => e.key.readUInt32LE(0))).size, 999, 'each entry once');
    for (const { key: k, value: v } of all) assert.equal(v.readBigUInt64LE(0), BigInt(k.readUInt32LE(0) * 10));
    const drained = m.entries({ delete: true });
    assert.equal(drained.length, 999);
    assert.equal([...m.keys()].length, 0, 'batch lookup-and-delete emptied the map');
    assert.throws(() => m.update(Buffer.alloc(3), val(1)), (e: unknown) => e instanceof EunomiaError && /key must be 4 bytes/.test(e.message));
    await obj.close();
  });

  test('a uprobe attaches by file offset as well as by symbol', async (t) => {
    const obj = BpfObject.open(native, featuresObj);
    t.after(() => obj.close());
    obj.setGlobals({ target_tgid: process.pid });
    obj.load();
    obj.attachUprobe('on_uprobe', { binary: LIBC, offset: fileOffset(LIBC, 'getppid') });
    watch.note();
    for (let i = 0; i < 10; i++) void process.ppid;
    assert.equal(count(obj, C_UPROBE), 10);
    assert.throws(() => obj.attachUprobe('on_uretprobe', { binary: LIBC, func: 'no_such_function_xyz' }), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.ATTACH && /no_such_function_xyz/.test(e.message));
  });

  test('closing a reader delivers what is still in the ring buffer', async (t) => {
    const obj = BpfObject.open(native, featuresObj);
    t.after(() => obj.close());
    obj.setGlobals({ target_tgid: process.pid });
    obj.load();
    obj.attach('on_getppid');
    watch.note();
    let got = 0;
    const r = obj.openReader('events', (_b, n) => (got += n), { pollMs: 1000 });
    for (let i = 0; i < 500; i++) void process.ppid; // wake-ups batched: nothing consumed yet
    await obj.detachAll();
    const s = await r.close();
    const hits = tpHits(obj);
    assert.ok(hits >= 500);
    assert.equal(s.records, hits);
    assert.equal(got, hits);
  });

  test('a full ring buffer drops in the kernel, and every drop is counted', async (t) => {
    const obj = BpfObject.open(native, featuresObj);
    t.after(() => obj.close());
    obj.setGlobals({ target_tgid: process.pid });
    obj.setMaxEntries('events', 4096); // one page: a few dozen records
    obj.load();
    obj.attach('on_getppid');
    watch.note();
    for (let i = 0; i < 1000; i++) void process.ppid; // no reader yet: the ring fills up
    const lost = obj.kernelLost()!;
    let got = 0;
    const r = obj.openReader('events', (_b, n) => (got += n));
    await waitFor(() => got > 0, 'the records that fit');
    const hits = tpHits(obj);
    await r.close();
    assert.ok(lost > 900, `most records were refused (${lost})`);
    assert.ok(got > 0 && got < 100, `what fit in one page was delivered (${got})`);
    assert.equal(got + lost, hits, 'delivered + counted-lost = generated');
  });

  test('when JavaScript falls behind, the native queue drops whole batches and counts them', async (t) => {
    const obj = BpfObject.open(native, featuresObj);
    t.after(() => obj.close());
    obj.setGlobals({ target_tgid: process.pid });
    obj.setMaxEntries('events', 1 << 24);
    obj.load();
    obj.attach('on_getppid');
    watch.note();
    let got = 0;
    const r = obj.openReader('events', (_b, n) => (got += n), { pollMs: 1, batchBytes: 4096, maxQueuedBytes: 64 * 1024 });
    // A worker thread (same process, so the filter matches) makes the calls while the main
    // thread, which receives batches, is kept busy.
    const worker = new Worker('for (let i = 0; i < 50000; i++) void process.ppid;', { eval: true });
    const done = new Promise((res) => worker.on('exit', res));
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      /* block the event loop */
    }
    await done;
    await new Promise((res) => setTimeout(res, 50));
    const s = await r.close();
    const hits = tpHits(obj);
    assert.ok(s.lostQueue > 0, `drops counted (${s.lostQueue})`);
    assert.equal(got, s.delivered);
    assert.equal(s.records, hits, 'the reader drained everything from the kernel');
    assert.equal(s.delivered + s.lostQueue, s.records, 'delivered + counted-lost = read');
    assert.equal(obj.kernelLost(), 0);
  });

  test('a program the verifier refuses gives E_LOAD with the verifier log', async () => {
    const obj = BpfObject.open(native, badObj);
    const err = (() => { try { obj.load(); } catch (e) { return e; } })();
    assert.ok(err instanceof EunomiaError);
    assert.equal(err.code, ErrorCodes.LOAD);
    assert.match(err.log ?? '', /invalid access to map value|R0 invalid mem access|off=32/);
    assert.match(err.message, /load/);
    await obj.close();
  });

  test('a program type the host refuses to a privileged process: the error does not say "run as root"', async (t) => {
    // The kinds this host refuses with EPERM at load, as doctor probes them (fentry, fexit, LSM here).
    const refused = (await probeProgramKinds(native, { kinds: ['fentry', 'fexit', 'lsm'] })).find((p) => !p.ok && p.stage === 'load' && p.errno === 1);
    if (!refused) return t.skip('this host refuses no fentry, fexit or LSM program with EPERM: nothing to show');
    const obj = BpfObject.open(native, join(objectDir, PROBE_OBJECT));
    try {
      for (const p of obj.programs()) obj.setAutoload(p.name, p.name === `probe_${refused.kind}`);
      const err = (() => { try { obj.load(); } catch (e) { return e; } })();
      assert.ok(err instanceof EunomiaError && err.errno === 1, `${refused.kind}: refused with EPERM`);
      assert.doesNotMatch(err.message, /run as root/, 'this process is root');
      assert.match(err.message, /refused by the kernel although this process may load eBPF .* "eunomia doctor" shows which kinds this kernel allows/);
    } finally {
      await obj.close();
    }
  });

  test('loadAsync: objects verify in parallel off the main thread; each keeps its own log; closing one mid-load leaves nothing', async () => {
    const [a, b, bad, gone] = [featuresObj, featuresObj, badObj, featuresObj].map((p) => BpfObject.open(native, p));
    const loads = [a!.loadAsync(), b!.loadAsync(), bad!.loadAsync()];
    assert.throws(() => a!.attachAll(), /loaded first/, 'not attached before its load is done');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const [ra, rb, rbad] = await Promise.allSettled(loads);
    clearInterval(ticker);
    assert.equal(ra.status, 'fulfilled');
    assert.equal(rb.status, 'fulfilled');
    assert.equal(rbad.status, 'rejected');
    const err = (rbad as PromiseRejectedResult).reason as EunomiaError;
    assert.equal(err.code, ErrorCodes.LOAD);
    assert.match(err.log ?? '', /invalid access to map value|R0 invalid mem access|off=32/, "the refused object's own verifier log");
    assert.doesNotMatch(err.log ?? '', /features/, "not the other objects' lines");
    assert.ok(ticks > 0, 'the event loop ran during the loads');
    a!.attachAll();
    assert.ok(a!.programs().length > 0);
    const pending = gone!.loadAsync();
    gone!.closeNow();
    await assert.rejects(pending, (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.LOAD);
    await Promise.all([a!.close(), b!.close(), bad!.close()]);
  });

  test('bad input is refused with a clear error before reaching the kernel', () => {
    assert.throws(() => BpfObject.open(native, Buffer.from('not an elf at all')), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.OBJECT_INVALID);
    assert.throws(() => BpfObject.open(native, '/nonexistent/x.bpf.o'), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.OBJECT_MISSING);
    const obj = BpfObject.open(native, featuresObj);
    assert.throws(() => obj.setGlobals({ no_such_var: 1 }), /no global variable "no_such_var"/);
    assert.throws(() => obj.setGlobals({ target_tgid: -1 }), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.OPTION && /target_tgid/.test(e.message));
    assert.throws(() => obj.attach('on_uprobe'), /needs the object loaded first/);
    obj.closeNow();
  });

  test('the parsed BTF, released after load, is parsed again from the file as it was, and refused once the file changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-btf-'));
    const path = join(dir, 'features.bpf.o');
    copyFileSync(featuresObj, path);
    const obj = BpfObject.open(native, path);
    try {
      const before = obj.btf.types.length;
      obj.load();
      obj.releaseBtf();
      // A loaded object's globals are read through it again (tpHits finds .bss in the BTF).
      assert.equal(obj.btf.types.length, before);
      assert.equal(tpHits(obj), 0);
      obj.releaseBtf();
      appendFileSync(path, Buffer.alloc(8));
      assert.throws(() => obj.btf, (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.OBJECT_INVALID && /changed since the tracker loaded it.*restart the tracker/.test(e.message));
    } finally {
      obj.closeNow();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
