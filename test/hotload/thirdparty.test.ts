/**
 * Objects in the style of third-party tools (bcc's libbpf-tools), written for these tests and
 * run on the real kernel: variable-length records with a trailing argument buffer, a perf event
 * array whose records perf pads, alternatives of one hook (fentry, kprobe, tracepoint) of which
 * the kernel allows only some, and `raw` records.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { headerBtf } from '../../src/cli/header-btf.js';
import { systemClock } from '../../src/core/clock.js';
import { ErrorCodes } from '../../src/core/errors.js';
import { preflight } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import { parseProgramPackage, programDescriptor } from '../../src/hotload/index.js';
import type { HotloadLimits } from '../../src/hotload/limits.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const object = (name: string): Buffer => readFileSync(buildBpf(join(repoRoot, `test/bpf/${name}.bpf.c`)));

describe('third-party style objects on the real kernel', { skip: needsRoot || needsClang }, () => {
  const watch = new KernelWatch();
  const events: TrackerEvent[] = [];
  let manager: TrackerManager;
  const of = (id: number): TrackerEvent[] => events.filter((e) => e.instance === id);
  const start = (obj: Buffer, pkg: Record<string, unknown>, options = {}, limits?: Partial<HotloadLimits>) =>
    manager.start(programDescriptor(parseProgramPackage({ object: obj.toString('base64'), ...pkg }, limits)), options);

  before(() => {
    const native = loadNative();
    preflight(native);
    manager = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
  });

  after(async () => {
    await manager.stopAll();
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'every program, link and map they loaded is gone');
  });

  test('variable-length records: every field the record holds, the argument buffer cut to the bytes sent', async () => {
    const inst = start(object('hot_varlen'), { name: 'varlen', event: 'exec_record' }, { target_ppid: process.pid });
    watch.note();
    const runs = [['/bin/true'], ['/bin/echo', 'one', 'two-words', 'x'.repeat(40)]].map(([cmd, ...args]) => spawnSync(cmd!, args));
    await waitFor(() => runs.every((r) => of(inst.id).some((e) => e.data.pid === r.pid)), 'an exec record for each child');
    const stats = await manager.stop(inst.id);
    assert.equal(stats.decodeErrors, 0, 'no record refused for being shorter than the struct');
    const echo = of(inst.id).find((e) => e.data.pid === runs[1]!.pid)!.data;
    assert.equal(echo.ppid, process.pid);
    assert.equal(echo.args_count, 4);
    // argv strings with their NULs: "/bin/echo\0one\0two-words\0xxx…\0"
    assert.equal(echo.args_size, '/bin/echo'.length + 'one'.length + 'two-words'.length + 40 + 4);
    assert.equal(echo.args, '/bin/echo', 'a string field: up to its NUL');
    assert.equal(echo.comm, 'node', 'comm is read before the exec replaces it');
    assert.equal(of(inst.id).find((e) => e.data.pid === runs[0]!.pid)!.data.args_count, 1);
    assert.ok(!('_extra' in echo));
  });

  test('a perf event array with padded records: decoded as the struct, the padding is not data', async () => {
    const inst = start(object('hot_perf'), { name: 'perfpad' }, { target_tgid: process.pid });
    watch.note();
    const r = spawnSync('nice', ['-n', '3', 'true']); // nice(1) calls getpriority
    assert.equal(r.status, 0);
    // Our own getpriority calls: os.getPriority is getpriority(PRIO_PROCESS, pid).
    const { getPriority } = await import('node:os');
    for (let i = 0; i < 5; i++) getPriority(process.pid);
    await waitFor(() => of(inst.id).length >= 5, 'five getpriority records');
    const stats = await manager.stop(inst.id);
    assert.equal(stats.decodeErrors, 0);
    for (const e of of(inst.id)) {
      assert.deepEqual(Object.keys(e.data).sort(), ['comm', 'kind', 'old_prio', 'pid', 'ts'], 'no _extra from perf padding');
      assert.equal(e.data.pid, process.pid);
      assert.equal(e.data.old_prio, process.pid, 'getpriority(PRIO_PROCESS, pid): the second argument');
      assert.equal(e.data.kind, 7);
    }
  });

  test('alternatives of one hook: fentry refused, kprobe unattachable here, the tracepoint runs; each skip says why', async () => {
    const allowed = { allowedProgramTypes: ['tracepoint', 'tp_btf', 'fentry', 'kprobe'] };
    const inst = start(object('hot_fallback'), { name: 'fallback', fallbacks: [['unlink_fentry', 'unlink_tp']] }, {}, allowed);
    watch.note();
    const skipped = Object.fromEntries(inst.skipped.map((s) => [s.program, s.reason]));
    assert.deepEqual(Object.keys(skipped).sort(), ['exit_tp', 'unlink_fentry', 'unlink_kprobe']);
    assert.match(skipped.unlink_fentry!, /^load: Operation not permitted/);
    assert.match(skipped.unlink_kprobe!, /^attach: .*kprobe/);
    assert.match(skipped.exit_tp!, /alternative to exit_btf, which runs/);
    const { writeFileSync } = await import('node:fs');
    const f = join(repoRoot, 'dist', `unlink-${process.pid}`);
    writeFileSync(f, '');
    const rm = spawnSync('rm', [f]); // unlinkat(2); Node's unlinkSync calls unlink(2)
    await waitFor(() => of(inst.id).some((e) => e.data.pid === rm.pid && e.data.via === 3), 'the unlink through the tracepoint');
    await waitFor(() => of(inst.id).some((e) => e.data.pid === rm.pid && e.data.via === 4), 'the exit through tp_btf');
    await manager.stop(inst.id);
    const vias = new Set(of(inst.id).map((e) => e.data.via));
    assert.deepEqual([...vias].sort(), [3, 4], 'only the chosen programs ran');
  });

  test('with the default limits, fentry and kprobe are not allowed: skipped as such, and the tracepoint runs', async () => {
    const inst = start(object('hot_fallback'), { name: 'fallback', fallbacks: [['unlink_fentry', 'unlink_tp']] }, { target_tgid: process.pid });
    watch.note();
    const skipped = Object.fromEntries(inst.skipped.map((s) => [s.program, s.reason]));
    assert.match(skipped.unlink_fentry!, /program kind fentry is not allowed here \(hot-load allowedProgramTypes\); unlink_tp stands in/);
    assert.match(skipped.unlink_kprobe!, /program kind kprobe is not allowed here/);
    await manager.stop(inst.id);
    // Without the group, the fentry program has no alternative the limits allow: refused, nothing loaded.
    assert.throws(() => start(object('hot_fallback'), { name: 'fallback' }), /program kind not allowed: unlink_fentry \(section "fentry\/do_unlinkat": fentry\), unlink_kprobe/);
  });

  test('raw: records as base64 with their length, whatever the object says', async () => {
    const inst = start(object('hot_perf'), { name: 'rawperf', raw: true }, { target_tgid: process.pid });
    watch.note();
    const { getPriority } = await import('node:os');
    for (let i = 0; i < 3; i++) getPriority(process.pid);
    await waitFor(() => of(inst.id).length >= 3, 'three raw records');
    await manager.stop(inst.id);
    for (const e of of(inst.id)) {
      assert.equal(e.data.length, 36, 'perf pads 30 bytes to 36');
      const b = Buffer.from(e.data.data as string, 'base64');
      assert.equal(b.length, 36);
      assert.equal(b.readUInt32LE(8), process.pid, 'pid at offset 8');
      assert.equal(b.readUInt16LE(16), 7, 'kind at offset 16');
    }
  });

  test('bad types from outside: a header of another size, BTF that lies about sizes, a struct the header lacks — each refused, nothing loaded', () => {
    const obj = object('hot_local');
    const header = readFileSync(join(repoRoot, 'test/bpf/hot_local.h'), 'utf8');
    const tmp = mkdtempSync(join(tmpdir(), 'eunomia-header-'));
    const good = headerBtf(join(repoRoot, 'test/bpf/hot_local.h'), 'event');
    assert.equal(good.size, 136);
    const running = manager.list().length;
    const refuse = (pkg: Record<string, unknown>, re: RegExp): void => {
      assert.throws(() => start(obj, { name: 'local', ...pkg }), (e: unknown) => (e as { code?: string }).code === ErrorCodes.PACKAGE && re.test((e as Error).message));
    };
    // The tool's header from another build: fname[64], 104 bytes, where the program sends 136.
    writeFileSync(join(tmp, 'old.h'), header.replace('#define LOCAL_NAME_LEN 96', '#define LOCAL_NAME_LEN 64'));
    const old = headerBtf(join(tmp, 'old.h'), 'event');
    refuse({ event: 'event', btf: old.btf.toString('base64') }, /^program package: btf: event is 104 bytes \(40 before its trailing array\), but program on_openat sends 136-byte records to map events \(bpf_ringbuf_output at instruction \d+\): the type does not describe these records/);
    // The struct's size patched from 136 to 40: its members run past it.
    const lying = Buffer.from(good.btf);
    const at = lying.indexOf(Buffer.from([7, 0, 0, 4, 136, 0, 0, 0])); // info: struct, 7 members; size 136
    assert.ok(at > 0 && lying.indexOf(Buffer.from([7, 0, 0, 4, 136, 0, 0, 0]), at + 1) < 0, 'the struct is found once in the blob');
    lying.writeUInt32LE(40, at + 4);
    refuse({ event: 'event', btf: lying.toString('base64') }, /^program package: btf: BTF: .*extends past the end of its 40-byte type/);
    refuse({ event: 'evnt', btf: good.btf.toString('base64') }, /^program package: event: no struct "evnt" in the package's "btf" \(structs: event\)/);
    refuse({ event: 'event', btf: Buffer.alloc(64, 'x').toString('base64') }, /^program package: btf: BTF: bad magic/);
    assert.throws(() => headerBtf(join(repoRoot, 'test/bpf/hot_local.h'), 'evnt'), /header hot_local.h has no struct or typedef named evnt \(it defines struct event\)/);
    assert.equal(manager.list().length, running, 'nothing was started');
  });
});
