/**
 * Podman (Debian's, its Docker-compatible API on /run/podman/podman.sock, which
 * scripts/test-env.sh starts) with runc, as the Docker tests test Docker: attribution with names,
 * the container filter, a rule (./engines.ts). And rootless Podman, where this host lets it have
 * a cgroup of its own.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { containerFromPath } from '../../src/containers/cgroup.js';
import { processTracker } from '../../src/trackers/process/index.js';
import { needsDocker, TEST_IMAGE } from '../docker.js';
import { cannotRun, engineSuite, PODMAN_FLAGS, PODMAN_SOCKET } from './engines.js';
import { containerOf, Rig } from './rig.js';
import { DockerClient } from '../../src/containers/docker.js';

const execFileAsync = promisify(execFile);
const IMAGE = `localhost/${TEST_IMAGE}`;

function podmanSkip(): string | false {
  if (needsDocker) return needsDocker; // root, and the image Podman's is loaded from
  if (spawnSync('curl', ['-sf', '--unix-socket', PODMAN_SOCKET, 'http://d/_ping'], { timeout: 10_000 }).status !== 0) return `Podman’s API does not answer on ${PODMAN_SOCKET} (run scripts/test-env.sh as root)`;
  if (spawnSync('podman', ['image', 'exists', IMAGE]).status !== 0) return `Podman has no ${IMAGE} (run scripts/test-env.sh as root)`;
  return cannotRun('podman', IMAGE, ['--runtime', 'runc', ...PODMAN_FLAGS]);
}
const skip = podmanSkip();

engineSuite({ title: 'Podman (runc)', cli: 'podman', image: IMAGE, oci: 'runc', flags: PODMAN_FLAGS, prefix: 'podman', announcesBeforeStart: false, skip });

/** Made by scripts/test-env.sh, with the test image in its own storage. */
const ROOTLESS_USER = 'eunomia-podman';
const rootlessSkip = skip || (spawnSync('id', [ROOTLESS_USER]).status !== 0 && `no user ${ROOTLESS_USER} (run scripts/test-env.sh as root)`);

/** `podman …` as the unprivileged user (a login shell: its own XDG_RUNTIME_DIR, storage and cgroup). */
async function asUser(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('su', ['-s', '/bin/sh', '-', ROOTLESS_USER, '-c', `podman ${args.map((a) => `'${a}'`).join(' ')}`], { encoding: 'utf8', timeout: 60_000 });
  return stdout.trim();
}

describe('rootless Podman', { skip: rootlessSkip }, () => {
  const name = `podman-rootless-${process.pid}-${randomBytes(3).toString('hex')}`;
  let id = '';
  let cgroup = '';

  before(async () => {
    id = await asUser('run', '-d', '--name', name, '--network', 'none', IMAGE, 'sleep', '3600');
    const pid = Number(await asUser('inspect', '-f', '{{.State.Pid}}', name));
    cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '';
  });
  after(() => {
    spawnSync('su', ['-s', '/bin/sh', '-', ROOTLESS_USER, '-c', `podman rm -f -t 0 ${name}`], { stdio: 'ignore', timeout: 60_000 });
  });

  test('a rootless container’s events carry its id and runtime', async (t) => {
    if (!containerFromPath(cgroup)) {
      // Not a failure of ours to hide: without a cgroup of its own the container cannot be told
      // from its user's other processes by any cgroup id.
      t.skip(`rootless Podman on this host gives its container no cgroup of its own: it runs in its user’s cgroup (${cgroup || 'none'}), as Podman does where cgroup v1 (or a hybrid layout) leaves it none to delegate; its events are the host’s`);
      return;
    }
    // Its metadata is on the user's own API socket, which Eunomia does not ask: the id and the
    // runtime come from the cgroup path (…/user@UID.service/…/libpod-<id>.scope).
    const rig = await Rig.start(undefined, [new DockerClient({ socket: PODMAN_SOCKET, runtime: 'podman' })]);
    try {
      const proc = rig.track(processTracker);
      await asUser('exec', name, 'cat', '/etc/hostname');
      const ok = await rig.until((ev) => ev.some((e) => e.instance === proc.id && e.data.comm === 'cat' && containerOf(e)?.full_id === id), 15_000);
      assert.ok(ok, `saw the exec in ${name} (cgroup ${cgroup})`);
      const c = containerOf(rig.events.find((e) => e.data.comm === 'cat' && containerOf(e)?.full_id === id)!)!;
      assert.equal(c.id, id.slice(0, 12));
      assert.equal(c.runtime, 'podman');
    } finally {
      await rig.close();
    }
  });
});
