/**
 * Runtimes come and go: no runtime at all (one log line, ids from cgroups still), and the
 * Docker engine restarting under a running Eunomia (it reconnects and lists afresh).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { DockerClient } from '../../src/containers/docker.js';
import { processTracker } from '../../src/trackers/process/index.js';
import { dockerAsync, needsDocker, removeContainers, startSleeper, TEST_IMAGE, uniqueName } from '../docker.js';
import { repoRoot, waitFor } from '../helpers.js';
import { containerOf, Rig } from './rig.js';

describe('container runtimes coming and going', { skip: needsDocker }, () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  test('no runtime reachable: one log line, and events still carry the container id from the cgroup', async () => {
    const name = uniqueName('noapi');
    names.push(name);
    const id = startSleeper(name);
    const rig = await Rig.start(undefined, [new DockerClient({ socket: '/run/eunomia-test-no-such.sock' })]);
    try {
      assert.equal(rig.log.length, 1, rig.log.join('\n'));
      assert.match(rig.log[0]!, /no container runtime answers — docker \(Docker API at \/run\/eunomia-test-no-such\.sock: .*ENOENT.*\): containers are known by id from their cgroups only/);
      rig.track(processTracker);
      await dockerAsync('exec', name, 'cat', '/etc/passwd');
      const ok = await rig.until((ev) => ev.some((e) => e.data.comm === 'cat' && containerOf(e)?.full_id === id));
      assert.ok(ok, 'the exec, attributed by cgroup');
      const ev = rig.events.find((e) => e.data.comm === 'cat' && containerOf(e)?.full_id === id)!;
      assert.deepEqual(containerOf(ev), { id: id.slice(0, 12), full_id: id, name: '' }, 'no name without an API, and no waiting for one');
    } finally {
      await rig.close();
    }
  });

  test('dockerd restarts: the resolver notices, reconnects, and names containers made afterwards', async () => {
    const rig = await Rig.start();
    try {
      assert.ok(rig.containers.resolver.runtimes().includes('docker'));
      const pid = Number(readFileSync('/var/run/docker.pid', 'utf8'));
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !rig.containers.resolver.runtimes().includes('docker'), 'the resolver to notice dockerd is gone', 30_000);
      await waitFor(() => spawnSync('kill', ['-0', String(pid)]).status !== 0, 'dockerd to exit', 30_000);
      execFileSync('bash', [`${repoRoot}/scripts/test-env.sh`], { stdio: 'ignore', timeout: 120_000 }); // starts dockerd again
      await waitFor(() => rig.containers.resolver.runtimes().includes('docker'), 'the resolver to reconnect', 30_000);
      assert.ok(rig.log.some((l) => /docker: lost the API at \/var\/run\/docker\.sock/.test(l)), rig.log.join('\n'));
      assert.ok(rig.log.some((l) => /docker: API at \/var\/run\/docker\.sock answers again/.test(l)), rig.log.join('\n'));

      rig.track(processTracker);
      const name = uniqueName('after-restart');
      names.push(name);
      await dockerAsync('run', '--rm', '--name', name, TEST_IMAGE, 'true');
      const ok = await rig.until((ev) => ev.some((e) => e.data.type === 'exec' && containerOf(e)?.name === name));
      assert.ok(ok, 'a container made after the restart has its name');
    } finally {
      await rig.close();
    }
  });
});
