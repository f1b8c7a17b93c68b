/**
 * Eunomia as a library: the package's one entry point, and examples/first-exec.mjs — two
 * trackers with container attribution and a plug-in of its own — run as a user would run it,
 * against a real container and a host neighbour that it must not report.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { docker, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { KernelWatch, NOTHING_LEFT, repoRoot, waitFor } from '../helpers.js';

describe('the library', () => {
  test("'eunomia' is one entry point with its declarations; the internals are not exported", async () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const m = await import('eunomia');
      let internal;
      try { await import('eunomia/dist/src/core/native.js'); } catch (e) { internal = e.code; }
      console.log(JSON.stringify({ names: Object.keys(m).sort(), internal }));`], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { names, internal } = JSON.parse(r.stdout) as { names: string[]; internal: string };
    for (const n of ['Agent', 'defaultConfig', 'trackers', 'findTracker', 'TrackerManager', 'Pipeline', 'loadRules', 'EunomiaError', 'ErrorCodes']) assert.ok(names.includes(n), n);
    assert.equal(internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.ok(existsSync(join(repoRoot, 'dist/src/index.d.ts')), 'declarations are built');
  });

  describe('examples/first-exec.mjs', { skip: needsDocker }, () => {
    const name = uniqueName('library');
    after(() => removeContainers(name));

    test('reports each program a container runs the first time, and counts its opens; the host stays out', async () => {
      startSleeper(name);
      const child = spawn(process.execPath, [join(repoRoot, 'examples/first-exec.mjs'), '6'], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      await waitFor(() => err.includes('started'), 'the example to start', 15_000);
      const watch = new KernelWatch();
      assert.ok(watch.note(child.pid) >= 4, 'it holds the two trackers\' programs');
      docker('exec', name, 'cat', '/etc/hostname');
      docker('exec', name, 'cat', '/etc/hostname');
      docker('exec', name, 'ls', '/');
      spawnSync('/bin/cat', ['/etc/hostname']); // the host: not a container's
      assert.equal(await exited, 0, err);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { container: string; new_program?: string; opens?: number; programs?: string[] });
      const firsts = lines.filter((l) => l.container === name && l.new_program).map((l) => l.new_program);
      assert.deepEqual(firsts.filter((p) => p === 'cat'), ['cat'], `cat reported once: ${out}`);
      assert.ok(firsts.includes('ls'), out);
      const summary = lines.find((l) => l.container === name && l.opens !== undefined);
      assert.ok(summary && summary.opens! >= 2, `its opens are counted: ${out}`);
      assert.ok(lines.every((l) => l.container !== 'host' && l.container !== undefined), `only containers: ${out}`);
      assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'nothing left attached after close');
    });
  });
});
