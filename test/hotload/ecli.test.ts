/**
 * eunomia-bpf skeleton extras (src/hotload/ecli.ts): a map's `sample` read every interval as
 * ecli does, and the globals' `cmdarg` flags. Checked against a real object's BTF (our own
 * test/fixtures/ecli/writesize.bpf.c), every bad field is E_PACKAGE naming it, and on the real
 * kernel the histogram rows count the write(2) sizes this process makes.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Btf } from '../../src/core/btf/index.js';
import { systemClock } from '../../src/core/clock.js';
import { EunomiaError, ErrorCodes, type ErrorCode } from '../../src/core/errors.js';
import { preflight } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import { ecliColumns, ecliHistogramText, ecliInterval, ecliOptions, ecliPlain, readEcliSkeleton, type EcliExtras, type EcliSample } from '../../src/hotload/ecli.js';
import type { Json } from '../../src/hotload/fields.js';
import { parseProgramPackage, programDescriptor } from '../../src/hotload/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { parseTrackerArgv } from '../../src/runtime/argv.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { resolveOptions } from '../../src/runtime/options.js';
import type { IntervalMaps, TrackerDescriptor } from '../../src/runtime/types.js';
import { buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const fixtures = join(repoRoot, 'test/fixtures/ecli');
const skelOf = (file: string): Json => (JSON.parse(readFileSync(join(fixtures, file), 'utf8')) as { bpf_skel: Json }).bpf_skel;
/** The fixtures' skeleton, as far as the tests change it. */
interface Skel {
  maps: Json[] | Json;
  data_sections: { name: string; variables: (Json & { cmdarg: Json })[] | null }[];
}
/** A fresh copy of the fixture's skeleton, changed by `edit`. */
function edited(edit: (skel: Skel) => void, file = 'writesize.skel.json'): Json {
  const skel = skelOf(file);
  edit(skel as unknown as Skel);
  return skel;
}

function isCode(code: ErrorCode, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof EunomiaError, `an EunomiaError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };
}

const noMaps: IntervalMaps = {
  current: 'sizes',
  map: () => {
    throw new Error('not used');
  },
};

let object: Buffer;
let btf: Btf;
const built = (): void => {
  object ??= readFileSync(buildBpf(join(fixtures, 'writesize.bpf.c')));
  btf ??= Btf.fromElf(object);
};

describe('eunomia-bpf skeleton extras, checked against the BTF of writesize.bpf.c', { skip: needsClang }, () => {
  before(built);
  const read = (skel: Json): EcliExtras => readEcliSkeleton(skel, 'bpf_skel', btf);
  const rejects = (skel: Json, re: RegExp): void => {
    assert.throws(() => read(skel), isCode(ErrorCodes.PACKAGE, re));
  };

  test('the fixture: the sampled map with its BTF types, and every variable but the dummy with its flag', () => {
    const x = read(skelOf('writesize.skel.json'));
    const types = btf.mapTypes('sizes')!;
    assert.deepEqual(x.sample, {
      map: 'sizes',
      field: 'bpf_skel.maps[0].sample',
      intervalMs: 1000,
      type: 'log2_hist',
      unit: 'bytes',
      clearMap: false,
      keyTypeId: types.keyTypeId!,
      valueTypeId: types.valueTypeId!,
    } satisfies EcliSample);
    assert.deepEqual(
      x.variables.map((v) => [v.name, v.section, v.kind, v.long, v.short, v.default, v.help]),
      [
        ['target_tgid', '.rodata', 'value', 'pid', 'p', undefined, 'the process whose writes are counted'],
        ['min_bytes', '.rodata', 'value', 'min', 'm', 0, 'count only writes of at least this many bytes'],
        ['per_fd', '.rodata', 'bool', 'per_fd', undefined, true, 'one histogram per descriptor (else one for all)'],
        ['count_empty', '.rodata', 'bool', 'count_empty', undefined, false, 'count writes of zero bytes too'],
        ['label', '.rodata', 'value', 'label', 'l', 'none', 'set value of char[8] variable label'],
        ['scale', '.rodata', 'float', 'scale', undefined, undefined, 'not read by the program: a float flag'],
        ['writes_seen', '.bss', 'value', 'writes_seen', undefined, undefined, 'writes counted'],
      ],
    );
    assert.deepEqual(x.warnings, []);
    const kv = read(skelOf('writesize-kv.skel.json'));
    assert.equal(kv.sample?.map, 'counts');
    assert.equal(kv.sample?.type, 'default_kv', 'no "type": ecli samples key/value pairs');
    assert.equal(kv.sample?.unit, '(unit)', "ecli's default unit");
    assert.equal(kv.sample?.clearMap, true);
    assert.equal(ecliInterval(kv)?.seconds, 2);
    // No sample, no data sections: nothing to add.
    assert.deepEqual(read({ maps: [{ name: 'sizes' }], obj_name: 'x' }), { variables: [], warnings: [] });
    assert.equal(ecliInterval({ variables: [], warnings: [] }), undefined);
  });

  test('several sampled maps: the last is read, as ecli does, with a warning; a short letter on a bool is ignored likewise', () => {
    const x = read(
      edited((s) => {
        (s.maps as Json[])[1]!.sample = { interval: 500 };
        s.data_sections[0]!.variables![2]!.cmdarg.short = 'f';
      }),
    );
    assert.equal(x.sample?.map, 'counts');
    assert.equal(ecliInterval(x)?.seconds, 1, '500 ms: the runtime reports every whole second, at least one');
    assert.match(x.warnings[0]!, /several maps have "sample" \(sizes, counts\): only the last, counts, is read/);
    assert.match(x.warnings[1]!, /variables\[2\]\.cmdarg\.short: ignored, as ecli does/);
    assert.equal(x.variables.find((v) => v.name === 'per_fd')?.short, undefined);
  });

  test('bad "sample" values are E_PACKAGE naming the field', () => {
    const sample = (v: unknown, map = 0): Json => edited((s) => ((s.maps as Json[])[map]!.sample = v));
    rejects(sample({ interval: 1000, type: 'histogram' }), /bpf_skel\.maps\[0\]\.sample\.type: unknown sample type "histogram": expected "log2_hist" or "default_kv"/);
    rejects(sample({ interval: 1000, type: 'linear_hist' }), /sample\.type: "linear_hist" is not supported \(ecli refuses it too\)/);
    rejects(sample({ interval: 1000, type: 7 }), /sample\.type: expected a string, got number 7/);
    for (const bad of [0, -1000, 1.5, '1000', null, 86_400_001]) {
      rejects(sample({ interval: bad, type: 'log2_hist' }), /bpf_skel\.maps\[0\]\.sample\.interval: expected the milliseconds between reads, an integer 1\.\.86400000/);
    }
    rejects(sample({ type: 'log2_hist' }), /sample\.interval: expected the milliseconds between reads, .*got undefined/);
    rejects(sample({ interval: 1000, type: 'log2_hist' }, 1), /bpf_skel\.maps\[1\]\.sample\.type: "log2_hist" needs map counts's value to be a struct with an integer array "slots" \(one count per log2 bucket\), but its value is __u64/);
    rejects(sample({ interval: 1000 }, 2), /bpf_skel\.maps\[2\]\.sample: map events is of type 27: only hash and array maps \(plain, per-CPU or LRU\) can be sampled/);
    rejects(sample({ interval: 1000 }, 3), /bpf_skel\.maps\[3\]\.sample: map writesiz\.rodata is not defined in SEC\("\.maps"\) with BTF/);
    rejects(sample({ interval: 1000, unit: 5 }), /sample\.unit: expected a string, got number 5/);
    rejects(sample({ interval: 1000, clear_map: 'yes' }), /sample\.clear_map: expected true or false, got the string "yes"/);
    rejects(sample([1000]), /bpf_skel\.maps\[0\]\.sample: expected an object, got an array of 1/);
    rejects(edited((s) => (s.maps = { sizes: 1 })), /bpf_skel\.maps: expected an array, got an object/);
  });

  test('a log2_hist value whose "slots" is not an integer array is refused, with what it is', () => {
    const src = join(mkdtempSync(join(tmpdir(), 'eunomia-ecli-')), 'slots.bpf.c');
    const text = String.raw`
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct no_slots { __u32 buckets[8]; };
struct bool_slots { bool slots[8]; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, __u32); __type(value, struct no_slots); } a SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct bool_slots); } b SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getppid") int p(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;
    writeFileSync(src, text);
    const other = Btf.fromElf(readFileSync(buildBpf(src)));
    const hist = { interval: 1000, type: 'log2_hist' };
    assert.throws(() => readEcliSkeleton({ maps: [{ name: 'a', sample: hist }] }, 'meta.bpf_skel', other), isCode(ErrorCodes.PACKAGE, /meta\.bpf_skel\.maps\[0\]\.sample\.type: "log2_hist" needs map a's value .* but its value is struct no_slots/));
    assert.throws(() => readEcliSkeleton({ maps: [{ name: 'b', sample: hist }] }, 'meta.bpf_skel', other), isCode(ErrorCodes.PACKAGE, /maps\[0\]\.sample\.type: .* but its "slots" is bool\[8\]/));
    // An array map with a good value is sampled: ecli reads every entry of it.
    assert.equal(readEcliSkeleton({ maps: [{ name: 'b', sample: { interval: 1000 } }] }, 'meta.bpf_skel', other).sample?.map, 'b');
  });

  test('bad variables and "cmdarg" values are E_PACKAGE naming the field', () => {
    const v = (i: number, edit: (x: Json & { cmdarg: Json }) => void, sec = 0): Json => edited((s) => edit(s.data_sections[sec]!.variables![i]!));
    rejects(v(0, (x) => (x.name = 'target_pid')), /bpf_skel\.data_sections\[0\]\.variables\[0\]\.name: no variable "target_pid" in section \.rodata of the object's BTF \(it has: target_tgid, min_bytes, per_fd, count_empty, label, scale\)/);
    rejects(edited((s) => (s.data_sections[1]!.name = '.data')), /bpf_skel\.data_sections\[1\]\.name: no data section "\.data" in the object's BTF \(it has: .*\.rodata.*\)/);
    rejects(v(0, (x) => (x.cmdarg.short = 'pp')), /variables\[0\]\.cmdarg\.short: expected one character \(the flag's short letter\), got the string "pp"/);
    rejects(v(0, (x) => (x.cmdarg.long = '--pid')), /variables\[0\]\.cmdarg\.long: "--pid" is not a flag name/);
    rejects(v(0, (x) => (x.cmdarg.long = 'min')), /variables\[1\]\.cmdarg\.long: flag --min of variable min_bytes is also the flag of variable target_tgid/);
    rejects(v(4, (x) => (x.cmdarg.short = 'm')), /variables\[4\]\.cmdarg\.short: short flag -m of variable label is also that of variable min_bytes/);
    rejects(v(3, (x) => (x.cmdarg = { long: 'per_fd', default: true })), /flag --per_fd of variable count_empty is also the flag of variable per_fd/);
    rejects(v(2, (x) => (x.cmdarg.default = 'yes')), /variables\[2\]\.cmdarg\.default: expected true or false for bool variable per_fd, got the string "yes"/);
    rejects(v(3, (x) => (x.value = 1)), /variables\[3\]\.value: expected true or false for bool variable count_empty, got number 1/);
    rejects(v(0, (x) => (x.cmdarg.default = 2 ** 40)), /variables\[0\]\.cmdarg\.default: expected an integer -2147483648\.\.2147483647, got 1099511627776/);
    rejects(v(4, (x) => (x.cmdarg.default = 'too long a label')), /variables\[4\]\.cmdarg\.default: expected a string of at most 7 bytes/);
    rejects(v(1, (x) => (x.cmdarg.default = [1])), /variables\[1\]\.cmdarg\.default: expected a number or a string for __u64 variable min_bytes, got an array of 1/);
    rejects(v(1, (x) => (x.cmdarg.help = 3)), /variables\[1\]\.cmdarg\.help: expected a string, got number 3/);
    rejects(v(0, (x) => (x.description = {})), /variables\[0\]\.description: expected a string, got an object/);
    rejects(v(0, (x) => ((x as Json).cmdarg = 'pid')), /variables\[0\]\.cmdarg: expected an object, got the string "pid"/);
    rejects(v(0, (x) => (x.type = 4)), /variables\[0\]\.type: expected a string, got number 4/);
    rejects(edited((s) => (s.data_sections[0]!.variables = null)), /bpf_skel\.data_sections\[0\]\.variables: expected an array, got null/);
  });

  test("options: ecli's flags, short letters, defaults and help; a bool is --NAME, --enable-NAME or --disable-NAME", () => {
    const extras = read(skelOf('writesize.skel.json'));
    const options = ecliOptions(extras);
    assert.deepEqual(
      options.map((o) => [o.name, o.flag, o.short, o.type, o.default, o.global]),
      [
        ['target_tgid', 'pid', 'p', 'global', undefined, 'target_tgid'],
        ['min_bytes', 'min', 'm', 'global', 0, 'min_bytes'],
        ['per_fd', 'per_fd', undefined, 'bool', true, 'per_fd'],
        ['disable-per_fd', 'disable-per_fd', undefined, 'bool', undefined, 'per_fd'],
        ['count_empty', 'enable-count_empty', undefined, 'bool', false, 'count_empty'],
        ['label', 'label', 'l', 'global', 'none', 'label'],
        ['scale', 'scale', undefined, 'global', undefined, 'scale'],
        ['writes_seen', 'writes_seen', undefined, 'global', undefined, 'writes_seen'],
      ],
    );
    assert.equal(options[1]!.description, 'count only writes of at least this many bytes');
    const d: TrackerDescriptor = { name: 'writesize', summary: '', object: 'writesize', objectBytes: object, interval: ecliInterval(extras)!, options, columns: [], commonOptions: false };
    const globals = (argv: string[]): Record<string, unknown> => resolveOptions(d, parseTrackerArgv(d, argv).options, 1).globals;
    // The defaults alone: a bool without one keeps the object's value (nothing is written).
    assert.deepEqual(globals([]), { min_bytes: 0, per_fd: true, count_empty: false, label: 'none' });
    assert.deepEqual(globals(['--pid', '42', '-m', '4096', '--disable-per_fd', '--enable-count_empty', '-l', 'ab', '--scale', '2.5', '--writes_seen', '7']), {
      target_tgid: '42',
      min_bytes: '4096',
      per_fd: false,
      count_empty: true,
      label: 'ab',
      scale: 2.5,
      writes_seen: '7',
    });
    assert.equal(globals(['-p', '7']).target_tgid, '7');
    // The API sets them by variable name, as before; the values are checked when the object is opened.
    assert.deepEqual(resolveOptions(d, { target_tgid: 9, per_fd: false }, 1).globals, { target_tgid: 9, min_bytes: 0, per_fd: false, count_empty: false, label: 'none' });
    // Unknown names are clear errors: a flag on the command line, an option in the API.
    assert.throws(() => parseTrackerArgv(d, ['--target_tgid', '1']), isCode(ErrorCodes.USAGE, /Unknown option '--target_tgid' — see "eunomia run writesize --help"/));
    assert.throws(() => parseTrackerArgv(d, ['--enable-per_fd']), isCode(ErrorCodes.USAGE, /Unknown option '--enable-per_fd'/));
    assert.throws(() => parseTrackerArgv(d, ['-x', '1']), isCode(ErrorCodes.USAGE, /Unknown option '-x'/));
    assert.throws(() => resolveOptions(d, { pid: 3 }, 1), isCode(ErrorCodes.OPTION, /tracker writesize: unknown option "pid" \(options: interval, top, target_tgid, min_bytes, per_fd, disable-per_fd, count_empty/));
    // The sampled map's interval is the runtime's -i, ecli's milliseconds in seconds.
    assert.equal(parseTrackerArgv(d, ['-i', '3']).options.interval, 3);
    assert.equal(resolveOptions(d, {}, 1).values.interval, 1);
  });

  test("a flag or short letter that is Eunomia's own: the variable's name instead, the letter dropped, both said in the help", () => {
    const extras = read(skelOf('writesize.skel.json'));
    const options = ecliOptions(extras, { commonOptions: true, taken: [{ flag: 'fmt', short: 'l' }] });
    const pid = options.find((o) => o.name === 'target_tgid')!;
    assert.deepEqual([pid.flag, pid.short], ['target_tgid', undefined], '--pid and -p are the common options');
    assert.equal(pid.description, "the process whose writes are counted (ecli's --pid is Eunomia's own; ecli's -p is Eunomia's own)");
    const label = options.find((o) => o.name === 'label')!;
    assert.deepEqual([label.flag, label.short], ['label', undefined]);
    assert.match(label.description, /ecli's -l is Eunomia's own/);
    // -i/-n report the sampled map: a package's "-i" is dropped there too.
    const i = ecliOptions(read(edited((s) => (s.data_sections[0]!.variables![0]!.cmdarg = { long: 'interval', short: 'i' }))));
    assert.deepEqual([i[0]!.flag, i[0]!.short], ['target_tgid', undefined]);
    // Nothing left: the long name and the variable's own are both taken.
    const clash = read(edited((s) => (s.data_sections[0]!.variables![1]!.cmdarg.long = 'top')));
    assert.throws(() => ecliOptions(clash, { taken: [{ flag: 'min_bytes' }] }), isCode(ErrorCodes.PACKAGE, /variables\[1\]\.cmdarg\.long: flag --top is Eunomia's own, and so is --min_bytes: variable min_bytes has no flag left/));
  });

  test('columns: the key and the scalar value fields, the count and the buckets', () => {
    const hist = ecliColumns(read(skelOf('writesize.skel.json')), btf);
    assert.deepEqual(hist.map((c) => c.key), ['key', 'comm', 'count', 'buckets']);
    assert.equal(hist[3]!.header, 'BUCKETS (bytes)');
    assert.equal(hist[3]!.format!([{ low: 0, high: 1, count: 0 }, { low: 2, high: 3, count: 4 }], {} as TrackerEvent), '2-3:4');
    assert.deepEqual(ecliColumns(read(skelOf('writesize-kv.skel.json')), btf).map((c) => c.key), ['key', 'value']);
  });
});

describe('rows from map entries, as ecli prints them', () => {
  const hist = (unit = 'us'): EcliExtras => ({ sample: { map: 'h', field: 'x', intervalMs: 1000, type: 'log2_hist', unit, clearMap: false, keyTypeId: 0, valueTypeId: 0 }, variables: [], warnings: [] });

  test('log2_hist: key and value fields, buckets from slot 0 to the last non-empty one, their count, and the text', () => {
    const spec = ecliInterval(hist())!;
    assert.equal(spec.keep, true, 'ecli never clears the map between reads: counts accumulate');
    assert.equal(ecliInterval(hist(), { cumulative: false })!.keep, false);
    assert.equal(spec.top, 0, 'every entry, as ecli prints them all');
    const rows = spec.rows!([{ key: 7, value: { slots: [0, 2, 4, 0, 0], comm: 'sh' } }], {}, noMaps);
    assert.deepEqual(rows[0], {
      key: 7,
      comm: 'sh',
      buckets: [
        { low: 0, high: 1, count: 0 },
        { low: 2, high: 3, count: 2 },
        { low: 4, high: 7, count: 4 },
      ],
      count: 6,
      unit: 'us',
      text: [
        'key = 7',
        'comm = "sh"',
        '     us                  : count    distribution',
        '         0 -> 1          : 0        |                                        |',
        '         2 -> 3          : 2        |********************                    |',
        '         4 -> 7          : 4        |****************************************|',
      ].join('\n'),
    });
    assert.equal(ecliPlain(hist())!(rows[0]!), rows[0]!.text);
  });

  test('struct keys spread their fields; a field named like one the row adds gets a prefix; an empty histogram has no text', () => {
    const spec = ecliInterval(hist())!;
    const [row] = spec.rows!([{ key: { pid: 1, count: 2 }, value: { slots: [0, 0], pid: 3, unit: 'x' } }], {}, noMaps);
    assert.deepEqual(row, { pid: 1, key_count: 2, value_pid: 3, value_unit: 'x', buckets: [], count: 0, unit: 'us', text: 'key = {"pid":1,"count":2}\npid = 3\nunit = "x"' });
    // 64-bit slots may decode as bigints past 2^53.
    const [big] = spec.rows!([{ key: 1, value: { slots: [1n, 2n] } }], {}, noMaps);
    assert.equal(big!.count, 3);
  });

  test('default_kv: the key and value fields (a plain one is "key" / "value"), a clash prefixed', () => {
    const kv: EcliExtras = { ...hist(), sample: { ...hist().sample!, type: 'default_kv' } };
    const spec = ecliInterval(kv)!;
    assert.deepEqual(spec.rows!([{ key: 3, value: 25300 }], {}, noMaps), [{ key: 3, value: 25300 }]);
    assert.deepEqual(spec.rows!([{ key: { fd: 1 }, value: { fd: 2, bytes: 9 } }], {}, noMaps), [{ fd: 1, value_fd: 2, bytes: 9 }]);
    assert.equal(ecliPlain(kv), undefined, 'a table shows key/value rows');
  });

  test("the histogram layout: ecli's widths, 40 stars for the largest count, wider past slot 32, nothing when empty", () => {
    assert.equal(ecliHistogramText([], 'ns'), '');
    assert.equal(ecliHistogramText([{ low: 0, high: 1, count: 0 }], 'ns'), '');
    const wide = Array.from({ length: 34 }, (_, i) => ({ low: i === 0 ? 0 : 2 ** i, high: 2 ** (i + 1) - 1, count: i === 33 ? 10 : i === 0 ? 5 : 0 }));
    const lines = ecliHistogramText(wide, 'ns').split('\n');
    assert.equal(lines.length, 35);
    assert.equal(lines[0], `${' '.repeat(15)}${'ns'.padEnd(29)} : count    distribution`);
    assert.equal(lines[1], `${'0'.padStart(20)} -> ${'1'.padEnd(20)} : 5        |${'*'.repeat(10)}${' '.repeat(10)}|`);
    assert.equal(lines[34], `${String(2 ** 33).padStart(20)} -> ${String(2 ** 34 - 1).padEnd(20)} : 10       |${'*'.repeat(20)}|`);
  });
});

describe('a sampled map on the real kernel, run by TrackerManager', { skip: needsRoot || needsClang }, () => {
  const watch = new KernelWatch();
  const events: TrackerEvent[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-ecli-kernel-'));
  let manager: TrackerManager;

  before(() => {
    built();
    const native = loadNative();
    preflight(native);
    manager = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
  });

  after(async () => {
    await manager.stopAll();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'every program, link and map they loaded is gone');
  });

  /** The fixture as ecli gets it: the skeleton JSON with the object in it, through the package check. */
  function descriptor(file: string): TrackerDescriptor {
    const skel = { ...skelOf(file), data: object.toString('base64'), data_sz: object.length };
    const pkg = parseProgramPackage({ bpf_skel: skel, export_types: [] });
    assert.equal(pkg.format, 'eunomia-bpf');
    assert.equal(pkg.name, 'writesize');
    return programDescriptor(pkg);
  }

  /** Writes of these sizes to a new file; its descriptor is the key the program counts them under. */
  function writes(sizes: number[]): number {
    const fd = openSync(join(dir, `out-${events.length}-${sizes.length}`), 'w');
    for (const n of sizes) assert.equal(writeSync(fd, Buffer.alloc(n, 0x61)), n);
    return fd;
  }

  const rowsOf = (id: number): Record<string, unknown>[] => events.filter((e) => e.instance === id).map((e) => e.data);

  test('log2_hist: the flags set the globals, each report holds the counts so far, per descriptor', async () => {
    const d = descriptor('writesize.skel.json');
    const inst = manager.start(d, parseTrackerArgv(d, ['--pid', String(process.pid), '-m', '2']).options);
    watch.note();
    const fd = writes([100, 100, 1, 100, 1]); // the 1-byte writes are under --min 2
    const first = (): Record<string, unknown> | undefined => rowsOf(inst.id).find((r) => r.key === fd);
    await waitFor(() => first() !== undefined, `a report with descriptor ${fd}`, 5000);
    assert.equal(first()!.count, 3);
    for (let i = 0; i < 5; i++) writeSync(fd, Buffer.alloc(5000));
    closeSync(fd);
    await manager.stop(inst.id);
    const last = rowsOf(inst.id).filter((r) => r.key === fd).at(-1)!;
    const buckets = last.buckets as { low: number; high: number; count: number }[];
    assert.equal(buckets.length, 13, 'slot 0 to slot 12 (4096..8191)');
    assert.deepEqual(
      buckets.filter((b) => b.count > 0),
      [
        { low: 64, high: 127, count: 3 },
        { low: 4096, high: 8191, count: 5 },
      ],
      'the first report is kept and added to: ecli does not clear the map',
    );
    assert.equal(last.count, 8);
    assert.equal(last.unit, 'bytes');
    assert.equal(last.comm, readFileSync('/proc/self/comm', 'utf8').trim());
    assert.match(String(last.text), new RegExp(`^key = ${fd}\\ncomm = ".+"\\n     bytes {14} : count    distribution\\n`));
    assert.match(String(last.text), /\n {8}64 -> 127 {8}: 3 {8}\|\*{24} {16}\|\n/);
    assert.match(String(last.text), /\n {6}4096 -> 8191 {7}: 5 {8}\|\*{40}\|$/);
    assert.equal(d.plain!(last), last.text);
  });

  test('log2_hist with --disable-per_fd: one histogram for every descriptor, under key 0xffffffff', async () => {
    const d = descriptor('writesize.skel.json');
    const inst = manager.start(d, parseTrackerArgv(d, ['-p', String(process.pid), '--min', '4096', '--disable-per_fd']).options);
    watch.note();
    closeSync(writes([5000, 5000, 100]));
    closeSync(writes([6000, 6000, 6000]));
    await manager.stop(inst.id);
    const rows = rowsOf(inst.id);
    assert.ok(rows.length > 0 && rows.every((r) => r.key === 0xffffffff), `only the shared key: ${JSON.stringify(rows.map((r) => r.key))}`);
    const slot12 = (rows.at(-1)!.buckets as { low: number; count: number }[]).find((b) => b.low === 4096)!;
    assert.ok(slot12.count >= 5, `the five writes of 4096..8191 bytes, got ${slot12.count}`);
    assert.ok((rows.at(-1)!.buckets as { low: number; count: number }[]).every((b) => b.low >= 4096 || b.count === 0), 'nothing under --min 4096');
  });

  test('default_kv: the bytes written per descriptor, a plain key and value', async () => {
    const d = descriptor('writesize-kv.skel.json');
    assert.equal(d.interval!.seconds, 2);
    const inst = manager.start(d, parseTrackerArgv(d, ['--pid', String(process.pid)]).options);
    watch.note();
    const fd = writes([100, 100, 100, 5000, 5000, 5000, 5000, 5000]);
    closeSync(fd);
    await manager.stop(inst.id);
    assert.deepEqual(rowsOf(inst.id).filter((r) => r.key === fd).at(-1), { key: fd, value: 25300 });
  });
});
