/** The files tracker on the real kernel: exact reads and writes per process and file, from a known workload. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { summaryLine } from '../../src/cli/run.js';
import { isEunomiaError } from '../../src/core/errors.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { fastReads, filesTracker } from '../../src/trackers/files/index.js';
import type { OptionValues, TrackerDescriptor } from '../../src/runtime/types.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile, type Traced } from './harness.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';

// filesload DIR BEAT_MS: waits for a line on stdin (so the tracker can be started for its pid),
// then on DIR/data: 10 writes of 9000 bytes in all (8 write x1000, pwrite 500, writev 250+250),
// 10 reads of the same 9000 bytes (8 read x1000, pread 500, readv 250+250); on a pipe: 3 writes
// and 3 reads of 100 bytes; then 1-byte writes to DIR/beat every 50 ms for BEAT_MS; prints the
// pipe's inode and exits.
const WORKLOAD_C = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
static void must(int ok) { if (!ok) exit(2); }
int main(int argc, char **argv) {
  char line[8], buf[1000] = {0}, path[4096];
  if (read(0, line, sizeof line) <= 0) return 1;
  int beat_ms = atoi(argv[2]);
  snprintf(path, sizeof path, "%s/data", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  must(fd >= 0);
  struct iovec iov[2] = { { buf, 250 }, { buf + 250, 250 } };
  for (int i = 0; i < 8; i++) must(write(fd, buf, 1000) == 1000);
  must(pwrite(fd, buf, 500, 8000) == 500);
  must(lseek(fd, 8500, SEEK_SET) == 8500);
  must(writev(fd, iov, 2) == 500);
  must(lseek(fd, 0, SEEK_SET) == 0);
  for (int i = 0; i < 8; i++) must(read(fd, buf, 1000) == 1000);
  must(pread(fd, buf, 500, 8000) == 500);
  must(lseek(fd, 8500, SEEK_SET) == 8500);
  must(readv(fd, iov, 2) == 500);
  int p[2];
  must(pipe(p) == 0);
  for (int i = 0; i < 3; i++) must(write(p[1], buf, 100) == 100);
  for (int i = 0; i < 3; i++) must(read(p[0], buf, 100) == 100);
  snprintf(path, sizeof path, "%s/beat", argv[1]);
  int beat = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  must(beat >= 0);
  for (int t = 0; t < beat_ms; t += 50) {
    must(write(beat, "x", 1) == 1);
    usleep(50000);
  }
  struct stat st;
  must(fstat(p[0], &st) == 0);
  printf("%lu\\n", (unsigned long)st.st_ino);
  return 0;
}
`;

// manyread DIR N: waits for a line on stdin, then reads one byte of each of DIR/f0 … DIR/f<N-1>:
// N (process, file) pairs, each a new entry of the files map.
const MANYREAD_C = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char line[8], b[1], path[4096];
  if (read(0, line, sizeof line) <= 0) return 1;
  int n = atoi(argv[2]);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%d", argv[1], i);
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, b, 1) != 1) return 2;
    close(fd);
  }
  return 0;
}
`;

/** userspace st_dev (glibc encoding) as "major:minor" */
function devOf(dev: number): string {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  return `${major}:${minor}`;
}

describe('files tracker', { skip: needsRoot || needsCc }, () => {
  const watch = new KernelWatch();
  let dir = '';
  let bin = '';

  before(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'eunomia-files-')));
    bin = join(dir, 'filesload');
    execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', bin], { input: WORKLOAD_C });
    execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', join(dir, 'manyread')], { input: MANYREAD_C });
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  /** Starts the workload (waiting), traces its pid, lets it run to its end. */
  async function run(options: OptionValues, beatMs: number, tracker: TrackerDescriptor = filesTracker): Promise<Traced & { pid: number; pipeIno: number }> {
    const child = spawn(bin, [dir, String(beatMs)], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const pid = child.pid!;
    // A tracker that fails to start must not leave the workload waiting for its line.
    const traced = await traceWhile(
      tracker,
      { pid, ...options },
      async () => {
        child.stdin.end('go\n');
        assert.equal(await exited, 0, 'workload succeeded');
      },
      () => true,
      { watch },
    ).finally(() => child.stdin!.destroy());
    assert.equal(traced.stats.lostKernel + traced.stats.lostQueue + traced.stats.decodeErrors, 0);
    for (const e of traced.events) assert.equal(e.data.pid, pid, 'the pid filter is applied in the kernel');
    return { ...traced, pid, pipeIno: Number(out.trim()) };
  }

  const named = (events: TrackerEvent[], path: string) => events.filter((e) => e.data.path === path);
  const sum = (rows: TrackerEvent[], f: string) => rows.reduce((s, e) => s + Number(e.data[f]), 0);

  test('exact reads, writes and bytes per file with path, name, type, device and inode; pipes with --all-files; the interval clears', async () => {
    const { events, pipeIno } = await run({ interval: 1, top: 0, allFiles: true }, 2500);
    const data = join(dir, 'data');
    const st = statSync(data);

    const rows = named(events, data);
    assert.ok(rows.length >= 1, 'a row for the data file');
    // The workload takes well under a second but may straddle one interval boundary.
    assert.deepEqual(
      { reads: sum(rows, 'reads'), writes: sum(rows, 'writes'), rbytes: sum(rows, 'rbytes'), wbytes: sum(rows, 'wbytes') },
      { reads: 10, writes: 10, rbytes: 9000, wbytes: 9000 },
    );
    const r = rows[0]!.data;
    assert.equal(r.name, 'data');
    assert.equal(r.type, 'regular');
    assert.equal(r.comm, 'filesload');
    assert.equal(Number(r.inode), st.ino);
    assert.equal(r.dev, devOf(st.dev));
    assert.equal(Number(r.mode_raw) & 0o777, 0o600);

    const pipe = events.filter((e) => Number(e.data.inode) === pipeIno && e.data.type === 'pipe');
    assert.deepEqual(
      { reads: sum(pipe, 'reads'), writes: sum(pipe, 'writes'), rbytes: sum(pipe, 'rbytes'), wbytes: sum(pipe, 'wbytes') },
      { reads: 3, writes: 3, rbytes: 300, wbytes: 300 },
    );
    assert.equal(pipe[0]!.data.path, '', 'a pipe has no path');
    assert.equal(pipe[0]!.data.name, `pipe:[${pipeIno}]`);

    // The 1-byte beat goes on for 2.5 s after the data file is done: reports after it have
    // the beat but not the data file, which they would have if counts were not cleared.
    const beat = named(events, join(dir, 'beat'));
    const lastData = Math.max(...rows.map((e) => e.time));
    const later = beat.filter((e) => e.time > lastData);
    assert.ok(later.length >= 1, 'reports after the data file was done');
    for (const b of later) assert.equal(events.filter((e) => e.time === b.time && e.data.path === data).length, 0);
    assert.equal(sum(beat, 'writes'), 50, '2500 ms of one-byte beats every 50 ms');
    assert.equal(sum(beat, 'wbytes'), 50);
  });

  test('regular files only by default; --sort orders the rows; -n keeps the top N', async () => {
    // ~20 one-byte beats: more writes than the data file's 10, far fewer bytes.
    const { events, pipeIno } = await run({ interval: 3600, top: 0, sort: 'writes' }, 1000);
    assert.ok(events.length >= 2);
    assert.equal(events.filter((e) => Number(e.data.inode) === pipeIno).length, 0, 'no pipe without --all-files');
    for (const e of events) assert.equal(e.data.type, 'regular', `${String(e.data.name)} is a regular file`);
    const order = events.map((e) => String(e.data.name));
    assert.ok(order.indexOf('beat') < order.indexOf('data'), `by writes: ${order.join(' ')}`);
    for (let i = 1; i < events.length; i++) assert.ok(Number(events[i - 1]!.data.writes) >= Number(events[i]!.data.writes));

    const top = await run({ interval: 3600, top: 1, sort: 'rbytes' }, 1000);
    assert.deepEqual(
      top.events.map((e) => [e.data.name, e.data.rbytes]),
      [['data', 9000]],
    );
  });

  test('the program for kernels before 6.17 (probe reads instead of direct loads) counts the same', async () => {
    assert.equal(fastReads('6.16.9'), false);
    assert.equal(fastReads('6.17.0'), true);
    const compat: TrackerDescriptor = { ...filesTracker, programs: () => ['files_exit_compat'] };
    const { events, pipeIno } = await run({ interval: 3600, top: 0, allFiles: true }, 0, compat);
    const data = events.filter((e) => e.data.path === join(dir, 'data'));
    assert.deepEqual(
      data.map((e) => [e.data.reads, e.data.writes, e.data.rbytes, e.data.wbytes, e.data.type]),
      [[10, 10, 9000, 9000, 'regular']],
    );
    const pipe = events.filter((e) => Number(e.data.inode) === pipeIno);
    assert.deepEqual(
      pipe.map((e) => [e.data.reads, e.data.writes, e.data.type]),
      [[3, 3, 'pipe']],
    );
  });

  test('reads the map has no entry for are counted as map insert failures, not as events lost in the ring buffer', async () => {
    // More new (process, file) pairs in one interval than the map holds (max_entries 10240):
    // the inserts past it fail (-E2BIG), as can any insert when the kernel has no memory at
    // hand for the entry (-ENOMEM, seen on an idle fresh machine). These used to be added to
    // eunomia_lost and reported as "lost (kernel ring buffer N)", though no record was lost.
    const many = join(dir, 'many');
    const n = 10240 + 1000;
    mkdirSync(many);
    for (let i = 0; i < n; i++) writeFileSync(join(many, `f${i}`), 'x');
    const child = spawn(join(dir, 'manyread'), [many, String(n)], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const { events, stats } = await traceWhile(
      filesTracker,
      { pid: child.pid!, interval: 3600, top: 0 },
      async () => {
        child.stdin.end('go\n');
        assert.equal(await exited, 0, 'workload succeeded');
      },
      () => true,
      { watch },
    ).finally(() => child.stdin.destroy());
    assert.deepEqual({ lostKernel: stats.lostKernel, lostQueue: stats.lostQueue, decodeErrors: stats.decodeErrors }, { lostKernel: 0, lostQueue: 0, decodeErrors: 0 });
    assert.ok(events.length <= 10240, `${events.length} rows: no more than the map holds`);
    const counted = events.filter((e) => String(e.data.path).startsWith(`${many}/`));
    for (const e of counted) assert.deepEqual([e.data.reads, e.data.rbytes], [1, 1]);
    // every one of the n reads is either in a row or among the failures
    assert.ok(stats.mapInsertFailures >= n - 10240, `${stats.mapInsertFailures} insert failures`);
    assert.ok(counted.length + stats.mapInsertFailures >= n, `${counted.length} rows + ${stats.mapInsertFailures} failures < ${n} reads`);
    assert.match(summaryLine('files', stats, { written: events.length, dropped: 0 }), /, 0 lost \(kernel ring buffer 0, .*, \d+ not counted \(in-kernel map full or out of memory\), /);
  });

  test('an unknown --sort key is refused before anything is loaded', async () => {
    await assert.rejects(
      traceWhile(filesTracker, { sort: 'size' }, () => {}, () => true),
      (e: unknown) => isEunomiaError(e, 'E_OPTION') && /size/.test((e as Error).message),
    );
  });
});
