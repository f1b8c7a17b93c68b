/**
 * memleak --container NAME: the allocator is the C library the container's processes map (its own
 * copy, in its own layer), its leak is reported with the container's name; the same program on
 * the host, with the host's C library, is not probed and not reported.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MemleakRow } from '../../src/trackers/memleak/index.js';
import { docker, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { repoRoot, waitFor } from '../helpers.js';

// Waits for a file to appear (docker exec -d gives it no stdin), leaks 40 × 4096 bytes, sleeps.
const WORKLOAD = `
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) void leak_here(void) { for (int i = 0; i < 40; i++) { char *p = malloc(4096); p[0] = 1; } }
int main(int argc, char **argv)
{
	while (access(argv[1], F_OK) != 0)
		usleep(10000);
	leak_here();
	for (;;)
		pause();
}
`;
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const LD = '/lib64/ld-linux-x86-64.so.2';
const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';
const needsGlibc: string | false = !(existsSync(LIBC) && existsSync(LD)) && `no ${LIBC} and ${LD} to copy into the container`;

/** Host pids whose comm is `comm` and whose cgroup path names `id` (or, with no id, any). */
function pidsOf(comm: string, id?: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== comm) continue;
      if (id !== undefined && !readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(id)) continue;
      out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

describe('memleak in a container', { skip: needsDocker || needsCc || needsGlibc }, () => {
  const name = uniqueName('memleak');
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-memleak-ct-'));
  const bin = join(dir, 'root', 'ml-ct');
  let id = '';
  const host: { kill(): void }[] = [];

  before(() => {
    writeFileSync(join(dir, 'w.c'), WORKLOAD);
    mkdirSync(join(dir, 'root/lib/x86_64-linux-gnu'), { recursive: true });
    mkdirSync(join(dir, 'root/lib64'), { recursive: true });
    execFileSync('cc', ['-O0', '-fno-omit-frame-pointer', '-o', bin, join(dir, 'w.c')]);
    // The busybox test image has no C library: the host's, copied into the container's own layer
    // (other files, other inodes: the host's processes do not run them).
    copyFileSync(realpathSync(LIBC), join(dir, 'root', LIBC));
    copyFileSync(realpathSync(LD), join(dir, 'root', LD));
    id = startSleeper(name);
    docker('cp', `${join(dir, 'root')}/.`, `${id}:/`);
    docker('exec', '-d', id, '/ml-ct', '/tmp/go');
  });

  after(() => {
    for (const h of host) h.kill();
    removeContainers(id);
    rmSync(dir, { recursive: true, force: true });
  });

  test('--container NAME: the container\'s libc is probed, its leak reported with its name; the host\'s copy of the program is not', async () => {
    await waitFor(() => pidsOf('ml-ct', id).length === 1, 'the workload in the container', 10_000);
    const [inContainer] = pidsOf('ml-ct', id);
    // The same program on the host, with the host's libc.
    const onHost = spawn(bin, [join(dir, 'go')], { stdio: 'ignore' });
    host.push(onHost);
    const cli = spawn(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'memleak', '--container', name, '--min-age', '1', '-i', '1', '--fmt', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout!.on('data', (d) => (out += d));
    cli.stderr!.on('data', (d) => (err += d));
    const exited = new Promise((r) => cli.on('exit', r));
    await waitFor(() => /memleak tracker started/.test(err), 'the CLI to start', 15_000);
    writeFileSync(join(dir, 'go'), '');
    docker('exec', id, 'touch', '/tmp/go');
    await waitFor(() => out.includes('"leak_here"'), 'a row with leak_here', 8000).catch((e: Error) => {
      throw new Error(`${e.message}; stderr: ${err}`);
    });
    await new Promise((r) => setTimeout(r, 1200)); // one more report
    cli.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const rows = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MemleakRow & { container?: { id: string; name: string } });
    const leaks = rows.filter((r) => r.stack.includes('leak_here'));
    assert.ok(leaks.length >= 1);
    assert.ok(
      leaks.every((r) => r.pid === inContainer && r.bytes === 40 * 4096 && r.allocations === 40 && r.container?.name === name),
      JSON.stringify(leaks.map((r) => [r.pid, r.bytes, r.container])),
    );
    assert.ok(!rows.some((r) => r.pid === onHost.pid), 'the host process is not reported');
  });

  test('--container ID whose processes map no C library: told to give --obj', () => {
    const other = startSleeper(`${name}-static`);
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'memleak', '--container', other.slice(0, 12), '-T', '1'], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`--container ${other.slice(0, 12)}: none of its 1 processes maps a C library \\(libc.so.6, ld-musl\\) \\(statically linked\\?\\) — give the file that has malloc and free with --obj`));
    } finally {
      removeContainers(other);
    }
  });
});
