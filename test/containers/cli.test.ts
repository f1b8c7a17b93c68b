/** The CLI with containers: `eunomia containers`, and `run` with --container in each format. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { dockerAsync, docker, needsDocker, removeContainers, startSleeper, TEST_IMAGE, uniqueName } from '../docker.js';
import { repoRoot, startRun } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');
const run = promisify(execFile);


describe('eunomia CLI with containers', { skip: needsDocker }, () => {
  const names: string[] = [];
  let web: string;
  let webId: string;

  before(() => {
    web = uniqueName('cli-web');
    names.push(web);
    webId = startSleeper(web, ['--label', 'io.kubernetes.pod.name=web-0', '--label', 'io.kubernetes.pod.namespace=shop']);
  });
  after(() => removeContainers(...names));

  test('eunomia containers: id, name, image, pid, namespaces and cgroup id as events carry them', async () => {
    const { stdout } = await run(process.execPath, [bin, 'containers', '--fmt', 'json']);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const row = rows.find((r) => r.name === web);
    assert.ok(row, `${web} is listed`);
    const pid = Number(docker('inspect', '-f', '{{.State.Pid}}', web));
    const ns = (n: string): number => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${n}`))![1]);
    const cgroupPath = docker('exec', web, 'cat', '/proc/1/cgroup').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    assert.deepEqual(row, {
      id: webId.slice(0, 12), name: web, image: TEST_IMAGE, runtime: 'docker', state: 'running', privileged: false,
      k8s_namespace: 'shop', k8s_pod: 'web-0', pid, mnt_ns: ns('mnt'), pid_ns: ns('pid'), net_ns: ns('net'), user_ns: ns('user'),
      // In the container's own cgroup namespace its path reads "/", so take the inode from the host side.
      cgroup_id: statSync(`/sys/fs/cgroup/unified${cgroupPath === '/' ? `/docker/${webId}` : cgroupPath}`).ino,
    });
    const table = (await run(process.execPath, [bin, 'containers'])).stdout;
    assert.match(table.split('\n')[0]!, /^CONTAINER ID\s+NAME\s+IMAGE\s+RUNTIME\s+PID\s+NAMESPACE\s+POD\s+MNTNS\s+PIDNS\s+NETNS\s+CGROUP$/);
    assert.ok(table.includes(web));
  });

  for (const fmt of ['plain', 'json', 'csv'] as const) {
    test(`run opensnoop --container NAME --fmt ${fmt}: only that container, with its name`, async () => {
      const cli = await startRun(['opensnoop', '--container', web, '--fmt', fmt, '-T', '4']);
      const marker = `/etc/marker-${fmt}-${process.pid}`;
      await dockerAsync('exec', web, 'cat', marker).catch(() => {}); // the open fails (ENOENT): still an event
      await run('cat', [marker]).catch(() => {}); // the same open on the host: filtered out in the kernel
      assert.equal(await cli.exited, 0, cli.err());
      const out = cli.out();
      const lines = out.trim().split(/\r?\n/);
      const hits = lines.filter((l) => l.includes(marker));
      assert.equal(hits.length, 1, `exactly the container's open of ${marker}:\n${out}`);
      if (fmt === 'json') {
        const ev = JSON.parse(hits[0]!);
        assert.deepEqual(ev.container, { id: webId.slice(0, 12), full_id: webId, name: web, image: TEST_IMAGE, runtime: 'docker' });
        assert.deepEqual(ev.k8s, { namespace: 'shop', pod: 'web-0' });
      } else if (fmt === 'csv') {
        assert.ok(lines[0]!.endsWith(',container.id,container.name,container.image,k8s.namespace,k8s.pod'));
        assert.ok(hits[0]!.endsWith(`,${webId.slice(0, 12)},${web},${TEST_IMAGE},shop,web-0`), hits[0]);
      } else {
        assert.match(lines[0]!, /^TIME\s+CONTAINER\s/);
        assert.match(hits[0]!, new RegExp(`^\\S+\\s+${web}\\s`));
      }
      // Nothing from anywhere else reached the output: the container's events, and the runtime's
      // work in its cgroup (runc entering it for the docker exec: the host, with `setup` naming it).
      if (fmt === 'json') for (const l of lines) { const c = JSON.parse(l).container; assert.equal(c.setup?.name ?? c.name, web, l); }
    });
  }

  test('filter mistakes are one line naming them', async () => {
    const both = await run(process.execPath, [bin, 'run', 'process', '--container', web, '--no-containers']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(both?.code, 1);
    assert.equal(both.stderr.trim(), 'eunomia: tracker process: container filters need container attribution, which --no-containers turned off');
    const two = await run(process.execPath, [bin, 'run', 'process', '--host-only', '--containers-only']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(two?.stderr.trim(), 'eunomia: tracker process: --host-only and --containers-only exclude each other — use one');
  });

  test('a name matching nothing yet is announced, and its container picked up when it starts', async () => {
    const later = uniqueName('cli-later');
    names.push(later);
    const cli = await startRun(['process', '--container', later, '--fmt', 'json', '-T', '5']);
    assert.match(cli.err(), new RegExp(`no container "${later}" yet: its events will show once it starts`));
    await dockerAsync('run', '--rm', '--name', later, TEST_IMAGE, 'true');
    assert.equal(await cli.exited, 0, cli.err());
    const events = cli.out().trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.type === 'exec' && e.comm === 'true'), 'the container’s exec');
    // …and the runtime's work in its cgroup (runc setting it up: the host, with `setup` naming it)
    assert.ok(events.every((e) => (e.container.setup?.name ?? e.container.name) === later), 'only that container');
    assert.equal(events.find((e) => e.type === 'exec' && e.container.name === later)?.comm, 'true', 'its first process is its entrypoint, not runc');
  });
});
