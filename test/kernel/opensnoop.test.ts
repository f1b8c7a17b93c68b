/** The opensnoop tracker on the real kernel: opens made by this process and by a small C program. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { opensnoopTracker } from '../../src/trackers/opensnoop/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile, type Traced } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-opensnoop-'));
const existing = join(dir, 'existing.txt');
const created = join(dir, 'created.txt');
const missing = join(dir, 'missing.txt');
writeFileSync(existing, 'hello\n');

const mine = (t: Traced, path: string): TrackerEvent[] => t.events.filter((e) => e.data.pid === process.pid && e.data.path === path);

function tryOpen(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch {
    return undefined;
  }
}

/** The legacy open(2) of a directory, then openat2(2) beneath it: Node calls neither. */
const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int d = syscall(SYS_open, argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct open_how how = { .flags = O_RDONLY | O_NOFOLLOW, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
  int f = syscall(SYS_openat2, d, argv[2], &how, sizeof(how));
  printf("%d %d\n", d, f);
  return 0;
}
`;

function buildHelper(): string | undefined {
  try {
    const src = join(dir, 'opener.c');
    writeFileSync(src, C_SOURCE);
    execFileSync('cc', ['-O1', '-o', join(dir, 'opener'), src], { stdio: 'pipe' });
    return join(dir, 'opener');
  } catch {
    return undefined;
  }
}

describe('opensnoop tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('an existing file opened read-only, a new file created 0640 and a missing path', async () => {
    const fds: number[] = [];
    const t = await traceWhile(
      opensnoopTracker,
      {},
      () => {
        fds.push(openSync(existing, 'r'));
        fds.push(openSync(created, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o640));
        assert.equal(tryOpen(missing), undefined);
      },
      (evs) => evs.some((e) => e.data.pid === process.pid && e.data.path === missing),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    for (const fd of fds) closeSync(fd);

    const [ro] = mine(t, existing);
    assert.ok(ro, 'open of the existing file seen');
    assert.equal(ro.tracker, 'opensnoop');
    assert.equal(ro.data.syscall, 'openat');
    assert.equal(ro.data.tid, process.pid, 'openSync runs on the main thread');
    assert.equal(ro.data.comm, 'node');
    assert.equal(ro.data.fd, fds[0]);
    assert.equal(ro.data.error_raw, 0);
    assert.equal(ro.data.error, '');
    assert.equal((ro.data.flags_raw as number) & 3, 0);
    assert.match(String(ro.data.flags), /^O_RDONLY(\||$)/);
    assert.equal(ro.data.mode, '', 'no mode without O_CREAT');
    assert.equal(ro.data.write, false);
    assert.equal(ro.data.dfd, -100, 'AT_FDCWD');

    const [cr] = mine(t, created);
    assert.ok(cr, 'creating open seen');
    assert.equal(cr.data.fd, fds[1]);
    assert.equal(cr.data.flags, 'O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC', 'libuv adds O_CLOEXEC');
    assert.equal(cr.data.flags_raw, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | 0o2000000);
    assert.equal(cr.data.write, true);
    assert.equal(cr.data.mode_raw, 0o640);
    assert.equal(cr.data.mode, '0640');
    assert.equal(statSync(created).mode & 0o777, 0o640 & ~process.umask());

    const [miss] = mine(t, missing);
    assert.ok(miss, 'failed open seen');
    assert.equal(miss.data.fd, -1);
    assert.equal(miss.data.error_raw, 2);
    assert.equal(miss.data.error, 'ENOENT');
  });

  test('--failed reports the failed open and not the successful one (filtered in the kernel)', async () => {
    let fd = -1;
    const t = await traceWhile(
      opensnoopTracker,
      { failed: true, pid: process.pid },
      () => {
        fd = openSync(existing, 'r');
        assert.equal(tryOpen(missing), undefined);
      },
      (evs) => evs.some((e) => e.data.path === missing),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    closeSync(fd);
    assert.equal(mine(t, missing).length, 1);
    assert.equal(mine(t, missing)[0]!.data.error, 'ENOENT');
    assert.equal(mine(t, existing).length, 0, 'the successful open is not reported');
    assert.ok(t.events.every((e) => e.data.error_raw !== 0 && e.data.fd === -1), 'only failures at all');
    assert.ok(t.events.every((e) => e.data.pid === process.pid), 'the pid filter holds');
  });

  test('--path-prefix keeps only paths under the prefix (filtered in the kernel)', async () => {
    const other = join(dir, 'other');
    writeFileSync(other, '');
    const fds: number[] = [];
    const t = await traceWhile(
      opensnoopTracker,
      { pathPrefix: existing.slice(0, -4), pid: process.pid },
      () => {
        fds.push(openSync(other, 'r'));
        fds.push(openSync(existing, 'r'));
      },
      (evs) => evs.some((e) => e.data.path === existing),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    for (const fd of fds) closeSync(fd);
    assert.equal(mine(t, existing).length, 1);
    assert.equal(mine(t, other).length, 0);
    assert.ok(t.events.every((e) => String(e.data.path).startsWith(existing.slice(0, -4))));
  });

  test('a prefix longer than the kernel buffer is refused', async () => {
    await assert.rejects(
      traceWhile(opensnoopTracker, { pathPrefix: '/x'.repeat(40) }, () => {}, () => true),
      (e: Error & { code?: string }) => e.code === 'E_OPTION',
    );
  });

  const helper = buildHelper();
  test('the legacy open(2) and openat2(2) with its resolve flags', { skip: !helper && 'no C compiler (cc)' }, async () => {
    let out = '';
    const t = await traceWhile(
      opensnoopTracker,
      {},
      () => {
        out = execFileSync(helper!, [dir, 'existing.txt'], { encoding: 'utf8' });
      },
      (evs) => evs.some((e) => e.data.comm === 'opener' && e.data.path === 'existing.txt'),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    const [d, f] = out.trim().split(' ').map(Number);
    assert.ok(d! >= 3 && f! >= 3, `both opens succeeded: ${out}`);
    const evs = t.events.filter((e) => e.data.comm === 'opener');
    const open = evs.find((e) => e.data.syscall === 'open' && e.data.path === dir);
    const open2 = evs.find((e) => e.data.syscall === 'openat2' && e.data.path === 'existing.txt');
    assert.ok(open && open2, 'open and openat2 seen');
    assert.equal(open.data.fd, d);
    assert.equal(open.data.flags, 'O_RDONLY|O_DIRECTORY|O_CLOEXEC');
    assert.equal(open.data.resolve, '');
    assert.equal(open2.data.dfd, d, 'relative to the directory fd');
    assert.equal(open2.data.fd, f);
    assert.equal(open2.data.flags, 'O_RDONLY|O_NOFOLLOW');
    assert.equal(open2.data.write, false);
    assert.equal(open2.data.resolve, 'RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH');
    assert.equal(open2.data.resolve_raw, 0x0c);
    assert.equal(open2.data.ppid, process.pid);
  });
});
