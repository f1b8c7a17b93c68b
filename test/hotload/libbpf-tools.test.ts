/**
 * Objects nobody here wrote: the eBPF objects Debian's libbpf-tools embed in their tools
 * (scripts/test-env.sh installs the package), taken out of the binaries as `client push` does
 * and run on the real kernel — execsnoop's variable-length records, opensnoop's event from a
 * header, tcpstates' records raw, runqlat's tp_btf/raw_tp alternatives.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { headerBtf } from '../../src/cli/header-btf.js';
import { systemClock } from '../../src/core/clock.js';
import { embeddedBpfObjects } from '../../src/core/elf.js';
import { preflight } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import { parseProgramPackage, programDescriptor } from '../../src/hotload/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const needsTools = !existsSync('/usr/sbin/execsnoop') && "Debian's libbpf-tools is not installed (scripts/test-env.sh installs it)";

const objectOf = (tool: string): Buffer => {
  const found = embeddedBpfObjects(readFileSync(`/usr/sbin/${tool}`));
  assert.equal(found.length, 1, `${tool} embeds one eBPF object`);
  return found[0]!;
};

describe("libbpf-tools' own objects on the real kernel", { skip: needsRoot || needsClang || needsTools }, () => {
  const watch = new KernelWatch();
  const events: TrackerEvent[] = [];
  let manager: TrackerManager;
  const of = (id: number): TrackerEvent[] => events.filter((e) => e.instance === id);
  const start = (tool: string, pkg: Record<string, unknown> = {}, options = {}) =>
    manager.start(programDescriptor(parseProgramPackage({ name: tool, object: objectOf(tool).toString('base64'), ...pkg })), options);

  before(() => {
    const native = loadNative();
    preflight(native);
    manager = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
  });

  after(async () => {
    await manager.stopAll();
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'every program, link and map they loaded is gone');
  });

  test('execsnoop: records of a head plus the argument bytes used, every field decoded, none undecodable', async () => {
    const inst = start('execsnoop');
    watch.note();
    const r = spawnSync('/bin/echo', ['hot', 'loaded']);
    await waitFor(() => of(inst.id).some((e) => e.data.pid === r.pid), `the exec of pid ${r.pid}`);
    const stats = await manager.stop(inst.id);
    assert.equal(stats.decodeErrors, 0);
    const ev = of(inst.id).find((e) => e.data.pid === r.pid)!.data;
    assert.equal(ev.ppid, process.pid);
    assert.equal(ev.comm, 'echo');
    assert.equal(ev.retval, 0);
    assert.equal(ev.args_count, 3);
    assert.equal(ev.args_size, '/bin/echo\0hot\0loaded\0'.length);
    assert.equal(ev.args, '/bin/echo', 'the argument buffer, cut to the bytes sent, read as a string to its NUL');
  });

  test("opensnoop: its event is a local variable, so its type comes from the tool's header", async () => {
    const { btf } = headerBtf(join(repoRoot, 'test/fixtures/libbpf-tools/opensnoop-event.h'), 'event');
    const inst = start('opensnoop', { event: 'event', btf: btf.toString('base64') });
    watch.note();
    const r = spawnSync('cat', ['/etc/hostname']);
    await waitFor(() => of(inst.id).some((e) => e.data.pid === r.pid && e.data.fname === '/etc/hostname'), 'the open of /etc/hostname');
    const stats = await manager.stop(inst.id);
    assert.equal(stats.decodeErrors, 0);
    const ev = of(inst.id).find((e) => e.data.pid === r.pid && e.data.fname === '/etc/hostname')!.data;
    assert.equal(ev.comm, 'cat');
    assert.ok((ev.ret as number) >= 3, 'a file descriptor');
    assert.equal(ev.uid, process.getuid!());
    assert.ok(!('_extra' in ev), "perf's padding (312 → 316 bytes) is not data");
  });

  test('tcpstates --raw: the records as they come, 96 bytes padded by perf to 100', async () => {
    const inst = start('tcpstates', { raw: true });
    watch.note();
    const server = createServer((s) => s.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const c = connect(port, '127.0.0.1');
    await once(c, 'close');
    server.close();
    // family at 68, sport at 70, dport at 72 (after two 16-byte addresses, three u64s, pid and two states).
    const ours = (e: TrackerEvent): boolean => {
      const b = Buffer.from(e.data.data as string, 'base64');
      return b.readUInt16LE(68) === 2 && (b.readUInt16LE(70) === port || b.readUInt16LE(72) === port);
    };
    await waitFor(() => of(inst.id).filter(ours).length >= 2, `state changes of the connection to port ${port}`);
    await manager.stop(inst.id);
    assert.ok(of(inst.id).every((e) => e.data.length === 100));
  });

  test('runqlat: tp_btf programs chosen over their raw_tp alternatives, which are skipped as such', async () => {
    const inst = start('runqlat');
    watch.note();
    assert.deepEqual(
      inst.skipped.map((s) => `${s.program}: ${s.reason}`).sort(),
      ['handle_sched_switch: an alternative to sched_switch, which runs', 'handle_sched_wakeup: an alternative to sched_wakeup, which runs', 'handle_sched_wakeup_new: an alternative to sched_wakeup_new, which runs'],
    );
    assert.deepEqual(inst.programStats().map((p) => p.program).sort(), ['sched_switch', 'sched_wakeup', 'sched_wakeup_new'], 'what is loaded');
    await manager.stop(inst.id);
  });
});
