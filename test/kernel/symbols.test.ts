/**
 * The symbolizer against real things: a C program we compile (and a stripped copy) naming its
 * own functions' addresses, libc, a library loaded later, a deleted binary, an exited process,
 * kernel functions from kallsyms, a Node process writing a perf map, and a container's busybox
 * read through the container's root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ElfFile } from '../../src/profiling/symbols/elf-file.js';
import { NODE_HINT, Symbolizer } from '../../src/profiling/symbols/index.js';
import { docker, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { isRoot, waitFor } from '../helpers.js';

const PROG_C = `
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long sink;

/* static: in .symtab only, so a stripped copy cannot name it through .dynsym */
static __attribute__((noinline)) void hot_function(void) {
  for (unsigned long i = 0; i < 1000; i++) sink += i;
}

int main(void) {
  hot_function();
  printf("hot %lx getpid %lx\\n", (unsigned long)&hot_function, (unsigned long)&getpid);
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "dlopen", 6) == 0) {
      void *h = dlopen("libm.so.6", RTLD_NOW);
      printf("cos %lx\\n", (unsigned long)(h ? dlsym(h, "cos") : 0));
      fflush(stdout);
    }
  }
  return 0;
}
`;

const needsCc: string | false = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0 && 'no C compiler (cc) to build the test program';
const needsStrip: string | false = spawnSync('strip', ['--version'], { stdio: 'ignore' }).status !== 0 && 'no strip (binutils)';
const kallsymsHidden = ((): string | false => {
  try {
    const first = readFileSync('/proc/kallsyms', 'latin1').slice(0, 16);
    return /^0+$/.test(first) && 'kallsyms addresses are hidden (kptr_restrict, or not root)';
  } catch {
    return '/proc/kallsyms is unreadable';
  }
})();

interface Running {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  lines: string[];
}

const children: ChildProcessWithoutNullStreams[] = [];

/** Starts `cmd`, waits for its first line of output. */
async function run(cmd: string, args: string[] = []): Promise<Running> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  await waitFor(() => lines.length > 0 || child.exitCode !== null, `first line of ${cmd}`, 10_000);
  assert.ok(lines.length > 0, `${cmd} printed nothing (exit ${child.exitCode})`);
  return { child, pid: child.pid!, lines };
}

function field(line: string, key: string): bigint {
  const m = new RegExp(`${key} ([0-9a-f]+)`).exec(line);
  assert.ok(m, `${key} in ${line}`);
  return BigInt(`0x${m[1]}`);
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const exited = once(r.child, 'exit');
  r.child.kill('SIGKILL');
  await exited;
}

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('user-space symbols of a program we compiled', { skip: needsCc || needsStrip }, () => {
  let dir: string;
  let prog: string;
  let stripped: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'eunomia-syms-'));
    writeFileSync(join(dir, 'prog.c'), PROG_C);
    prog = join(dir, 'prog');
    stripped = join(dir, 'prog-stripped');
    execFileSync('cc', ['-O0', '-g0', '-fno-omit-frame-pointer', '-fPIE', '-pie', '-o', prog, join(dir, 'prog.c'), '-ldl'], { stdio: 'pipe' });
    execFileSync('strip', ['-o', stripped, prog], { stdio: 'pipe' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('its own static function and libc’s getpid, by the addresses it printed', async () => {
    const r = await run(prog);
    const hot = field(r.lines[0]!, 'hot');
    const getpid = field(r.lines[0]!, 'getpid');
    const s = new Symbolizer();
    const [f, g, none] = s.user(r.pid, [hot + 4n, getpid + 4n, 0x10n]);
    assert.equal(f!.name, 'hot_function');
    assert.equal(f!.module, prog);
    assert.equal(f!.offset, 4);
    assert.equal(f!.resolved, true);
    assert.match(g!.name, /getpid/);
    assert.match(g!.module!, /libc\.so/);
    assert.equal(none!.reason, 'no-mapping');
    assert.equal(none!.name, '[unknown]');
    assert.equal(s.hint(r.pid), undefined, 'not stripped, not a JIT runtime');
    await stop(r);
  });

  test('the stripped copy: the same function is unresolved, as stripped, at the same place in the file', async () => {
    const a = await run(prog);
    const b = await run(stripped);
    const s = new Symbolizer();
    const [named] = s.user(a.pid, [field(a.lines[0]!, 'hot') + 4n]);
    const [f, g] = s.user(b.pid, [field(b.lines[0]!, 'hot') + 4n, field(b.lines[0]!, 'getpid')]);
    assert.equal(f!.resolved, false);
    assert.equal(f!.reason, 'stripped');
    assert.equal(f!.module, stripped);
    assert.equal(f!.moduleOffset, named!.moduleOffset, 'the same address in the file');
    assert.equal(f!.name, `[unknown] prog-stripped+0x${named!.moduleOffset!.toString(16)}`);
    assert.match(g!.name, /getpid/, 'libc is not stripped of .dynsym');
    assert.match(s.hint(b.pid)!, /prog-stripped has no symbol table \(stripped\)/);
    await stop(a);
    await stop(b);
  });

  test('a library loaded after the first call is found by reading the maps again', async () => {
    const r = await run(prog);
    const s = new Symbolizer({ mapsRereadMs: 0 });
    assert.equal(s.user(r.pid, [field(r.lines[0]!, 'hot')])[0]!.name, 'hot_function');
    r.child.stdin.write('dlopen\n');
    await waitFor(() => r.lines.length > 1, 'dlopen');
    const cos = field(r.lines[1]!, 'cos');
    assert.notEqual(cos, 0n, 'dlopen of libm failed');
    const [f] = s.user(r.pid, [cos + 2n]);
    assert.match(f!.name, /cos/);
    assert.match(f!.module!, /libm\.so/);
    await stop(r);
  });

  test('the cache stays within its bound, evicts, and names correctly after reloading', async () => {
    const r = await run(prog);
    const hot = field(r.lines[0]!, 'hot');
    const getpid = field(r.lines[0]!, 'getpid');
    const s = new Symbolizer({ maxCachedFiles: 1 });
    for (let i = 0; i < 3; i++) {
      const [f, g] = s.user(r.pid, [hot, getpid]);
      assert.equal(f!.name, 'hot_function');
      assert.match(g!.name, /getpid/);
    }
    const st = s.stats();
    assert.equal(st.cachedFiles, 1);
    assert.equal(st.evictions, 5);
    await stop(r);
  });

  test('a deleted binary is read through /proc/PID/map_files (root), else unreadable', async () => {
    const copy = join(dir, 'prog-deleted');
    copyFileSync(prog, copy);
    const r = await run(copy);
    unlinkSync(copy);
    const [f] = new Symbolizer().user(r.pid, [field(r.lines[0]!, 'hot') + 1n]);
    assert.equal(f!.module, copy);
    if (isRoot) assert.equal(f!.name, 'hot_function');
    else assert.equal(f!.reason, 'unreadable');
    await stop(r);
  });

  test('after the process exits: what was read still names frames; the rest is process-gone; prune drops it', async () => {
    const r = await run(prog);
    const hot = field(r.lines[0]!, 'hot');
    const s = new Symbolizer({ mapsRereadMs: 0 });
    assert.equal(s.user(r.pid, [hot])[0]!.name, 'hot_function');
    await stop(r);
    const [f, g] = s.user(r.pid, [hot + 1n, 0x10n]);
    assert.equal(f!.name, 'hot_function', 'stacks sampled before the exit still symbolize');
    assert.equal(g!.reason, 'process-gone');
    s.prune();
    assert.equal(s.stats().pids, 0);
    const [h] = new Symbolizer().user(r.pid, [hot]);
    assert.equal(h!.reason, 'process-gone');
  });
});

describe('the vDSO', () => {
  test('its functions are named from the image in memory, module [vdso]', () => {
    const line = readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.endsWith('[vdso]'));
    assert.ok(line, 'this process has a vDSO');
    const [from, to] = line.split(' ')[0]!.split('-').map((x) => BigInt(`0x${x}`));
    const addrs: bigint[] = [];
    for (let a = from!; a < to!; a += 16n) addrs.push(a);
    const frames = new Symbolizer().user(process.pid, addrs);
    const names = new Set(frames.filter((f) => f.resolved).map((f) => f.name));
    assert.ok([...names].some((n) => /clock_gettime|gettimeofday/.test(n)), [...names].join(', '));
    assert.ok(frames.every((f) => f.module === '[vdso]'));
  });
});

describe('kernel symbols from /proc/kallsyms', { skip: kallsymsHidden }, () => {
  test('a function’s address (+8) from kallsyms itself resolves to its name', () => {
    const lines = readFileSync('/proc/kallsyms', 'latin1').split('\n');
    const wanted = ['do_sys_openat2', '__x64_sys_getppid', '__arm64_sys_getppid', 'schedule'];
    const found = wanted.map((n) => lines.find((l) => l.endsWith(` ${n}`))).filter((l): l is string => l !== undefined);
    assert.ok(found.length > 0, 'none of the functions is in kallsyms');
    const s = new Symbolizer();
    const frames = s.kernel(found.map((l) => BigInt(`0x${l.slice(0, l.indexOf(' '))}`) + 8n));
    frames.forEach((f, i) => {
      assert.equal(f.name, found[i]!.slice(found[i]!.lastIndexOf(' ') + 1));
      assert.equal(f.offset, 8);
      assert.equal(f.module, 'vmlinux');
    });
    assert.equal(s.kernelProblem(), undefined);
    assert.ok(s.stats().kernelSymbols > 10_000);
  });
});

const HOT_JS = `
function eunomiaHotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + i * 7) % 1000003; return s; }
let t = 0;
setInterval(() => { for (let k = 0; k < 20; k++) t += eunomiaHotLoop(100000); }, 1);
console.log('ready', process.pid);
`;

describe('JavaScript frames of a Node process', () => {
  const perfMaps: string[] = [];
  after(() => {
    for (const p of perfMaps) rmSync(p, { force: true }); // node leaves its perf map behind
  });

  test('with --perf-basic-prof-only-functions: an address in the JIT-compiled function names it', async () => {
    const r = await run(process.execPath, ['--perf-basic-prof-only-functions', '-e', HOT_JS]);
    const map = `/tmp/perf-${r.pid}.map`;
    perfMaps.push(map);
    // Optimized code (* TurboFan/Maglev, ^ Sparkplug) lives in anonymous executable memory.
    const entry = (): { start: bigint; size: bigint } | undefined => {
      if (!existsSync(map)) return undefined;
      const line = readFileSync(map, 'utf8').split('\n').reverse().find((l) => /[*^]eunomiaHotLoop\b/.test(l));
      if (!line) return undefined;
      const [start, size] = line.split(' ');
      return { start: BigInt(`0x${start}`), size: BigInt(`0x${size}`) };
    };
    await waitFor(() => entry() !== undefined, 'eunomiaHotLoop compiled and in the perf map', 20_000);
    const e = entry()!;
    const s = new Symbolizer();
    const [f] = s.user(r.pid, [e.start + e.size / 2n]);
    assert.equal(f!.resolved, true, JSON.stringify(f, (_, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)));
    assert.match(f!.name, /eunomiaHotLoop/);
    assert.equal(f!.module, map);
    assert.equal(s.hint(r.pid), undefined, 'it has a perf map');
    await stop(r);
  });

  test('without the flag: the hint says how to name its JavaScript frames; JIT code is no-perf-map', async () => {
    const r = await run(process.execPath, ['-e', HOT_JS]);
    await new Promise((res) => setTimeout(res, 300)); // let V8 compile something
    const s = new Symbolizer();
    assert.equal(s.hint(r.pid), NODE_HINT);
    const anonExec = readFileSync(`/proc/${r.pid}/maps`, 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/))
      .find((f) => f[1]?.includes('x') && f[4] === '0' && (f[5] ?? '') === '');
    assert.ok(anonExec, 'V8’s code space: an anonymous executable mapping');
    const [f] = s.user(r.pid, [BigInt(`0x${anonExec[0]!.split('-')[0]}`) + 16n]);
    assert.equal(f!.reason, 'no-perf-map');
    assert.equal(f!.name, '[unknown] [anon]');
    await stop(r);
  });
});

describe('a container’s binary, read through the container’s root', { skip: needsDocker }, () => {
  const name = uniqueName('symbols');
  after(() => removeContainers(name));

  test('busybox in the container is named /bin/busybox and read from the container, not the host', () => {
    startSleeper(name);
    const pid = Number(docker('inspect', '-f', '{{.State.Pid}}', name));
    const mapping = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .find((l) => / r-xp /.test(l) && l.endsWith(' /bin/busybox'));
    assert.ok(mapping, 'busybox’s code mapping');
    const [range, , , , inode] = mapping.split(/\s+/);
    const start = BigInt(`0x${range!.split('-')[0]}`);
    const inContainer = `/proc/${pid}/root/bin/busybox`;
    assert.equal(statSync(inContainer).ino, Number(inode), 'the mapped file is the container’s');
    if (existsSync('/bin/busybox')) assert.notEqual(statSync('/bin/busybox').ino, Number(inode), 'the host’s busybox is another file');
    const f0 = new ElfFile(inContainer);
    const kind = f0.headers().symbols;
    f0.close();
    const s = new Symbolizer();
    const [f] = s.user(pid, [start + 0x100n]);
    assert.equal(f!.module, '/bin/busybox');
    if (kind === 'none') {
      assert.equal(f!.reason, 'stripped');
      assert.match(f!.name, /^\[unknown\] busybox\+0x[0-9a-f]+$/);
      assert.match(s.hint(pid)!, /busybox has no symbol table/);
    } else {
      assert.equal(f!.resolved, true);
    }
  });
});
