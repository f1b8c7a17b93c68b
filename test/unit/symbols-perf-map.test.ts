/**
 * Perf maps (JIT code names): read incrementally as the file grows, later entries override
 * overlapping earlier ones, garbage lines are counted and skipped, the size is capped; found
 * through /proc/PID/root and the process's namespaced pid; the Node and LuaJIT hints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PerfMap } from '../../src/profiling/symbols/perf-map.js';
import { hintFor, LUAJIT_HINT, NODE_HINT, Symbolizer } from '../../src/profiling/symbols/index.js';
import { fakeProc } from '../fixtures/symbols/synthetic.js';

function tmpFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'eunomia-perfmap-')), 'perf-1.map');
}

const hexLine = (start: number, size: number, name: string): string => `${start.toString(16)} ${size.toString(16)} ${name}\n`;

describe('PerfMap', () => {
  test('reads what was appended since the last refresh; a line still being written waits', () => {
    const path = tmpFile();
    const pm = new PerfMap(path, 1000);
    assert.equal(pm.refresh(), 'missing');
    writeFileSync(path, hexLine(0x1000, 0x100, 'JS:*first /app.js:1:1') + '2000 10 JS:*sec');
    assert.equal(pm.refresh(), 'read');
    assert.equal(pm.lookup(0x1010)?.name, 'JS:*first /app.js:1:1');
    assert.equal(pm.lookup(0x2004), undefined);
    appendFileSync(path, 'ond\n');
    pm.refresh();
    assert.deepEqual(pm.lookup(0x2004), { name: 'JS:*second', start: 0x2000 });
    assert.equal(pm.lookup(0x1100), undefined, 'end is exclusive');
    assert.equal(pm.size, 2);
  });

  test('garbage lines are counted and skipped; 0x prefixes and CRLF are accepted', () => {
    const path = tmpFile();
    writeFileSync(path, ['zzzz 10 bad', '1000', '1000 10', '', '0x3000 0x20 with prefix\r', '123456789abcdef0 10 too big', '4000 10 ok', 'ünïcødé'].join('\n') + '\n');
    const pm = new PerfMap(path, 1000);
    pm.refresh();
    assert.equal(pm.lookup(0x3010)?.name, 'with prefix');
    assert.equal(pm.lookup(0x4000)?.name, 'ok');
    assert.equal(pm.badLines, 5);
  });

  test('a later entry overlapping an earlier one replaces it entirely (the JIT reused that memory)', () => {
    const path = tmpFile();
    writeFileSync(path, hexLine(0x1000, 0x100, 'old') + hexLine(0x2000, 0x100, 'untouched'));
    const pm = new PerfMap(path, 1000);
    pm.refresh();
    appendFileSync(path, hexLine(0x1080, 0x100, 'new'));
    pm.refresh();
    assert.equal(pm.lookup(0x1090)?.name, 'new');
    assert.equal(pm.lookup(0x1010), undefined, 'what is left of the old entry is stale');
    assert.equal(pm.lookup(0x2010)?.name, 'untouched');
    // Same start, within one read: the later line wins.
    appendFileSync(path, hexLine(0x5000, 0x10, 'v1') + hexLine(0x5000, 0x10, 'v2'));
    pm.refresh();
    assert.equal(pm.lookup(0x5000)?.name, 'v2');
  });

  test('overrides match a brute-force model on random entries', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 20; round++) {
      const path = tmpFile();
      const pm = new PerfMap(path, 100000);
      const all: { start: number; end: number; name: string }[] = [];
      writeFileSync(path, '');
      for (let batch = 0; batch < 4; batch++) {
        let text = '';
        for (let i = 0; i < 40; i++) {
          const start = 0x1000 + rnd(0x800);
          const size = 1 + rnd(0x60);
          const name = `f${round}_${batch}_${i}`;
          all.push({ start, end: start + size, name });
          text += hexLine(start, size, name);
        }
        appendFileSync(path, text);
        pm.refresh();
        const kept = all.filter((e, i) => !all.slice(i + 1).some((l) => l.start < e.end && e.start < l.end));
        for (let a = 0x1000; a < 0x1900; a += 3) {
          const want = kept.find((e) => e.start <= a && a < e.end)?.name;
          assert.equal(pm.lookup(a)?.name, want, `round ${round} batch ${batch} addr ${a.toString(16)}`);
        }
      }
    }
  });

  test('a truncated or replaced file is read again from the start', () => {
    const path = tmpFile();
    writeFileSync(path, hexLine(0x1000, 0x10, 'a') + hexLine(0x2000, 0x10, 'b'));
    const pm = new PerfMap(path, 1000);
    pm.refresh();
    writeFileSync(path, hexLine(0x3000, 0x10, 'c')); // shorter: truncated and rewritten
    pm.refresh();
    assert.equal(pm.lookup(0x1000), undefined);
    assert.equal(pm.lookup(0x3000)?.name, 'c');
    const other = `${path}.new`;
    writeFileSync(other, hexLine(0x4000, 0x10, 'd') + hexLine(0x5000, 0x10, 'e') + hexLine(0x6000, 0x10, 'f'));
    renameSync(other, path); // another inode (a new process with the same pid)
    pm.refresh();
    assert.equal(pm.lookup(0x3000), undefined);
    assert.equal(pm.lookup(0x6000)?.name, 'f');
  });

  test('capped: the oldest entries go first, and are counted', () => {
    const path = tmpFile();
    writeFileSync(path, hexLine(0x1000, 0x10, 'a') + hexLine(0x2000, 0x10, 'b') + hexLine(0x3000, 0x10, 'c'));
    const pm = new PerfMap(path, 2);
    pm.refresh();
    assert.equal(pm.lookup(0x1000), undefined);
    assert.equal(pm.lookup(0x2000)?.name, 'b');
    assert.equal(pm.lookup(0x3000)?.name, 'c');
    assert.equal(pm.dropped, 1);
    assert.equal(pm.size, 2);
  });
});

describe('perf maps the process controls cannot make us hang or read our own files', () => {
  test('a symlinked perf map is not followed (it would resolve against our root, not the container’s)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-perfmap-'));
    const target = join(dir, 'host-file');
    writeFileSync(target, hexLine(0x1000, 0x10, 'secret'));
    symlinkSync(target, join(dir, 'perf-1.map'));
    const pm = new PerfMap(join(dir, 'perf-1.map'), 1000);
    assert.equal(pm.refresh(), 'missing');
    assert.equal(pm.lookup(0x1000), undefined);
  });

  test('a FIFO in place of the perf map, or of a mapped library, does not block', { skip: spawnSync('mkfifo', ['--version']).status !== 0 && 'no mkfifo' }, () => {
    const procRoot = fakeProc([{ pid: 4244, maps: ['7f0000000000-7f0000100000 r-xp 00000000 00:00 0 ', '10000000-10002000 r-xp 00000000 fe:00 1 /lib/fifo.so'] }]);
    assert.equal(spawnSync('mkfifo', [join(procRoot, '4244/root/tmp/perf-4244.map')]).status, 0);
    spawnSync('mkdir', ['-p', join(procRoot, '4244/root/lib')]);
    assert.equal(spawnSync('mkfifo', [join(procRoot, '4244/root/lib/fifo.so')]).status, 0);
    const s = new Symbolizer({ procRoot });
    const [jit, lib] = s.user(4244, [0x7f0000000010n, 0x10000010n]);
    assert.equal(jit!.reason, 'no-perf-map');
    assert.equal(lib!.reason, 'unreadable');
  });
});

describe('Symbolizer: JIT code through the perf map in the process’s root', () => {
  const jit = '7f0000000000-7f0000100000 r-xp 00000000 00:00 0 ';
  const data = '7f1000000000-7f1000100000 rw-p 00000000 00:00 0 ';

  test('the map is /proc/PID/root/tmp/perf-<NSpid>.map, re-read as it grows; the node hint goes once it exists', () => {
    const procRoot = fakeProc([{ pid: 4242, nspid: 7, comm: 'node', exe: '/usr/local/bin/node', maps: [jit, data] }]);
    const s = new Symbolizer({ procRoot });
    const [f] = s.user(4242, [0x7f0000000010n]);
    assert.deepEqual(f, { addr: 0x7f0000000010n, name: '[unknown] [anon]', resolved: false, reason: 'no-perf-map' });
    assert.equal(s.hint(4242), NODE_HINT);
    const map = join(procRoot, '4242/root/tmp/perf-7.map');
    writeFileSync(map, hexLine(0x7f0000000000, 0x100, 'JS:*handleRequest /app/server.js:10:3') + 'garbage\n');
    const [g, d, none] = s.user(4242, [0x7f0000000010n, 0x7f1000000010n, 0x10n]);
    assert.deepEqual(g, { addr: 0x7f0000000010n, name: 'JS:*handleRequest /app/server.js:10:3', module: '/tmp/perf-7.map', offset: 16, resolved: true });
    assert.equal(d!.reason, 'no-mapping', 'writable anonymous memory no perf map names is not code');
    assert.equal(none!.reason, 'no-mapping');
    assert.equal(s.hint(4242), undefined);
    appendFileSync(map, hexLine(0x7f0000000200, 0x40, 'JS:*later'));
    assert.equal(s.user(4242, [0x7f0000000210n])[0]!.name, 'JS:*later');
    const st = s.stats();
    assert.equal(st.perfMapEntries, 2);
    assert.equal(st.perfMapBadLines, 1);
    s.forget(4242);
    assert.equal(s.stats().perfMapEntries, 0);
  });

  test('LuaJIT without a perf map gets a hint saying what LuaJIT supports', () => {
    const procRoot = fakeProc([{ pid: 77, comm: 'luajit', exe: '/usr/bin/luajit-2.1.0-beta3', maps: [jit] }]);
    assert.equal(hintFor(77, { procRoot }), LUAJIT_HINT);
    assert.match(LUAJIT_HINT, /LUAJIT_USE_PERFTOOLS/);
    assert.equal(hintFor(78, { procRoot }), undefined, 'no such process: no hint');
  });

  test('a perf map of garbage never throws', () => {
    const procRoot = fakeProc([{ pid: 4243, maps: [jit] }]);
    const junk = Buffer.alloc(200000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 251;
    writeFileSync(join(procRoot, '4243/root/tmp/perf-4243.map'), junk);
    const s = new Symbolizer({ procRoot });
    const frames = s.user(4243, [0x7f0000000010n, 0x7f0000000020n]);
    assert.ok(frames.every((f) => !f.resolved || typeof f.name === 'string'));
    assert.ok(s.stats().perfMapBadLines > 0);
  });
});
