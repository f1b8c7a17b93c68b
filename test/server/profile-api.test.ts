/**
 * POST /profile on a real `eunomia server`: a static C program spinning in a known function, in
 * a real container (its file read through the container's root), profiled by --container for a
 * few seconds, answered as folded stacks, a flame graph and pprof; and the request errors.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { dockerAsync, needsDocker, removeContainers, TEST_IMAGE, uniqueName } from '../docker.js';
import { freePort, KernelWatch, NOTHING_LEFT, repoRoot, waitFor } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');
const HOT = `
static volatile unsigned long sink;
static __attribute__((noinline)) void hot_loop(void) { for (unsigned long i = 0;; i++) sink += i * i; }
int main(void) { hot_loop(); return 0; }
`;

describe('POST /profile: a real server profiling a real container', { skip: needsDocker }, () => {
  let server: ChildProcess;
  let err = '';
  let base = '';
  const watch = new KernelWatch();
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-profile-api-'));
  const name = uniqueName('pf-api');

  const post = async (body: unknown): Promise<{ status: number; type: string; headers: Headers; body: Buffer }> => {
    const r = await fetch(`${base}/profile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, type: r.headers.get('content-type') ?? '', headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  };

  before(async () => {
    writeFileSync(join(dir, 'hot.c'), HOT);
    // Static: the busybox image has no libc. Frame pointers: whole stacks.
    execFileSync('cc', ['-static', '-O1', '-fno-omit-frame-pointer', '-o', join(dir, 'hot'), join(dir, 'hot.c')]);
    await dockerAsync('run', '-d', '--name', name, '-v', `${dir}:/w:ro`, TEST_IMAGE, '/w/hot');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [bin, 'server', '--listen', `127.0.0.1:${port}`, '--no-trackers', '--no-safe', '--metrics-listen', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr!.on('data', (d) => (err += d));
    await waitFor(() => /server listening/.test(err) || server.exitCode !== null, 'the server to start', 30_000);
    watch.note(server.pid);
  });

  after(async () => {
    removeContainers(name);
    rmSync(dir, { recursive: true, force: true });
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, err);
    }
    assert.doesNotMatch(err, /internal error|^\s+at /m, err);
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'the server released every program and map');
  });

  test('folded stacks of the container: the hot function named through its root, counts summing to the samples', async () => {
    const r = await post({ seconds: 3, format: 'folded', options: { container: name, frequency: 199 } });
    assert.equal(r.status, 200, r.body.toString());
    assert.match(r.type, /^text\/plain/);
    const lines = r.body.toString().trim().split('\n');
    let total = 0;
    let hot = 0;
    for (const line of lines) {
      const m = /^(.*) (\d+)$/.exec(line);
      assert.ok(m, `a folded line: ${line}`);
      total += Number(m[2]);
      const frames = m[1]!.split(';');
      assert.match(frames[0]!, /^hot-\d+$/, 'the process frame first');
      if (frames.includes('hot_loop') && frames.indexOf('main') < frames.indexOf('hot_loop')) hot += Number(m[2]);
    }
    assert.equal(total, Number(r.headers.get('eunomia-samples')), 'the lines sum to the samples');
    assert.ok(total >= 200, `~3 s at 199 Hz of a busy process: ${total}`);
    assert.ok(hot / total >= 0.9, `main → hot_loop on ${hot} of ${total} samples:\n${lines.slice(0, 5).join('\n')}`);
  });

  test('a flame graph (SVG) and a pprof profile', async () => {
    const svg = await post({ seconds: 2, options: { container: name, frequency: 99 } });
    assert.equal(svg.status, 200);
    assert.match(svg.type, /^image\/svg\+xml/);
    assert.match(svg.body.toString(), /<svg[\s\S]*hot_loop[\s\S]*<\/svg>\s*$/);
    const pprof = await post({ seconds: 2, format: 'pprof', options: { container: name, frequency: 99 } });
    assert.equal(pprof.status, 200);
    assert.deepEqual([...pprof.body.subarray(0, 2)], [0x1f, 0x8b], 'gzipped');
    assert.ok(gunzipSync(pprof.body).includes(Buffer.from('hot_loop')), 'the function in its string table');
  });

  test('bad requests: 400 with a code, nothing left running', async () => {
    const bad = async (body: unknown, code: string): Promise<void> => {
      const r = await post(body);
      assert.equal(r.status, 400, r.body.toString());
      assert.equal((JSON.parse(r.body.toString()) as { error: { code: string } }).error.code, code);
    };
    await bad({ seconds: 0 }, 'E_REQUEST');
    await bad({ seconds: 2, format: 'png' }, 'E_REQUEST');
    await bad({ seconds: 2, options: { svg: '/tmp/x.svg' } }, 'E_REQUEST');
    await bad({ seconds: 2, options: { userOnly: true, kernelOnly: true } }, 'E_OPTION');
    const list = (await (await fetch(`${base}/instances`)).json()) as { instances: unknown[] };
    assert.deepEqual(list.instances, []);
  });
});
