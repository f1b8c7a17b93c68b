/**
 * User-space symbolization against synthetic ELF files in a fake /proc tree: program-header
 * address translation, symbol choice, the build-id cache and its bounds, separate debug files,
 * and malformed input, which must give an unresolved frame or an EunomiaError, never a RangeError.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { ElfFile, fileOffsetToVaddr, findBuildId } from '../../src/profiling/symbols/elf-file.js';
import { Lru } from '../../src/profiling/symbols/lru.js';
import { findMapping, parseMaps } from '../../src/profiling/symbols/proc.js';
import { Symbolizer } from '../../src/profiling/symbols/index.js';
import { buildElf, fakeProc, type SynthElf } from '../fixtures/symbols/synthetic.js';

const ID = 'c0ffee00112233445566778899aabbccddeeff00';
const SYMBOLS = [
  { name: 'alpha', value: 0x401000, size: 0x100 },
  { name: '__alpha_alias', value: 0x401000, size: 0x100 }, // global, more underscores
  { name: 'alpha_weak', value: 0x401000, size: 0x100, bind: 2 },
  { name: 'beta', value: 0x401200, size: 0x80, bind: 0 },
  { name: 'asm_entry', value: 0x401400, size: 0 }, // no size: up to the next function
  { name: 'gamma', value: 0x401500, size: 0x40 },
  { name: 'outer', value: 0x402000, size: 0x800 },
  { name: 'inner', value: 0x402100, size: 0x10 },
  { name: 'tail_asm', value: 0x402f00, size: 0 }, // no size, last: up to the segment's end
  { name: 'a_variable', value: 0x401300, size: 0x10, type: 1 }, // STT_OBJECT: not a function
  { name: 'imported', value: 0, size: 0, shndx: 0 },
];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'eunomia-elf-'));
}

function write(spec: SynthElf): string {
  const p = join(tmp(), 'a.out');
  writeFileSync(p, buildElf(spec).bytes);
  return p;
}

describe('ELF reading', () => {
  test('headers: type, PT_LOAD segments, build id (4- and 8-byte aligned notes), which table', () => {
    for (const noteAlign of [4, 8] as const) {
      const f = new ElfFile(write({ symbols: SYMBOLS, buildId: ID, noteAlign }));
      const h = f.headers();
      f.close();
      assert.equal(h.type, 3);
      assert.equal(h.buildId, ID);
      assert.equal(h.symbols, 'symtab');
      assert.deepEqual(h.loads.map((l) => [l.offset, l.vaddr, l.exec]), [[0, 0, false], [0x1000, 0x401000, true]]);
    }
    const f = new ElfFile(write({ symbols: SYMBOLS, table: 'dynsym' }));
    assert.equal(f.headers().symbols, 'dynsym');
    assert.equal(f.headers().buildId, undefined);
    f.close();
  });

  test('symbols: aliases give one name (global, fewest underscores), sizes bound lookups, nested ones are found', () => {
    const f = new ElfFile(write({ symbols: SYMBOLS, buildId: ID }));
    const t = f.symbolTable();
    f.close();
    const name = (v: number): string | undefined => t.lookup(v)?.name;
    assert.equal(name(0x401000), 'alpha');
    assert.equal(t.lookup(0x4010ff)?.start, 0x401000);
    assert.equal(name(0x401100), undefined, 'past alpha’s size, before beta');
    assert.equal(name(0x401240), 'beta');
    assert.equal(name(0x401300), undefined, 'a variable is not a function');
    assert.equal(name(0x401480), 'asm_entry');
    assert.equal(name(0x401500), 'gamma');
    assert.equal(name(0x402108), 'inner');
    assert.equal(name(0x402200), 'outer');
    assert.equal(name(0x402f80), 'tail_asm');
    assert.equal(name(0x403000), undefined, 'past the segment');
    assert.equal(name(0x400000), undefined);
    assert.equal(t.count, 7);
  });

  test('file offsets become virtual addresses through the PT_LOAD holding them', () => {
    const loads = [{ offset: 0x1000, vaddr: 0x401000, filesz: 0x2000, memsz: 0x2000, exec: true }];
    assert.equal(fileOffsetToVaddr(loads, 0x1010), 0x401010);
    assert.equal(fileOffsetToVaddr(loads, 0x3000), undefined);
  });

  test('build id notes that lie are ignored, not read past', () => {
    const n = Buffer.alloc(16);
    n.writeUInt32LE(4, 0);
    n.writeUInt32LE(0xffffffff, 4);
    n.writeUInt32LE(3, 8);
    assert.equal(findBuildId(n, 4), undefined);
    assert.equal(findBuildId(Buffer.alloc(3), 4), undefined);
  });

  test('malformed files are EunomiaErrors (E_OBJECT_INVALID), never RangeErrors: truncations and corruptions', () => {
    const good = buildElf({ symbols: SYMBOLS, buildId: ID });
    const dir = tmp();
    const variants: Buffer[] = [Buffer.alloc(0), Buffer.from('not an elf at all, just text\n'), Buffer.from('\x7fELF'), readFileSync('/bin/true')];
    for (let len = 0; len < good.bytes.length; len += 7) variants.push(good.bytes.subarray(0, len));
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 400; i++) {
      const b = Buffer.from(good.bytes);
      for (let k = 0; k < 1 + rnd(6); k++) b[rnd(b.length)] = rnd(256);
      variants.push(b);
    }
    // Targeted lies: absurd section count, symbol table past the end, wrong entry size, ELF32, big-endian.
    const lie = (at: number, write: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good.bytes);
      write(b);
      void at;
      return b;
    };
    variants.push(lie(0, (b) => b.writeUInt16LE(0xfffe, 0x3c)));
    variants.push(lie(0, (b) => b.writeBigUInt64LE(0xffffffffffffn, 0x28)));
    variants.push(lie(0, (b) => b.writeBigUInt64LE(0x7fffffffffffffffn, good.shoff + 2 * 64 + 24)));
    variants.push(lie(0, (b) => b.writeBigUInt64LE(23n, good.shoff + 2 * 64 + 56)));
    variants.push(lie(0, (b) => b.writeUInt32LE(1, good.shoff + 2 * 64 + 40)));
    variants.push(lie(0, (b) => (b[4] = 1)));
    variants.push(lie(0, (b) => (b[5] = 2)));
    variants.push(lie(0, (b) => b.writeUInt16LE(0xffff, 0x38)));
    let errors = 0;
    variants.forEach((v, i) => {
      const p = join(dir, `v${i}`);
      writeFileSync(p, v);
      const f = new ElfFile(p);
      try {
        const h = f.headers();
        const t = f.symbolTable(h.loads);
        for (const a of [0, 0x401000, 0x401234, 0x402108, Number.MAX_SAFE_INTEGER]) t.lookup(a);
      } catch (e) {
        assert.ok(isEunomiaError(e, 'E_OBJECT_INVALID'), `variant ${i}: ${String(e)}`);
        assert.match((e as Error).message, /^symbols: /);
        errors++;
      } finally {
        f.close();
      }
    });
    assert.ok(errors > 30, `most broken files are refused (${errors} of ${variants.length})`);
  });
});

describe('Symbolizer on a fake /proc', () => {
  const elf = buildElf({ symbols: SYMBOLS, buildId: ID }).bytes;
  // The exec segment (file offset 0x1000) mapped at 0x555500001000: vaddr = addr - 0x555500001000 + 0x1000 - 0x1000 + 0x401000.
  const base = 0x555500001000;
  const exeMap = (path: string, start = base): string => `${start.toString(16)}-${(start + 0x2000).toString(16)} r-xp 00001000 fe:00 {ino:${path}} ${path}`;
  const at = (vaddr: number, start = base): bigint => BigInt(start + vaddr - 0x401000);

  test('an address in a mapped ELF names its function, module and offsets', () => {
    const procRoot = fakeProc([{ pid: 100, files: { '/app/server': elf }, maps: [exeMap('/app/server')] }]);
    const s = new Symbolizer({ procRoot });
    const [f, g, h] = s.user(100, [at(0x401208), at(0x401100), at(0x402108)]);
    assert.deepEqual(f, { addr: at(0x401208), name: 'beta', module: '/app/server', offset: 8, moduleOffset: 0x401208, resolved: true });
    assert.deepEqual(g, { addr: at(0x401100), name: '[unknown] server+0x401100', module: '/app/server', moduleOffset: 0x401100, resolved: false, reason: 'stripped' });
    assert.equal(h!.name, 'inner');
  });

  test('a file with no symbol table: every address is stripped, and the hint says so', () => {
    const stripped = buildElf({ table: 'none', buildId: 'ab'.repeat(20) }).bytes;
    const procRoot = fakeProc([{ pid: 101, files: { '/usr/bin/tool': stripped }, maps: [exeMap('/usr/bin/tool')] }]);
    const exe = join(procRoot, '101', 'exe');
    rmSync(exe);
    copyFileSync(join(procRoot, '101', 'root', 'usr/bin/tool'), exe); // a fake "exe" the hint can open
    const s = new Symbolizer({ procRoot });
    const [f] = s.user(101, [at(0x401208)]);
    assert.equal(f!.reason, 'stripped');
    assert.equal(f!.name, '[unknown] tool+0x401208');
    assert.match(s.hint(101)!, /has no symbol table \(stripped\)/);
  });

  test('a separate debug file with the same build id names a stripped file’s functions', () => {
    const id = 'de'.repeat(20);
    const stripped = buildElf({ table: 'none', buildId: id }).bytes;
    const debug = buildElf({ symbols: SYMBOLS, buildId: id }).bytes;
    const debugDir = join(tmp(), 'debug');
    mkdirSync(join(debugDir, '.build-id', 'de'), { recursive: true });
    writeFileSync(join(debugDir, '.build-id', 'de', `${id.slice(2)}.debug`), debug);
    const procRoot = fakeProc([{ pid: 102, files: { '/usr/bin/tool': stripped }, maps: [exeMap('/usr/bin/tool')] }]);
    const s = new Symbolizer({ procRoot, debugDirs: [debugDir] });
    assert.equal(s.user(102, [at(0x401208)])[0]!.name, 'beta');
  });

  test('garbage, truncated, replaced or deleted files are unreadable, with the module and file offset', () => {
    const procRoot = fakeProc([
      {
        pid: 103,
        files: { '/lib/garbage.so': Buffer.from('garbage '.repeat(100)), '/lib/short.so': elf.subarray(0, 100), '/lib/replaced.so': elf },
        maps: [
          exeMap('/lib/garbage.so', 0x10000000),
          exeMap('/lib/short.so', 0x20000000),
          '30000000-30002000 r-xp 00001000 fe:00 999999999 /lib/replaced.so', // another inode than the file's now
          '40000000-40002000 r-xp 00001000 fe:00 12345 /lib/old.so (deleted)',
        ],
      },
    ]);
    const s = new Symbolizer({ procRoot });
    const frames = s.user(103, [0x10000010n, 0x20000010n, 0x30000010n, 0x40000010n]);
    assert.deepEqual(frames.map((f) => f.reason), ['unreadable', 'unreadable', 'unreadable', 'unreadable']);
    assert.equal(frames[0]!.name, '[unknown] garbage.so+0x1010');
    assert.equal(frames[3]!.module, '/lib/old.so');
    assert.equal(s.stats().unresolved.unreadable, 4);
  });

  test('tables are cached by build id: two copies of one file are parsed once; bounded, with evictions counted', () => {
    const other = buildElf({ symbols: SYMBOLS, buildId: '11'.repeat(20) }).bytes;
    const procRoot = fakeProc([
      { pid: 104, files: { '/a/bin': elf }, maps: [exeMap('/a/bin')] },
      { pid: 105, files: { '/b/bin': elf, '/b/other': other }, maps: [exeMap('/b/bin'), exeMap('/b/other', 0x7f0000001000)] },
    ]);
    const s = new Symbolizer({ procRoot, maxCachedFiles: 1 });
    assert.equal(s.user(104, [at(0x401208)])[0]!.name, 'beta');
    assert.equal(s.user(105, [at(0x401208)])[0]!.name, 'beta');
    assert.equal(s.stats().parsedFiles, 1, 'same build id, another inode: no second parse');
    for (let i = 0; i < 3; i++) {
      const [a, b] = s.user(105, [at(0x401208), at(0x401208, 0x7f0000001000)]);
      assert.equal(a!.name, 'beta');
      assert.equal(b!.name, 'beta');
    }
    const st = s.stats();
    assert.equal(st.cachedFiles, 1);
    assert.equal(st.evictions, 5, 'each of the 3 rounds reloads both tables, but the first finds one cached');
    assert.equal(st.parsedFiles, 6);
    assert.ok(st.cachedBytes > 0);
  });

  test('without a build id, files are told apart by device, inode and mtime', () => {
    const noId = buildElf({ symbols: SYMBOLS }).bytes;
    const procRoot = fakeProc([{ pid: 106, files: { '/x': noId, '/y': noId }, maps: [exeMap('/x'), exeMap('/y', 0x7f0000001000)] }]);
    const s = new Symbolizer({ procRoot });
    s.user(106, [at(0x401208), at(0x401208, 0x7f0000001000)]);
    assert.equal(s.stats().parsedFiles, 2);
  });

  test('an address in no mapping; maps read again (rate-limited) for a library loaded later', () => {
    let now = 1000;
    const procRoot = fakeProc([{ pid: 107, files: { '/app/server': elf, '/lib/late.so': elf }, maps: [exeMap('/app/server')] }]);
    const s = new Symbolizer({ procRoot, now: () => now, mapsRereadMs: 100 });
    assert.equal(s.user(107, [12n])[0]!.reason, 'no-mapping');
    fakeProc([{ pid: 107, maps: [exeMap('/app/server'), exeMap('/lib/late.so', 0x7f0000001000)] }], procRoot);
    assert.equal(s.user(107, [at(0x401208, 0x7f0000001000)])[0]!.reason, 'no-mapping', 'too soon after the last read');
    now += 100;
    const [f] = s.user(107, [at(0x401208, 0x7f0000001000)]);
    assert.equal(f!.name, 'beta');
    assert.equal(f!.module, '/lib/late.so');
  });

  test('pid state is bounded, dropped by forget and prune, and a gone process is said to be gone', () => {
    const procRoot = fakeProc([
      { pid: 110, files: { '/bin/a': elf }, maps: [exeMap('/bin/a')] },
      { pid: 111, files: { '/bin/a': elf }, maps: [exeMap('/bin/a')] },
    ]);
    const s = new Symbolizer({ procRoot, maxPids: 1 });
    s.user(110, [at(0x401208)]);
    s.user(111, [at(0x401208)]);
    assert.equal(s.stats().pids, 1);
    assert.equal(s.stats().pidEvictions, 1);
    s.forget(111);
    assert.equal(s.stats().pids, 0);
    assert.deepEqual(s.user(999, [1n, 2n]).map((f) => f.reason), ['process-gone', 'process-gone']);
    assert.equal(s.stats().pids, 0, 'nothing kept for a process that is not there');
    s.user(110, [at(0x401208)]);
    rmSync(join(procRoot, '110'), { recursive: true });
    s.prune();
    assert.equal(s.stats().pids, 0);
  });

  test('a reused pid (another start time) does not inherit the old process’s maps', () => {
    const procRoot = fakeProc([{ pid: 112, files: { '/bin/a': elf }, maps: [exeMap('/bin/a')] }]);
    const s = new Symbolizer({ procRoot, pruneEveryMs: 0 });
    assert.equal(s.user(112, [at(0x401208)])[0]!.name, 'beta');
    rmSync(join(procRoot, '112'), { recursive: true });
    fakeProc([{ pid: 112, startTime: '2000', maps: ['7f0000000000-7f0000001000 r-xp 00000000 00:00 0 '] }], procRoot);
    assert.equal(s.user(112, [at(0x401208)])[0]!.reason, 'no-mapping');
  });
});

describe('/proc/PID/maps parsing', () => {
  test('paths with spaces, deleted files, pseudo-paths; data mappings of files are left out; [vsyscall] is above 2^53', () => {
    const maps = parseMaps(
      [
        '55d0c0a00000-55d0c0a02000 r--p 00000000 fe:00 1001 /usr/bin/my app',
        '55d0c0a02000-55d0c0a05000 r-xp 00002000 fe:00 1001 /usr/bin/my app',
        '7f0000000000-7f0000100000 r-xp 00001000 fe:00 2002 /tmp/lib.so (deleted)',
        '7f1000000000-7f1000100000 rwxp 00000000 00:00 0 ',
        '7f2000000000-7f2000100000 rw-p 00000000 00:00 0 [anon:v8 code]',
        '7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]',
        'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]',
        'garbage',
      ].join('\n'),
    );
    assert.deepEqual(
      maps.map((m) => [m.path, m.exec, m.deleted]),
      [
        ['/usr/bin/my app', true, false],
        ['/tmp/lib.so', true, true],
        ['', true, false],
        ['[anon:v8 code]', false, false],
        ['[vdso]', true, false],
      ],
    );
    assert.equal(findMapping(maps, 0x7f1000000010)?.path, '');
    assert.equal(findMapping(maps, 0x7f1000100000), undefined);
    assert.equal(maps[0]!.offset, 0x2000);
    assert.equal(maps[0]!.inode, 1001);
  });
});

describe('Lru', () => {
  test('bounded by entries and bytes; the newest stays even alone over the budget; evictions counted', () => {
    const l = new Lru<string, number>(100, 3);
    l.set('a', 1, 10);
    l.set('b', 2, 10);
    l.set('c', 3, 10);
    assert.equal(l.get('a'), 1); // a is now the most recent
    l.set('d', 4, 10);
    assert.equal(l.peek('b'), undefined);
    assert.deepEqual(l.keys(), ['c', 'a', 'd']);
    l.set('big', 5, 500);
    assert.deepEqual(l.keys(), ['big']);
    assert.equal(l.bytes, 500);
    assert.equal(l.evictions, 4);
  });
});
