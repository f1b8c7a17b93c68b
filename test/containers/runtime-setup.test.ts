/**
 * What a container runtime does while it sets a container up or enters it is the runtime's,
 * not the container's: not its first process, not a rule match. On the real kernel, with real
 * Docker, containerd (as CRI runs it) and Podman (conmon, then runc), through both of runc 1.1's ways of protecting its binary
 * (CVE-2019-5736): a read-only bind mount of /proc/self/exe in its state directory (what this
 * host's runc does by itself), and a copy in a memfd (forced with test/runtime/runc-no-bind.c,
 * which refuses the bind mount's remount as some hosts do). And the container's own work
 * after it — a mount, a memfd run by a process that entered the container — still alerts.
 *
 * Debian's crun is not used: it refuses this machine's hybrid cgroup layout ("cgroups in
 * hybrid mode not supported").
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ContainerdClient } from '../../src/containers/containerd.js';
import { DockerClient } from '../../src/containers/docker.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { loadRules } from '../../src/rules/index.js';
import { mountsnoopTracker } from '../../src/trackers/mountsnoop/index.js';
import { opensnoopTracker } from '../../src/trackers/opensnoop/index.js';
import { processTracker } from '../../src/trackers/process/index.js';
import { secsnoopTracker } from '../../src/trackers/secsnoop/index.js';
import { dockerAsync, needsDocker, removeContainers, startSleeper, TEST_IMAGE, uniqueName } from '../docker.js';
import { containerOf, Rig } from './rig.js';

const execFileAsync = promisify(execFile);
/** Made by scripts/test-env.sh. */
const RUNC_NO_BIND = '/usr/local/libexec/eunomia-test/runc-no-bind';
const PODMAN_SOCKET = '/run/podman/podman.sock';
const missing = [RUNC_NO_BIND, PODMAN_SOCKET].find((f) => !existsSync(f));
const skip = needsDocker || (missing !== undefined && `no ${missing} (run scripts/test-env.sh as root)`);

/** The container an event is attributed to; its name, or "setup:<name>" for the runtime's work on it. */
const owner = (e: TrackerEvent): string | undefined => {
  const c = containerOf(e);
  return c?.setup ? `setup:${c.setup.name}` : c?.name;
};
const execsOf = (events: TrackerEvent[], name: string): string[] => events.filter((e) => e.tracker === 'process' && e.data.type === 'exec' && owner(e) === name).map((e) => String(e.data.comm));

describe('a container runtime’s setup is attributed to the runtime', { skip }, () => {
  let rig: Rig;
  const rules = loadRules([]);
  const names: string[] = [];
  const ctrIds: string[] = [];
  const sleeper = uniqueName('setup-sleeper');
  const viaDocker = uniqueName('setup-docker');
  const viaMemfd = uniqueName('setup-memfd');
  const mounter = uniqueName('setup-mounter');
  const viaPodman = uniqueName('setup-podman');
  let sleeperId = '';
  let dockerId = '';

  /** Rule matches on the events attributed to `name` or to the runtime's work on it. */
  const matchesFor = (name: string): string[] =>
    rig.events.filter((e) => owner(e) === name || owner(e) === `setup:${name}`).flatMap((e) => rules.match(e).map((m) => `${m.rule}: ${m.message}`));

  before(async () => {
    rig = await Rig.start(undefined, [new DockerClient(), new ContainerdClient(), new DockerClient({ socket: PODMAN_SOCKET, runtime: 'podman' })]);
    for (const t of [processTracker, mountsnoopTracker, secsnoopTracker, opensnoopTracker]) rig.track(t);
    names.push(sleeper, viaDocker, mounter);
    sleeperId = startSleeper(sleeper);
    // The host's own path (a bind mount here), then a docker exec into a running container.
    dockerId = (await dockerAsync('run', '-d', '--name', viaDocker, TEST_IMAGE, 'true')).trim();
    await dockerAsync('exec', sleeper, 'cat', '/etc/hostname');
    // runc's memfd copy, through containerd as Kubernetes' CRI would run it.
    const id = randomBytes(32).toString('hex');
    ctrIds.push(id);
    await execFileAsync('ctr', ['-n', 'k8s.io', 'run', '--rm', '--runc-binary', RUNC_NO_BIND, '--label', `io.kubernetes.container.name=${viaMemfd}`, '--label', 'io.cri-containerd.kind=container', `docker.io/${TEST_IMAGE}`, id, 'true'], { timeout: 60_000 });
    // Podman: conmon, then runc (this host's hybrid cgroups rule crun out). The ulimits: Podman
    // raises RLIMIT_NOFILE past what this sandbox allows; without them runc fails with EPERM.
    names.push(viaPodman);
    await execFileAsync('podman', ['run', '--rm', '--name', viaPodman, '--runtime', 'runc', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', `localhost/${TEST_IMAGE}`, 'true'], { timeout: 60_000 });
    // The containers' own work: a real mount, and a memfd run by a process that entered its container.
    await dockerAsync('run', '--name', mounter, '--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', TEST_IMAGE, 'sh', '-c', 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m');
    await dockerAsync('exec', sleeper, 'eunomia-attack', 'memfd-exec').catch(() => {});
    const ok = await rig.until((ev) => execsOf(ev, viaMemfd).includes('true') && execsOf(ev, viaDocker).includes('true') && execsOf(ev, viaPodman).includes('true') && execsOf(ev, mounter).length > 0 && ev.some((e) => owner(e) === sleeper && String(e.data.exe).startsWith('/memfd:')), 15_000);
    assert.ok(ok, 'saw every container’s workload');
    await new Promise((r) => setTimeout(r, 300)); // the stragglers of the other trackers' rings
  });

  after(async () => {
    await rig?.close();
    removeContainers(...names);
    spawnSync('podman', ['rm', '-f', viaPodman], { stdio: 'ignore' });
    for (const id of ctrIds) for (const args of [['task', 'rm', '-f', id], ['container', 'rm', id]]) spawnSync('ctr', ['-n', 'k8s.io', ...args], { stdio: 'ignore' });
  });

  test('runc’s bind-mount path (Docker): the runtime’s work is not the container’s', (t) => {
    const bind = rig.events.find((e) => e.tracker === 'mountsnoop' && e.data.source === '/proc/self/exe' && String(e.data.target).includes(dockerId));
    if (!bind) {
      const memfd = rig.events.some((e) => e.tracker === 'process' && String(e.data.exe).startsWith('/memfd:runc_cloned'));
      assert.ok(memfd, 'runc took neither of its paths that this test knows');
      t.skip('this host refuses runc’s bind mount of /proc/self/exe (runc copied itself to a memfd instead, tested below): its bind-mount path cannot be made here');
      return;
    }
    assert.notEqual(owner(bind), viaDocker, 'the bind mount is the runtime’s');
    assert.deepEqual(execsOf(rig.events, viaDocker), ['true'], 'the container’s only process is its entrypoint');
    assert.deepEqual(rig.events.filter((e) => e.tracker === 'mountsnoop' && owner(e) === viaDocker).map((e) => e.data), [], 'no mount is the container’s');
    assert.ok(rig.events.some((e) => owner(e) === `setup:${viaDocker}`), 'the runtime’s work in the container’s cgroup names the container it set up');
    assert.deepEqual(matchesFor(viaDocker), []);
  });

  test('runc’s memfd path (containerd, CRI): the same', () => {
    assert.ok(rig.events.some((e) => e.tracker === 'process' && String(e.data.exe).startsWith('/memfd:runc_cloned')), 'runc ran its memfd copy');
    assert.deepEqual(execsOf(rig.events, viaMemfd), ['true'], 'the container’s only process is its entrypoint');
    assert.deepEqual(rig.events.filter((e) => e.tracker === 'mountsnoop' && owner(e) === viaMemfd).map((e) => e.data), []);
    assert.ok(rig.events.some((e) => e.tracker === 'mountsnoop' && owner(e) === `setup:${viaMemfd}`), 'runc init’s mounts are the runtime’s, naming the container');
    assert.deepEqual(matchesFor(viaMemfd), []);
  });

  test('Podman (conmon, runc): the same', () => {
    assert.deepEqual(execsOf(rig.events, viaPodman), ['true'], 'the container’s only process is its entrypoint');
    assert.equal(containerOf(rig.events.find((e) => owner(e) === viaPodman)!)!.runtime, 'podman');
    assert.deepEqual(rig.events.filter((e) => e.tracker === 'mountsnoop' && owner(e) === viaPodman).map((e) => e.data), []);
    assert.ok(rig.events.some((e) => owner(e) === `setup:${viaPodman}`), 'the runtime’s work names the container');
    assert.deepEqual(matchesFor(viaPodman), []);
  });

  test('docker exec: runc entering a running container is the runtime, the command is the container’s', () => {
    const execs = rig.events.filter((e) => e.tracker === 'process' && e.data.type === 'exec' && owner(e) === sleeper);
    assert.deepEqual(execs.slice(0, 3).map((e) => e.data.comm), ['sleep', 'cat', 'eunomia-attack'], 'its entrypoint, the exec’d commands, nothing of runc');
    assert.match(String(execs[3]?.data.exe), /^\/memfd:payload/, 'then the attack tool’s memfd');
    const setup = rig.events.filter((e) => owner(e) === `setup:${sleeper}`);
    assert.ok(setup.every((e) => containerOf(e)!.setup!.full_id === sleeperId));
    assert.deepEqual(rig.events.filter((e) => e.tracker === 'mountsnoop' && owner(e) === sleeper).map((e) => e.data), []);
  });

  test('the container’s own work still alerts: a mount, and a memfd run after entering', () => {
    assert.ok(matchesFor(mounter).some((m) => m.startsWith('mount_in_container:')), `mount_in_container for ${mounter}: ${matchesFor(mounter).join('; ')}`);
    assert.deepEqual(matchesFor(sleeper).map((m) => m.split(':')[0]), ['memfd_exec'], 'the memfd run, and nothing of the runtime');
  });
});
