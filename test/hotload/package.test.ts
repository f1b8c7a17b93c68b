/**
 * Program packages from untrusted JSON, without the kernel: every format parses, and every
 * bad input is E_PACKAGE with a message naming the field and the problem.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';
import {
  DEFAULT_HOTLOAD_LIMITS,
  parseProgramPackage,
  parseSeedStart,
  programDescriptor,
  PROGRAM_TYPES,
  programType,
  resolveLimits,
  SEED_EVENT,
  type HotloadLimits,
} from '../../src/hotload/index.js';
import { buildBpf, clang, needsClang, repoRoot } from '../helpers.js';

const seedText = readFileSync(join(repoRoot, 'test/fixtures/seed-hotupdate.json'), 'utf8');
const seedJson = JSON.parse(seedText) as { data: string; data_sz: number; maps: string[]; progs: string[]; name: string };
const seedObject = Buffer.from(seedJson.data, 'base64');
const dir = mkdtempSync(join(tmpdir(), 'eunomia-hotload-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts that parsing `input` fails with E_PACKAGE and a message matching `re`. */
function rejects(input: unknown, re: RegExp, limits?: Partial<HotloadLimits>): void {
  assert.throws(
    () => parseProgramPackage(input, limits),
    (e: unknown) => {
      assert.ok(e instanceof EunomiaError, `an EunomiaError, got ${String(e)}`);
      assert.equal(e.code, ErrorCodes.PACKAGE, e.message);
      assert.match(e.message, re);
      return true;
    },
  );
}

const seedWith = (patch: Record<string, unknown>): string => JSON.stringify({ ...seedJson, ...patch });
const own = (object: Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'test', object: object.toString('base64'), ...extra });

/** A copy of the seed's object with some header bytes changed. */
function patched(edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(seedObject);
  edit(b);
  return b;
}

let n = 0;
/** A tiny object with one trivial program per section (and BTF unless `debug` is false). */
function tiny(sections: string[], debug = true): Buffer {
  const src = join(dir, `tiny${n++}.bpf.c`);
  const progs = sections.map((s, i) => `SEC("${s}") int prog${i}(void *ctx) { return 0; }`).join('\n');
  writeFileSync(src, `#define SEC(name) __attribute__((section(name), used))\n${progs}\nchar LICENSE[] SEC("license") = "GPL";\n`);
  if (debug) return readFileSync(buildBpf(src));
  const out = src.replace(/\.c$/, '.o');
  execFileSync(clang!, ['-O2', '-target', 'bpf', '-I', join(repoRoot, 'bpf/include'), '-c', src, '-o', out], { stdio: 'pipe' });
  return readFileSync(out);
}

describe('the seed hot-update format', () => {
  test("the seed's example JSON: one tracepoint program, its ring buffer decoded with the seed's layout", () => {
    const pkg = parseProgramPackage(seedText);
    assert.equal(pkg.name, 'hotupdate');
    assert.equal(pkg.format, 'seed');
    assert.equal(pkg.object.length, 3088);
    assert.deepEqual(pkg.programs, [{ name: 'handle_exec', section: 'tracepoint/syscalls/sys_enter_open', type: 'tracepoint', autoload: true }]);
    assert.deepEqual(pkg.maps, [{ name: 'rb', type: 27 }]);
    assert.equal(pkg.streams.length, 1);
    assert.equal(pkg.streams[0]!.map, 'rb');
    assert.equal(pkg.streams[0]!.kind, 'ringbuf');
    assert.equal(pkg.streams[0]!.rule, 'seed layout');
    assert.equal(pkg.streams[0]!.decoder, SEED_EVENT);
  });

  test('as parsed JSON, as a Buffer, and in the /start form (args[0] a JSON string)', () => {
    assert.equal(parseProgramPackage(seedJson).name, 'hotupdate');
    assert.equal(parseProgramPackage(Buffer.from(seedText)).object.length, 3088);
    const start = parseSeedStart({ name: 'hotupdate', export_handlers: [{ name: 'plain_text' }], args: [seedText] });
    assert.equal(start.pkg.programs[0]!.name, 'handle_exec');
    assert.deepEqual(start.options, {});
    assert.deepEqual(parseSeedStart([seedText, { eunomia_x: 1 }]).options, { eunomia_x: 1 });
    assert.throws(() => parseSeedStart({ name: 'hotupdate', args: [] }), /args: expected the package JSON .* got 0 arguments/);
    assert.throws(() => parseSeedStart({ name: 'files', args: [seedText] }), /name: expected "hotupdate"/);
    assert.throws(() => parseSeedStart({ name: 'hotupdate', args: 'x' }), /args: expected an array, got the string "x"/);
    assert.throws(() => parseSeedStart([seedText, 5]), /args\[1\]: expected an object, got number 5/);
  });

  test("the seed's fixed layout decodes a 168-byte record", () => {
    const rec = Buffer.alloc(170);
    rec.writeInt32LE(4242, 1);
    rec.writeInt32LE(-1, 5);
    rec.writeUInt32LE(3, 9);
    rec.writeBigUInt64LE(2n ** 60n, 17);
    rec.write('cat\0garbage', 25);
    rec.fill('x', 41, 41 + 127); // a filename without NUL stops at 127 bytes
    rec[168] = 1;
    assert.equal(SEED_EVENT.size, 168);
    assert.deepEqual(SEED_EVENT.decode(rec, 1), { pid: 4242, ppid: -1, exit_code: 3, duration_ns: 2n ** 60n, comm: 'cat', filename: 'x'.repeat(127), exit_event: true });
    assert.deepEqual(SEED_EVENT.fields.map((f) => [f.name, f.offset]), [['pid', 0], ['ppid', 4], ['exit_code', 8], ['duration_ns', 16], ['comm', 24], ['filename', 40], ['exit_event', 167]]);
    assert.throws(() => SEED_EVENT.decode(rec, 3), /need 168 bytes at offset 3/);
  });
});

describe('bad packages: E_PACKAGE naming the field and the problem', () => {
  test('base64 and sizes: truncated, not base64, data_sz mismatch, too big', () => {
    rejects(seedWith({ data: seedJson.data.slice(0, -7) }), /data: truncated base64: \d+ characters .* not a multiple of 4/);
    // Cut at a 4-character boundary: valid base64, but not the size the package declares.
    rejects(seedWith({ data: seedJson.data.replace(/\n/g, '').slice(0, 4000) }), /data_sz: is 3088, but data decodes to 3000 bytes/);
    rejects(seedWith({ data_sz: 3000 }), /data_sz: is 3000, but data decodes to 3088 bytes/);
    rejects(seedWith({ data: `AAAA!${seedJson.data}` }), /data: not base64: "!" at offset 4/);
    rejects(seedWith({ data: 'AA=A' }), /data: not base64: "=" at offset 2 \(padding before the end\)/);
    rejects(seedWith({ data: '' }), /data: is empty/);
    rejects(seedText, /data: the object is 3088 bytes, more than the limit of 1024 bytes \(hot-load maxObjectBytes\)/, { maxObjectBytes: 1024 });
    // Refused from its length alone, before decoding 12 MB.
    rejects({ name: 'big', object: 'A'.repeat(12 * 1024 * 1024) }, /object: the object is 9216 KiB, more than the limit of 8388608 bytes/);
    rejects('x'.repeat(2 * 8 * 1024 * 1024 + 1024 * 1024 + 1), /the package text is \d+ bytes, more than/);
  });

  test('not a BPF ELF: garbage, x86-64 (/bin/true), 32-bit, big-endian, not relocatable', () => {
    rejects(own(Buffer.from('hello, not an ELF file at all')), /object: not an ELF file \(bad magic; expected \\x7fELF\)/);
    rejects(own(readFileSync('/bin/true')), /object: ELF machine is 62 \(x86-64\), expected 247 \(BPF\)/);
    rejects(own(patched((b) => (b[4] = 1))), /object: ELF class 1 \(32-bit\); only ELF64 is supported/);
    rejects(own(patched((b) => (b[5] = 2))), /object: ELF data encoding 2 \(big-endian\); only little-endian is supported/);
    rejects(own(patched((b) => b.writeUInt16LE(2, 16))), /object: the ELF file is an executable, not a relocatable eBPF object/);
    rejects(own(seedObject.subarray(0, 2000)), /object: section headers at offset 2256 are past the end of the file \(2000 bytes\)/);
  });

  test('program kinds: kprobe and lsm refused by default, allowed when the limits say so', { skip: needsClang }, () => {
    const obj = tiny(['kprobe/do_sys_openat2', 'lsm/file_open', 'tp/syscalls/sys_enter_getppid']);
    rejects(own(obj), /object: program kind not allowed: prog0 \(section "kprobe\/do_sys_openat2": kprobe\), prog1 \(section "lsm\/file_open": lsm\); allowed: tracepoint, raw_tracepoint, tp_btf, uprobe, perf_event/);
    const pkg = parseProgramPackage(own(obj), { allowedProgramTypes: [...DEFAULT_HOTLOAD_LIMITS.allowedProgramTypes, 'kprobe', 'lsm'] });
    assert.deepEqual(pkg.programs.map((p) => p.type), ['kprobe', 'lsm', 'tracepoint']);
    rejects(own(tiny(['xdp'])), /program kind not allowed: prog0 \(section "xdp": xdp\)/);
    rejects(own(tiny(['uprobe'])), /program prog0 cannot be attached from its section name "uprobe"/);
    rejects(own(tiny(['perf_event'])), /perf: program prog0 \(section "perf_event"\) samples perf events: say which with "perf"/);
    const perf = parseProgramPackage(own(tiny(['perf_event']), { perf: { frequency: 99 } }));
    assert.deepEqual(perf.perfEvent, { type: 1, config: 0, frequency: 99 });
    rejects(own(tiny(['perf_event']), { perf: { frequency: 99, period: 5 } }), /perf: give exactly one of "frequency" .* or "period"/);
    rejects(own(tiny(['tp/a/b']), { perf: { frequency: 99 } }), /perf: the object has no program in section "perf_event"/);
  });

  test('no BTF, no programs', { skip: needsClang }, () => {
    rejects(own(tiny(['tp/syscalls/sys_enter_getppid'], false)), /object: the object has no BTF \(.BTF section\) — compile with clang -g/);
    rejects(own(tiny([])), /object: the object has no programs/);
  });

  test('unknown map and program names list what the object has', () => {
    rejects(seedWith({ maps: ['events'] }), /maps\[0\]: no map named "events" in the object \(maps: rb\)/);
    rejects(seedWith({ progs: ['handle_exec', 'handle_exit'] }), /progs\[1\]: no program named "handle_exit" in the object \(programs: handle_exec\)/);
    // libbpf's internal map names ("<object>.rodata") count when the section exists.
    rejects(seedWith({ maps: ['rb', 'client_b.rodata'] }), /maps\[1\]: no map named "client_b.rodata"/);
  });

  test('wrong JSON types', () => {
    rejects('{"data": ', /not valid JSON/);
    rejects('null', /program package: expected an object, got null/);
    rejects([seedJson], /expected an object, got an array of 1/);
    rejects(42, /expected an object, got number 42/);
    rejects({ foo: 1, bar: 2 }, /unknown format \(keys: foo, bar\)/);
    rejects(seedWith({ data: 5 }), /data: expected a string, got number 5/);
    rejects(seedWith({ data_sz: '3088' }), /data_sz: expected a byte count \(a non-negative integer\), got the string "3088"/);
    rejects(seedWith({ data_sz: -1 }), /data_sz: expected a byte count/);
    rejects(seedWith({ maps: 'rb' }), /maps: expected an array, got the string "rb"/);
    rejects(seedWith({ maps: [7] }), /maps\[0\]: expected an object, got number 7/);
    rejects(seedWith({ progs: [{ nom: 'x' }] }), /progs\[0\].name: expected a string, got undefined/);
    rejects(seedWith({ name: 7 }), /name: expected a string, got number 7/);
    rejects(seedWith({ name: '../etc' }), /name: "..\/etc" is not a valid name/);
    rejects({ object: seedObject.toString('base64') }, /name: expected a string, got undefined/);
    rejects(own(seedObject, { bogus: 1 }), /bogus: unknown key \(known: name, object, event, btf, raw, fallbacks, options, perf, description\)/);
    rejects(own(seedObject, { event: 5 }), /event: expected an object, got number 5/);
    rejects(own(seedObject, { event: { rb: 1 } }), /event.rb: expected a string, got number 1/);
    rejects(own(seedObject, { options: [] }), /options: expected an object, got an array of 0/);
    rejects(own(seedObject, { options: { x: null } }), /options.x: expected a number, boolean or string, got null/);
    rejects(own(seedObject, { perf: { frequency: 0 } }), /perf.frequency: expected a positive integer, got number 0/);
  });
});

describe('decoding rule and options (hot_multi)', { skip: needsClang }, () => {
  const multi = (): Buffer => readFileSync(buildBpf(join(repoRoot, 'test/bpf/hot_multi.bpf.c')));
  let obj: Buffer;

  test('our format: every ring buffer and perf event array, decoded by the struct EUNOMIA_EVENT keeps', () => {
    obj = multi();
    const pkg = parseProgramPackage(own(obj, { options: { tag: 5, target_tgid: 1 } }));
    assert.deepEqual(pkg.streams.map((s) => [s.map, s.kind, s.rule, s.decoder.typeName]), [['rb', 'ringbuf', 'EUNOMIA_EVENT', 'hot_event'], ['pb', 'perf', 'EUNOMIA_EVENT', 'hot_event']]);
    assert.deepEqual(pkg.programs.map((p) => [p.name, p.type]), [['count_syscalls', 'raw_tracepoint'], ['enter_getppid', 'tracepoint'], ['exit_getppid', 'tracepoint']]);
    assert.deepEqual(pkg.options, { tag: 5, target_tgid: 1 });
    const d = programDescriptor(pkg);
    assert.equal(d.name, 'test');
    assert.equal(d.objectBytes, pkg.object);
    assert.deepEqual(d.options.map((o) => [o.name, o.type, o.global]), [['target_tgid', 'global', 'target_tgid'], ['tag', 'global', 'tag']]);
    assert.equal(d.commonOptions, false, 'built without bpf/include/eunomia.bpf.h: no common options');
    assert.deepEqual(d.globals, { tag: 5, target_tgid: 1 });
    assert.deepEqual(d.streams!.map((s) => s.map), ['rb', 'pb']);
    assert.deepEqual(d.programs!({}), ['count_syscalls', 'enter_getppid', 'exit_getppid']);
    assert.deepEqual(d.columns.map((c) => c.key), ['ts_ns', 'pid', 'tag', 'source', 'seen', 'value', 'comm']);
  });

  test('explicit event: one struct for all streams, or a struct per stream (only those are read)', () => {
    const all = parseProgramPackage(own(obj, { event: 'hot_event' }));
    assert.deepEqual(all.streams.map((s) => [s.map, s.rule]), [['rb', 'event'], ['pb', 'event']]);
    const one = parseProgramPackage(own(obj, { event: { pb: 'hot_event' } }));
    assert.deepEqual(one.streams.map((s) => [s.map, s.rule]), [['pb', 'event']]);
    rejects(own(obj, { event: 'nope' }), /event: no struct "nope" in the object's BTF \(structs: .*hot_event.*\) — clang keeps in an object's BTF only the types its code names.*--header TOOL.h --event event.*"raw": true/);
    rejects(own(obj, { event: { syscalls: 'hot_event' } }), /event.syscalls: map syscalls is not a ring buffer or perf event array \(type 2\)/);
    rejects(own(obj, { event: { nope: 'hot_event' } }), /event.nope: no map named "nope" in the object \(maps: syscalls, rb, pb\)/);
    assert.deepEqual(parseProgramPackage(own(obj, { event: {} })).streams, [], '{} reads no stream');
  });

  test('options are checked against the BTF of .rodata/.data/.bss: unknown name, wrong type, out of range', () => {
    rejects(own(obj, { options: { nope: 1 } }), /options.nope: no global variable "nope" in the object \(globals: target_tgid, tag\)/);
    rejects(own(obj, { options: { tag: -1 } }), /options.tag: expected an integer 0..4294967295, got -1/);
    rejects(own(obj, { options: { tag: 'x' } }), /options.tag: expected an integer/);
  });

  test('limits: streams', () => {
    rejects(own(obj), /object: the object has 2 ring buffers and perf event arrays, more than the limit of 1 \(hot-load maxStreams\)/, { maxStreams: 1 });
  });

  test('eunomia-bpf: the skeleton JSON and the packed package.json, decoded by export_types', () => {
    const skel = {
      data: obj.toString('base64'),
      data_sz: obj.length,
      maps: [{ ident: 'rb', name: 'rb' }, { ident: 'pb', name: 'pb' }, { ident: 'rodata', mmaped: true, name: 'hot_mult.rodata' }],
      obj_name: 'hot_multi_bpf',
      progs: [{ attach: 'tracepoint/syscalls/sys_enter_getppid', link: true, name: 'enter_getppid' }],
      doc: { description: 'a test program' },
    };
    const exportTypes = [{ members: [{ name: 'ts_ns', type: 'unsigned long long' }], name: 'hot_event', size: 48, type_id: 1 }];
    const a = parseProgramPackage({ bpf_skel: skel, export_types: exportTypes });
    assert.equal(a.format, 'eunomia-bpf');
    assert.equal(a.name, 'hot_multi');
    assert.equal(a.description, 'a test program');
    assert.deepEqual(a.streams.map((s) => [s.map, s.rule, s.decoder.typeName]), [['rb', 'export_types', 'hot_event'], ['pb', 'export_types', 'hot_event']]);
    const { data: _d, data_sz: _s, ...meta } = skel;
    const b = parseProgramPackage(JSON.stringify({ bpf_object: deflateSync(obj).toString('base64'), bpf_object_size: obj.length, meta: { bpf_skel: meta, eunomia_version: '0.3.3', export_types: exportTypes } }));
    assert.deepEqual(b.object, obj);
    assert.equal(b.streams[0]!.rule, 'export_types');

    rejects({ bpf_skel: { ...skel, data_sz: 10 } }, /bpf_skel.data_sz: is 10, but bpf_skel.data decodes to \d+ bytes/);
    rejects({ bpf_skel: meta }, /bpf_skel.data: is missing: this skeleton carries no object/);
    rejects({ bpf_skel: { ...skel, progs: [{ name: 'enter_getppid', attach: 'tp/x/y' }] } }, /bpf_skel.progs\[0\].attach: is the string "tp\/x\/y", but program enter_getppid is in section "tracepoint\/syscalls\/sys_enter_getppid"/);
    rejects({ bpf_skel: skel, export_types: [{ ...exportTypes[0], size: 44 }] }, /export_types\[0\].size: is 44, but hot_event is 48 bytes in the object's BTF/);
    rejects({ bpf_skel: skel, export_types: [{ name: 'other' }] }, /export_types\[0\].name: no struct "other"/);
    rejects({ bpf_object: Buffer.from('not zlib').toString('base64'), meta: { bpf_skel: meta } }, /bpf_object: neither an ELF object nor zlib-compressed data/);
    rejects({ bpf_object: deflateSync(obj).toString('base64'), bpf_object_size: 12, meta: { bpf_skel: meta } }, /bpf_object_size: is 12, but bpf_object holds \d+ bytes/);
    rejects({ bpf_object: deflateSync(Buffer.alloc(4096)).toString('base64'), meta: { bpf_skel: meta } }, /bpf_object: the object is \d+ bytes, more than the limit of 1024/, { maxObjectBytes: 1024 });
  });

  test('a package is checked again against other limits', () => {
    const pkg = parseProgramPackage(own(obj));
    assert.equal(parseProgramPackage(pkg).name, 'test');
    rejects(pkg, /more than the limit of 100 bytes/, { maxObjectBytes: 100 });
  });
});

test('examples/README.md: its three commands — compile (and strip) into a package that decodes by EUNOMIA_EVENT, push, events', { skip: needsClang }, () => {
  const readme = readFileSync(join(repoRoot, 'examples/README.md'), 'utf8');
  const line = /^clang-16 .*$/m.exec(readme)?.[0];
  assert.ok(line, 'the README shows the clang-16 command');
  const object = 'examples/opensnoop-lite/opensnoop.bpf.o';
  assert.ok(line.includes(`-o ${object}`));
  const out = join(dir, 'opensnoop.bpf.o');
  execFileSync('bash', ['-c', line.split(object).join(out)], { cwd: repoRoot, stdio: 'pipe' });
  const bytes = readFileSync(out);
  assert.ok(bytes.length < 128 * 1024, `stripped: ${bytes.length} bytes`);
  const pkg = parseProgramPackage(own(bytes, { name: 'opensnoop' }));
  assert.deepEqual(pkg.streams.map((s) => [s.map, s.rule, s.decoder.typeName]), [['events', 'EUNOMIA_EVENT', 'open_lite_event']]);
  assert.match(readme, /^eunomia client push examples\/opensnoop-lite\/opensnoop\.bpf\.o$/m);
  assert.match(readme, /^eunomia client events 4$/m);
});

test('limits: defaults, program kinds of section names, bad limits are E_CONFIG', () => {
  assert.deepEqual(resolveLimits(), { maxObjectBytes: 8 * 1024 * 1024, allowedProgramTypes: ['tracepoint', 'raw_tracepoint', 'tp_btf', 'uprobe', 'perf_event'], maxStreams: 16 });
  assert.equal(resolveLimits({ maxObjectBytes: undefined }).maxObjectBytes, 8 * 1024 * 1024);
  const kinds = ['tp/a/b', 'tracepoint/a/b', 'raw_tp/x', 'raw_tracepoint.w/x', 'tp_btf/x', 'uprobe', 'uretprobe.s//bin/x:f', 'usdt/x', 'perf_event', 'kprobe/f', 'kretprobe/f', 'ksyscall/f', 'fentry/f', 'fexit/f', 'fmod_ret/f', 'lsm/f', 'lsm.s/f', '?tp/a/b', 'xdp', 'tc/ingress', 'cgroup/connect4'];
  assert.deepEqual(kinds.map(programType), ['tracepoint', 'tracepoint', 'raw_tracepoint', 'raw_tracepoint', 'tp_btf', 'uprobe', 'uprobe', 'usdt', 'perf_event', 'kprobe', 'kprobe', 'kprobe', 'fentry', 'fentry', 'fmod_ret', 'lsm', 'lsm', 'tracepoint', 'xdp', 'tc', 'cgroup']);
  assert.throws(() => resolveLimits({ allowedProgramTypes: ['xdp'] }), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.CONFIG && /unknown program kind "xdp"/.test(e.message));
  assert.throws(() => resolveLimits({ maxObjectBytes: -1 }), /maxObjectBytes: expected an integer of at least 64 bytes/);
});

test('docs/hotload.md documents every program kind, limit and decoding rule', () => {
  const text = readFileSync(join(repoRoot, 'docs/hotload.md'), 'utf8');
  for (const kind of PROGRAM_TYPES) assert.ok(text.includes(`| \`${kind}\` |`), `program kind ${kind}`);
  for (const limit of Object.keys(DEFAULT_HOTLOAD_LIMITS)) assert.ok(text.includes(`| \`${limit}\` |`), `limit ${limit}`);
  for (const rule of ['`event`', '`export_types`', '`EUNOMIA_EVENT(type)`', 'named `event`', "seed's fixed layout"]) assert.ok(text.includes(rule), `decoding rule ${rule}`);
});
