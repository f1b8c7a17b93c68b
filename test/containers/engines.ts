/**
 * One suite for each container engine and OCI runtime (Podman with runc, Podman with crun,
 * Docker with crun), as the Docker tests prove for Docker with runc: a real agent, with the
 * runtime clients it finds by itself, on the real kernel. Events from a container started before
 * the agent and one started after carry its id, name, image and runtime; `--container NAME` keeps
 * that container's events (by name, before it exists) and drops its neighbours'; a rule fires on
 * an attack in one container and no rule fires for the ordinary ones.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import type { Alert } from '../../src/alerts/index.js';
import type { ContainerField } from '../../src/containers/enrich.js';
import { loadNative } from '../../src/core/native.js';
import type { Sink, TrackerEvent } from '../../src/pipeline/types.js';
import { waitFor } from '../helpers.js';
import { containerOf } from './rig.js';

const execFileAsync = promisify(execFile);

export const PODMAN_SOCKET = '/run/podman/podman.sock';
/**
 * What every Podman container here runs with: no network (none is configured on this machine),
 * and limits this sandbox allows (Podman raises RLIMIT_NOFILE past them otherwise, and the
 * runtime fails with EPERM).
 */
export const PODMAN_FLAGS = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

export interface Engine {
  /** Its title in the test names: "Podman (runc)". */
  title: string;
  /** The CLI, and what events name as `container.runtime`. */
  cli: 'docker' | 'podman';
  /** The test image as the engine names it. */
  image: string;
  /** The OCI runtime it runs containers with (`--runtime`). */
  oci: 'runc' | 'crun';
  /** More `run` flags: the engine's own. */
  flags: string[];
  /** Container names start with it: `podman-`, `crun-`. */
  prefix: string;
  /**
   * Whether `--container NAME` given before the container exists passes its first exec (its
   * entrypoint): only if the engine announces the container before it starts it. Docker does.
   * Podman with its events in a file (its default without journald, as here) delivers the
   * create event on its API after the entrypoint has run (measured: 20–80 ms after, every time),
   * so the filter passes the container's events from then on (docs/containers.md).
   */
  announcesBeforeStart: boolean;
  skip: string | false;
}

/** Runs the engine's CLI; trimmed stdout; throws with its stderr. */
export async function cli(engine: Engine['cli'], ...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(engine, args, { encoding: 'utf8', timeout: 60_000 });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${engine} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** Removes containers, ignoring those already gone (`-t 0`: Podman would wait 10 s for `sleep` to obey SIGTERM). */
export function removeAll(engine: Engine['cli'], names: string[]): void {
  if (names.length) spawnSync(engine, ['rm', '-f', ...(engine === 'podman' ? ['-t', '0'] : []), ...names], { stdio: 'ignore', timeout: 60_000 });
}

/** Why `engine run --runtime <runtime>` cannot run here (its own words), or false. */
export function cannotRun(engine: Engine['cli'], image: string, flags: string[]): string | false {
  const r = spawnSync(engine, ['run', '--rm', ...flags, image, 'true'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? false : `${engine} run ${flags.join(' ')} fails here: ${(r.stderr || r.error?.message || '').trim()} (run scripts/test-env.sh as root)`;
}

const isExec = (e: TrackerEvent): boolean => e.tracker === 'process' && e.data.type === 'exec';

export function engineSuite(engine: Engine): void {
  describe(`${engine.title}: attribution with names, the container filter, a rule`, { skip: engine.skip }, () => {
    let agent: Agent;
    const events: TrackerEvent[] = [];
    const log: string[] = [];
    const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const nameOf = (what: string): string => `${engine.prefix}-${what}-${tag}`;
    const early = nameOf('early'); // started before the agent
    const neighbour = nameOf('neighbour');
    const names: string[] = []; // every container made, for `after`
    const ids = new Map<string, string>();
    /** `run` (`-d`: detached) of the test image, named; the container's full id when detached. */
    const run = (name: string, detach: boolean, ...cmd: string[]): Promise<string> => cli(engine.cli, 'run', ...(detach ? ['-d'] : []), '--name', name, '--runtime', engine.oci, ...engine.flags, engine.image, ...cmd);
    const exec = (name: string, ...cmd: string[]): Promise<string> => cli(engine.cli, 'exec', name, ...cmd);

    /** The container an event is the work of: its name, or "setup:<name>" for the runtime's work on it. */
    const owner = (e: TrackerEvent): string | undefined => {
      const c = containerOf(e);
      return c?.setup ? `setup:${c.setup.name}` : c?.name;
    };
    /** The programs (argv[0]) run in a container: busybox's sh runs its applets as /proc/self/exe, so their comm is "exe". */
    const execsIn = (name: string, evs: TrackerEvent[] = events): string[] => evs.filter((e) => isExec(e) && owner(e) === name).map((e) => String(e.data.prog));
    const alertsFor = (name: string): Alert[] => agent.analyzer!.recent().filter((a) => a.container?.name === name);
    const expected = (name: string): ContainerField => {
      const id = ids.get(name)!;
      return { id: id.slice(0, 12), full_id: id, name, image: engine.image, runtime: engine.cli };
    };
    const start = async (name: string, ...cmd: string[]): Promise<void> => {
      names.push(name);
      ids.set(name, await run(name, true, ...cmd));
    };

    before(async () => {
      await start(early, 'sleep', '3600');
      await start(neighbour, 'sleep', '3600');
      const config = defaultConfig();
      // mountsnoop too: a runtime's mounts while it sets a container up are not the container's.
      config.trackers = ['process', 'opensnoop', 'mountsnoop'].map((name) => ({ name, options: {} }));
      config.rules.trackers = false; // these only
      const collect: Sink = { name: 'collect', write: (ev) => void events.push(ev), stats: () => ({ written: events.length, dropped: 0 }), close: async () => {} };
      // The runtime clients are the agent's own choice (defaultClients): Podman's is found by its socket.
      agent = await Agent.start(config, { native: loadNative(), log: (l) => log.push(l), sinks: [collect], streams: false });
    });

    after(async () => {
      await agent?.close();
      removeAll(engine.cli, names);
    });

    test('a container started before the agent: an exec and its open carry id, name, image and runtime', async () => {
      // The engine did run it with the OCI runtime asked for.
      assert.equal(await cli(engine.cli, 'inspect', '-f', engine.cli === 'docker' ? '{{.HostConfig.Runtime}}' : '{{.OCIRuntime}}', early), engine.oci);
      await exec(early, 'cat', '/etc/passwd');
      await waitFor(() => execsIn(early).includes('cat') && events.some((e) => e.tracker === 'opensnoop' && e.data.path === '/etc/passwd' && owner(e) === early), `the exec and the open in ${early}; log: ${log.join(' | ')}`, 15_000);
      const cat = events.find((e) => isExec(e) && owner(e) === early && e.data.prog === 'cat')!;
      assert.deepEqual(containerOf(cat), expected(early));
      const open = events.find((e) => e.tracker === 'opensnoop' && e.data.path === '/etc/passwd' && owner(e) === early)!;
      assert.deepEqual(containerOf(open), expected(early));
      assert.equal(open.data.pid, cat.data.pid, 'the open is the cat’s');
    });

    test('a container started after the agent: every event named; its processes are its own, the runtime’s work is not', async () => {
      const later = nameOf('later');
      names.push(later);
      await run(later, false, 'sh', '-c', 'cat /etc/hostname > /dev/null');
      ids.set(later, await cli(engine.cli, 'inspect', '-f', '{{.Id}}', later));
      await waitFor(() => execsIn(later).includes('cat'), `the execs in ${later}`, 15_000).catch((e: Error) => {
        const seen = events.filter((x) => containerOf(x)?.full_id === ids.get(later) || containerOf(x)?.setup?.full_id === ids.get(later));
        const procs = seen.filter((x) => x.tracker === 'process').map((x) => `${String(x.data.type)} ${String(x.data.comm)} ${String(x.data.exe ?? '')} ${owner(x)}`);
        throw new Error(`${e.message}; its process events: ${procs.join(' | ')}; log: ${log.join(' | ')}`);
      });
      await new Promise((r) => setTimeout(r, 300)); // the other trackers' stragglers
      const mine = events.filter((e) => containerOf(e)?.full_id === ids.get(later));
      assert.ok(mine.length >= 3, `its exec, exit and open events: ${mine.length}`);
      for (const e of mine) assert.deepEqual(containerOf(e), expected(later), `${e.tracker} ${JSON.stringify(e.data)}`);
      // Its entrypoint and what that ran, nothing of the OCI runtime (which execs, copies and
      // mounts itself in ways that differ by runtime and host: those events are the host's,
      // with `setup` naming the container).
      assert.deepEqual(execsIn(later), ['sh', 'cat']);
      assert.deepEqual(events.filter((e) => e.tracker === 'mountsnoop' && owner(e) === later).map((e) => e.data), [], 'no mount is the container’s');
      assert.ok(events.some((e) => owner(e) === `setup:${later}`), 'the runtime’s work in its cgroup names it');
      const unnamed = events.filter((e) => containerOf(e) && containerOf(e)!.id !== 'host' && !containerOf(e)!.name);
      assert.deepEqual(unnamed.map((e) => e.data), [], 'no container event without a name');
    });

    test('--container NAME, given before the container exists, keeps its events and drops its neighbours’', async () => {
      const wanted = nameOf('wanted');
      const inst = agent.startTracker('process', { container: wanted });
      try {
        assert.deepEqual(inst.unmatchedContainers, [wanted], 'not created yet');
        await start(wanted, 'sleep', '3600');
        // The execs below are the container's events after the engine announced it.
        await waitFor(() => agent.containers?.resolver.find(wanted).length === 1, `${engine.cli} announcing ${wanted}`, 10_000);
        await exec(wanted, 'ls', '/');
        await exec(neighbour, 'ls', '/');
        await exec(early, 'ls', '/');
        await exec(wanted, 'cat', '/etc/hostname');
        await waitFor(() => execsIn(wanted, events.filter((e) => e.instance === inst.id)).includes('cat'), `${wanted}’s cat through the filter`, 15_000);
        // The neighbours' execs happened (the unfiltered instance saw them): their absence means something.
        await waitFor(() => execsIn(neighbour).includes('ls') && execsIn(early).includes('ls'), 'the neighbours’ execs', 5000);
        const passed = events.filter((e) => e.instance === inst.id);
        const owners = new Set(passed.map((e) => owner(e)?.replace(/^setup:/, '')));
        assert.deepEqual([...owners], [wanted], 'only the wanted container (and its runtime setting it up)');
        if (engine.announcesBeforeStart) assert.deepEqual(execsIn(wanted, passed), ['sleep', 'ls', 'cat'], 'from its first exec on');
        else assert.deepEqual(execsIn(wanted, passed).filter((p) => p !== 'sleep'), ['ls', 'cat'], 'from its announcement on');
        for (const e of passed.filter((x) => owner(x) === wanted)) assert.deepEqual(containerOf(e), expected(wanted));
      } finally {
        await agent.stop(inst.id);
      }
    });

    test('a rule fires on an attack in a container, naming it; the ordinary neighbours raise nothing', async () => {
      await exec(neighbour, 'cat', '/etc/passwd');
      await exec(early, 'cat', '/etc/shadow');
      await waitFor(() => alertsFor(early).some((a) => a.rule === 'sensitive_file_read'), `sensitive_file_read from ${early}`, 15_000);
      const alert = alertsFor(early).find((a) => a.rule === 'sensitive_file_read')!;
      assert.equal(alert.process?.comm, 'cat');
      assert.match(alert.message, new RegExp(`opened /etc/shadow in ${early}$`));
      assert.equal(alert.container?.image, engine.image);
      assert.equal(alert.container?.runtime, engine.cli);
      await waitFor(() => events.some((e) => e.tracker === 'opensnoop' && e.data.path === '/etc/passwd' && owner(e) === neighbour), 'the neighbour’s open seen', 5000);
      const quiet = names.filter((n) => n !== early).flatMap(alertsFor).map((a) => `${a.rule}: ${a.message}`);
      assert.deepEqual(quiet, [], 'alerts from the ordinary containers');
      assert.deepEqual(alertsFor(early).map((a) => a.rule), ['sensitive_file_read'], 'and none but the attack’s');
    });
  });
}
