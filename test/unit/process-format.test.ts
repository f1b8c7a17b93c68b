/**
 * The process tracker's user-space side, on records laid out by its compiled object's BTF: an
 * exit record is the exec struct's head alone (PROCESS_EXIT_SIZE) and decodes to the same
 * fields as before (the exec-only ones undefined, paths and argv empty); the table's ARGS
 * column is shellJoin's text; the capability list serializes as a plain list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Btf, compileDecoder, encodeValue } from '../../src/core/btf/index.js';
import { objectDir } from '../../src/core/paths.js';
import { jsonLine } from '../../src/exporters/index.js';
import { shellJoin } from '../../src/trackers/common.js';
import { capabilityList } from '../../src/trackers/names/capabilities.js';
import { argsText } from '../../src/trackers/process/args.js';
import { EXEC_ONLY, processTracker } from '../../src/trackers/process/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

const btf = Btf.fromElf(readFileSync(join(objectDir, 'process.bpf.o')));
const dec = compileDecoder(btf, 'process_event');
const typeId = btf.find('process_event', 'struct')!.id;

const common = { ts_ns: 5e12, pid: 42, tid: 42, ppid: 1, uid: 0, gid: 0, pid_ns: 1, mnt_ns: 2, user_ns: 3, cgroup_id: 9, comm: 'true', foreign_exe: 0 };

/** A record as the program sends it: `bytes` of the struct (the rest of the buffer is garbage). */
function record(value: Record<string, unknown>, bytes = dec.size): Buffer {
  const b = Buffer.alloc(dec.size);
  encodeValue(btf, typeId, value, b, 0, 'test record');
  b.fill(0xa5, bytes); // what a shorter record's neighbour in the batch could hold
  return b;
}

function formatted(b: Buffer, length: number): Record<string, unknown> {
  const d = dec.decode(b, 0, length);
  processTracker.format!(d);
  return d;
}

test('an exit is sent as the head of the exec struct and decodes to the same fields, exec-only ones undefined', () => {
  assert.ok(dec.minSize! < dec.size / 10, `exit head ${dec.minSize} bytes of ${dec.size}`);
  const exec = formatted(record({ ...common, type: 1, cap_effective: 0x1ffffffffff, filename: '/bin/true', exe: '/usr/bin/true', args: 'true', args_size: 5 }), dec.size);
  const exit = formatted(record({ ...common, type: 2, exit_code: 3, exit_signal: 0, duration_ns: 1234567 }, dec.minSize), dec.minSize!);
  assert.deepEqual(Object.keys(exit), Object.keys(exec), 'one shape for both');
  assert.equal(exit.type, 'exit');
  assert.equal(exit.exit_code, 3);
  assert.equal(exit.duration_ns, 1234567);
  for (const k of EXEC_ONLY) assert.equal(exit[k], undefined, `exit has no ${k}`);
  assert.deepEqual([exit.filename, exit.exe, exit.args, exit.args_size, exit.args_truncated], ['', '', [], 0, 0]);
  assert.deepEqual(exec.args, ['true']);
  assert.equal(exec.cmdline, 'true');
});

test('argv is read for args_size bytes: what follows in the array is not data', () => {
  const b = record({ ...common, type: 1, args: 'sh\0-c\0echo hi\0STALE\0BYTES', args_size: 14 });
  assert.deepEqual(formatted(b, dec.size).args, ['sh', '-c', 'echo hi']);
});

test('the ARGS column is shellJoin of the arguments, quoted only where needed', () => {
  const lists = [
    [],
    ['true'],
    ['/usr/bin/env', 'A=b', '-x', 'user@host:/p,q%+.'],
    ['sh', '-c', 'echo hi'],
    ['printf', ''],
    ["it's"],
    ['ünïcode'],
    ['tab\there', 'new\nline'],
    ['$(id)', '*', 'a;b', '`x`', '"q"', '~'],
  ];
  for (const args of lists) {
    const ev: TrackerEvent = { tracker: 'process', instance: 1, time: 0, data: { args, cmdline: args.join(' ') } };
    assert.equal(argsText(args, ev), shellJoin(args), JSON.stringify(args));
  }
  assert.equal(argsText(['a'], { tracker: 'process', instance: 1, time: 0, data: {} }), 'a', 'without cmdline');
});

test('caps is the capability list, shared per set, and its JSON is that list', () => {
  const root = record({ ...common, type: 1, cap_effective: 0x1ffffffffff, args: 'x', args_size: 2 });
  const none = record({ ...common, type: 1, cap_effective: 0, args: 'x', args_size: 2 });
  const a = formatted(root, dec.size);
  const b = formatted(none, dec.size);
  const c = formatted(root, dec.size);
  assert.deepEqual(a.caps, [...capabilityList(0x1ffffffffff)]);
  assert.deepEqual(b.caps, []);
  assert.equal(a.caps, c.caps, 'the same frozen list');
  assert.ok(Object.isFrozen(a.caps));
  const line = JSON.parse(jsonLine({ tracker: 'process', instance: 1, time: 0, data: a }));
  assert.deepEqual(line.caps, JSON.parse(JSON.stringify(capabilityList(0x1ffffffffff))));
});
