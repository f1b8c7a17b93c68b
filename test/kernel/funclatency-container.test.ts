/**
 * funclatency --container: BINARY is found in the container's root (a file only the container
 * has), its calls are timed and attributed to the container, the host's are not.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FunclatencyData } from '../../src/trackers/funclatency/index.js';
import { docker, dockerAsync, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { repoRoot } from '../helpers.js';

// The busybox test image has no C library: the workload is linked statically.
const WORKLOAD = `
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
void sleepy(void) { struct timespec t = { 0, 20000000L }; nanosleep(&t, NULL); }
int main(int argc, char **argv)
{
	char c;
	if (read(0, &c, 1) != 1)
		return 1;
	for (int i = 0; i < atoi(argv[1]); i++)
		sleepy();
	return 0;
}
`;
const dir = mkdtempSync(join(tmpdir(), 'eunomia-funclatency-ct-'));
writeFileSync(join(dir, 'w.c'), WORKLOAD);
const built = spawnSync('cc', ['-static', '-O0', '-fno-omit-frame-pointer', '-fno-inline', '-o', join(dir, 'fl-ct'), join(dir, 'w.c')]).status === 0;
const needsStaticCc: string | false = !built && 'no C compiler with a static C library (cc -static) for the workload';
if (needsDocker || needsStaticCc) rmSync(dir, { recursive: true, force: true });

describe('funclatency in a container', { skip: needsDocker || needsStaticCc }, () => {
  const name = uniqueName('funclatency');
  let id = '';

  before(() => {
    id = startSleeper(name);
    // Copied into the container's own layer: the host has no file at /fl-ct.
    docker('cp', join(dir, 'fl-ct'), `${id}:/fl-ct`);
  });

  after(() => {
    removeContainers(id);
    rmSync(dir, { recursive: true, force: true });
  });

  /** --container SELECTOR --func /fl-ct:sleepy: the container's calls, with its name; not the host's copy. */
  async function containerCalls(selector: string): Promise<void> {
    const cli = spawn(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'funclatency', '--container', selector, '--func', '/fl-ct:sleepy', '--fmt', 'json', '-i', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout!.on('data', (d) => (out += d));
    cli.stderr!.on('data', (d) => (err += d));
    const exited = new Promise((r) => cli.on('exit', r));
    const deadline = Date.now() + 15_000;
    while (!/funclatency tracker started/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(err, /funclatency tracker started/);
    // The same program on the host (another inode, outside the container): not counted.
    const host = spawn(join(dir, 'fl-ct'), ['2'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const hostExited = new Promise((r) => host.on('exit', r));
    host.stdin!.end('\n');
    await dockerAsync('exec', id, 'sh', '-c', 'echo | /fl-ct 4');
    await hostExited;
    while (!out.includes('"sleepy"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1200)); // one more report, which would show a late count
    cli.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const rows = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as FunclatencyData & { container?: { id: string; name: string } });
    assert.ok(rows.length > 0, err);
    assert.ok(rows.every((r) => r.container?.name === name && r.container.id === id.slice(0, 12)), JSON.stringify(rows.map((r) => r.container)));
    assert.equal(rows.reduce((s, r) => s + r.count, 0), 4, 'the 4 calls in the container, none of the 2 on the host');
    assert.ok(rows.every((r) => r.buckets.every((b) => !b.count || b.low === 2 ** 24)), 'each about 20 ms');
  }

  test('--container ID: the container\'s calls, with its name; not the host\'s copy', () => containerCalls(id.slice(0, 12)));

  test('--container NAME: the same, the name resolved by the agent\'s containers', () => containerCalls(name));

  test('--container NAME of no running container: a clear error', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'funclatency', '--container', `${name}-gone`, '--func', '/fl-ct:sleepy', '-T', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`--container ${name}-gone: no running container of that name`));
  });

  test('a file the container lacks: named, with where it was looked for', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'run', 'funclatency', '--container', id.slice(0, 12), '--func', '/no/such:f', '-T', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`BINARY /no/such: no such file in container ${id.slice(0, 12)}'s root`));
  });
});
