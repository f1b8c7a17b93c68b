/**
 * docs/tutorial.md, built and run: the files its code blocks name (```c file=…) are written
 * into a copy of the tree (the registry's lines applied to the copy's registry.ts, so the
 * real tree is never changed), built as its step 5 says, and its tracker run on real chmods.
 * Editing the page without its code still working fails here.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, needsClang, needsRoot, repoRoot, startRun } from '../helpers.js';

const exec = promisify(execFile);
const doc = readFileSync(join(repoRoot, 'docs/tutorial.md'), 'utf8');

interface Block {
  lang: string;
  file: string;
  text: string;
}

/** The page's code blocks that name a file. */
function fileBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+) file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, file: m[2]!, text: m[3]! }));
}

/** The registry block's added lines: imports after the registry's last import, entries at the end of `trackers`. */
function applyRegistry(registry: string, diff: string): string {
  const added = diff.split('\n').filter((l) => l.startsWith('+')).map((l) => l.slice(1));
  const imports = added.filter((l) => l.startsWith('import '));
  const entries = added.filter((l) => !l.startsWith('import '));
  assert.ok(imports.length > 0 && entries.length > 0, 'the registry block adds an import and an entry');
  const lines = registry.split('\n');
  const lastImport = lines.length - 1 - [...lines].reverse().findIndex((l) => l.startsWith('import '));
  lines.splice(lastImport + 1, 0, ...imports);
  const start = lines.findIndex((l) => l.startsWith('export const trackers'));
  const end = lines.findIndex((l, i) => i > start && l === '];');
  assert.ok(start >= 0 && end > start, 'src/trackers/registry.ts has its `trackers` array');
  lines.splice(end, 0, ...entries);
  return lines.join('\n');
}

describe('docs/tutorial.md: its tracker built in a copy of the tree and run', { skip: needsRoot || needsClang }, () => {
  let copy: string;
  let bin: string;
  let work: string;

  before(async () => {
    copy = mkdtempSync(join(tmpdir(), 'eunomia-tutorial-'));
    work = join(copy, 'work');
    mkdirSync(work);
    // What a build needs: sources, the Makefile and headers, the scripts, the rules; the built
    // tree (objects, tsc's output, the bundle; times kept, so only the new tracker is built);
    // the packages and the native addon as they are.
    // Not package-lock.json: with it newer than the packages, the build would reinstall them
    // through the link, in the real tree.
    for (const p of ['src', 'bpf', 'scripts', 'bin', 'rules', 'package.json', 'tsconfig.json', '.dependency-cruiser.cjs', 'dist/bpf', 'dist/src', 'dist/.tsbuildinfo', 'dist/.event-types', 'dist/rules-cache.json']) {
      cpSync(join(repoRoot, p), join(copy, p), { recursive: true, preserveTimestamps: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
    symlinkSync(join(repoRoot, 'native'), join(copy, 'native'));
    bin = join(copy, 'bin/eunomia.js');
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  test('the page names the tracker\'s files: header, C, descriptor, metrics, registry line', (t) => {
    assert.deepEqual(fileBlocks(doc).map((b) => b.file), [
      'bpf/chmodsnoop/chmodsnoop.h',
      'bpf/chmodsnoop/chmodsnoop.bpf.c',
      'src/trackers/chmodsnoop/index.ts',
      'src/trackers/chmodsnoop/metrics.ts',
      'src/trackers/registry.ts',
    ]);
    const lines = (f: string): number => fileBlocks(doc).find((b) => b.file === f)!.text.split('\n').filter((l) => l.trim()).length;
    const c = lines('bpf/chmodsnoop/chmodsnoop.h') + lines('bpf/chmodsnoop/chmodsnoop.bpf.c');
    const ts = lines('src/trackers/chmodsnoop/index.ts') + lines('src/trackers/chmodsnoop/metrics.ts');
    t.diagnostic(`the tutorial's tracker: ${c} lines of C, ${ts} of TypeScript`);
    assert.ok(c <= 45 && ts <= 45, `about 40 lines each (C ${c}, TypeScript ${ts})`);
  });

  test('built as step 5 says (npm run build): the object, the TypeScript, the generated event type, the bundle', { timeout: 240_000 }, async (t) => {
    for (const b of fileBlocks(doc)) {
      const to = join(copy, b.file);
      if (b.lang === 'diff') writeFileSync(to, applyRegistry(readFileSync(to, 'utf8'), b.text));
      else {
        mkdirSync(dirname(to), { recursive: true });
        writeFileSync(to, b.text);
      }
    }
    // `npm run build` is scripts/setup.sh: it finds the packages, the addon and the other
    // objects built (copied with their times), and builds the new object, the TypeScript (twice:
    // the event type is written between), the bundle.
    const t0 = Date.now();
    const build = await exec('bash', ['scripts/setup.sh'], { cwd: copy, maxBuffer: 16 << 20 });
    t.diagnostic(`npm run build: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${build.stderr.trim().split('\n').join('; ')}`);
    assert.match(build.stderr, /writing the event type of chmodsnoop \(step 6\), then compiling again/);
    const generated = readFileSync(join(copy, 'src/trackers/chmodsnoop/event.gen.ts'), 'utf8');
    assert.match(generated, /export type ChmodEvent = EunomiaCommon & \{\n {2}mode: number; \/\/ __u32\n {2}path: string; \/\/ char\[256\]\n\};/);
    // Only the new object was compiled.
    assert.ok(statSync(join(copy, 'dist/bpf/chmodsnoop.bpf.o')).mtimeMs >= t0 - 1000 && statSync(join(copy, 'dist/bpf/process.bpf.o')).mtimeMs < t0 - 1000, 'the others are as they were');
    assert.ok(statSync(join(copy, 'dist/bundle/cli/main.js')).mtimeMs >= t0, 'the CLI bundled again');
  });

  /** `eunomia run chmodsnoop …` from the copy, until it stops (-T). */
  async function runTracker(args: string[], during: () => Promise<void>): Promise<{ out: string; err: string; code: number | null }> {
    const cli = await startRun(['chmodsnoop', ...args], bin);
    assert.match(cli.err(), /chmodsnoop tracker started/, cli.err());
    await during();
    const code = await cli.exited;
    return { code, out: cli.out(), err: cli.err() };
  }

  const chmod = async (mode: string, file: string): Promise<number> => {
    writeFileSync(file, '');
    const child = spawn('chmod', [mode, file]);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, `chmod ${mode} ${file}`);
    return child.pid!;
  };

  test('eunomia run chmodsnoop --fmt json: a chmod is reported with its path, mode and pid', async () => {
    const file = join(work, 'plain.txt');
    let pid = 0;
    const r = await runTracker(['--fmt', 'json', '-T', '3'], async () => {
      pid = await chmod('640', file);
    });
    assert.equal(r.code, 0, r.err);
    const events = r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.path === file);
    assert.equal(events.length, 1, r.out);
    const e = events[0]!;
    assert.equal(e.tracker, 'chmodsnoop');
    assert.equal(e.pid, pid);
    assert.equal(e.comm, 'chmod');
    assert.equal(e.mode, 0o640);
    assert.equal(e.octal, '0640');
    assert.equal(e.setuid, false);
    assert.deepEqual(e.container, { id: 'host', full_id: 'host', name: 'host' });
    assert.match(r.err, /chmodsnoop: \d+ events seen, 0 lost .*0 undecodable/);
  });

  test('--setuid filters in the kernel; eunomia_chmods_total counts on /metrics; the table has the page\'s columns', async () => {
    const port = await freePort();
    const plain = join(work, 'not-setuid.txt');
    const setuid = join(work, 'setuid.txt');
    let page = '';
    const r = await runTracker(['--setuid', '--prometheus', '--metrics-listen', `127.0.0.1:${port}`, '-T', '4'], async () => {
      await chmod('755', plain);
      await chmod('4755', setuid);
      const series = 'eunomia_chmods_total{comm="chmod",setuid="yes"} 1';
      const end = Date.now() + 3000;
      while (!page.split('\n').includes(series) && Date.now() < end) {
        page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        await new Promise((res) => setTimeout(res, 100));
      }
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(page.split('\n').includes('eunomia_chmods_total{comm="chmod",setuid="yes"} 1'), page.split('\n').filter((l) => l.includes('chmod')).join('\n'));
    assert.ok(!page.includes('setuid="no"'), 'the plain mode never left the kernel');
    const lines = r.out.trim().split('\n');
    assert.match(lines[0]!, /^TIME\s+CONTAINER\s+PID\s+COMM\s+MODE\s+PATH$/);
    const rows = lines.filter((l) => l.includes(work));
    assert.equal(rows.length, 1, r.out);
    assert.match(rows[0]!, new RegExp(`^\\S+\\s+host\\s+\\d+\\s+chmod\\s+4755\\s+${setuid}$`));
  });
});
