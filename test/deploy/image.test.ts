/**
 * The agent's container image (Dockerfile, docs/image.md) and the one-host compose stack
 * (deploy/compose/docker-compose.yml), for real: the image is built here from Debian's packages
 * (scripts/image-base.sh makes the base: no registry is reachable), run with the host's PID
 * namespace, the read-only mounts and the documented capabilities only, and it must watch the
 * host: an exec in another container shows up with that container's name, an attack-like action
 * there raises an alert while an ordinary one stays silent, /metrics answers with the agent's
 * families. It prints the image's size, start-to-ready, and the agent's idle RSS and CPU.
 * The compose test brings up the agent and Prometheus (Grafana's image needs a registry) and
 * checks that Prometheus scrapes the agent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { TEST_IMAGE, docker, dockerAsync, needsDocker, removeContainers, uniqueName } from '../docker.js';
import { freePort, repoRoot } from '../helpers.js';
import { AGENT_IMAGE, PROMETHEUS_IMAGE, BASE_IMAGE, buildImages, run, type Built } from './image-build.js';
import { AGENT_CAPS, agentRunArgs, containerLogs, hostPid, idleFigures, pollJson } from './image-run.js';

const needsTools: string | false =
  needsDocker ||
  (spawnSync('mmdebstrap', ['--version'], { stdio: 'ignore' }).status !== 0 && 'mmdebstrap is missing (scripts/test-env.sh installs it)');

describe('the agent image', { skip: needsTools }, () => {
  const name = uniqueName('image-agent');
  const target = uniqueName('image-target');
  let dir = '';
  let tokenFile = '';
  const token = randomBytes(24).toString('hex');
  let built: Built;
  let api = '';
  let metrics = '';
  let readyMs = 0;
  const auth = { authorization: `Bearer ${token}` };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eunomia-image-'));
    tokenFile = join(dir, 'token');
    built = await buildImages();
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    metrics = `http://127.0.0.1:${metricsPort}`;
    const t0 = performance.now();
    docker('run', '-d', '--name', name, ...agentRunArgs({ tokenFile, apiPort, metricsPort }), AGENT_IMAGE);
    await pollJson(`${api}/health`, {}, (b) => (b as { status?: string }).status === 'ok', 'the agent to answer /health', 60_000,
      () => containerLogs(name), 250);
    readyMs = performance.now() - t0;
  });

  after(() => {
    removeContainers(name, target);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('reports its size, build time and start-to-ready', () => {
    const bytes = Number(docker('image', 'inspect', '-f', '{{.Size}}', AGENT_IMAGE));
    console.log(`# image ${AGENT_IMAGE}: ${(bytes / 1e6).toFixed(1)} MB; built in ${built.seconds.agent} s (base ${built.seconds.base} s, prometheus ${built.seconds.prometheus} s)`);
    console.log(`# start-to-ready (docker run → /health answers): ${Math.round(readyMs)} ms`);
    assert.ok(bytes > 0);
  });

  test('runs with the documented capabilities only, in the host PID namespace', () => {
    const caps = JSON.parse(docker('inspect', '-f', '{{json .HostConfig.CapAdd}}', name)) as string[];
    assert.deepEqual(caps.map((c) => c.replace(/^CAP_/, '')).sort(), [...AGENT_CAPS].sort());
    assert.deepEqual(JSON.parse(docker('inspect', '-f', '{{json .HostConfig.CapDrop}}', name)), ['ALL']);
    // What the kernel gave the agent: exactly those three (CapEff of its process, from the host).
    const capEff = BigInt('0x' + /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${hostPid(name)}/status`, 'utf8'))![1]);
    assert.equal(capEff, (1n << 2n) | (1n << 19n) | (1n << 21n), `CapEff ${capEff.toString(16)}: DAC_READ_SEARCH (2), SYS_PTRACE (19), SYS_ADMIN (21)`);
    assert.equal(docker('inspect', '-f', '{{.HostConfig.Privileged}} {{.HostConfig.PidMode}}', name), 'false host');
    // The agent's pid as the host sees it is in the host's /proc: the same process.
    const pid = hostPid(name);
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /eunomia/);
  });

  test('the API listens off loopback inside, so it refuses a request without the token', async () => {
    const bare = await fetch(`${api}/instances`);
    assert.equal(bare.status, 401);
    const wrong = await fetch(`${api}/instances`, { headers: { authorization: `Bearer ${'x'.repeat(32)}` } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${api}/instances`, { headers: auth });
    assert.equal(ok.status, 200);
    const { instances } = (await ok.json()) as { instances: { name: string }[] };
    assert.ok(instances.some((i) => i.name === 'process'), `process tracker running: ${JSON.stringify(instances.map((i) => i.name))}`);
  });

  test("an exec in another container carries that container's name; an attack there alerts, an ordinary action does not", async () => {
    await dockerAsync('run', '-d', '--name', target, TEST_IMAGE, 'sleep', '3600');
    const nonce = `eunomia-image-${randomBytes(4).toString('hex')}`;
    // The ordinary actions first: reading /etc/passwd, an echo with a mark to find its exec by.
    await dockerAsync('exec', target, 'cat', '/etc/passwd');
    await dockerAsync('exec', target, 'echo', nonce);
    type Row = { containerName: string; rule: string; record: { data?: { args?: string[]; container?: { name?: string } }; message?: string } };
    const query = (params: Record<string, string>) => `${api}/query?${new URLSearchParams({ from: '-10m', limit: '1000', ...params }).toString()}`;
    const rows = async (params: Record<string, string>): Promise<Row[]> => {
      const r = await fetch(query(params), { headers: auth });
      assert.equal(r.status, 200, await r.clone().text());
      return ((await r.json()) as { rows: Row[] }).rows;
    };
    const echo = await pollJson(query({ tracker: 'process', where: 'comm = echo' }), auth, (b) =>
      (b as { rows: Row[] }).rows.some((r) => r.record.data?.args?.includes(nonce)), `the echo's exec event (${nonce})`, 30_000);
    const row = (echo as { rows: Row[] }).rows.find((r) => r.record.data?.args?.includes(nonce))!;
    assert.equal(row.containerName, target);
    assert.equal(row.record.data?.container?.name, target);

    // The attack: reading password hashes (rule sensitive_file_read, proved on the host by test/rules/attacks.test.ts).
    await dockerAsync('exec', target, 'cat', '/etc/shadow');
    await pollJson(query({ kind: 'alert', container: target }), auth, (b) => (b as { rows: Row[] }).rows.some((r) => r.rule === 'sensitive_file_read'),
      'the sensitive_file_read alert', 30_000);
    await sleep(2000); // anything else the ordinary actions raised would be stored by now
    const alerts = await rows({ kind: 'alert', container: target });
    assert.deepEqual(alerts.map((a) => a.rule), ['sensitive_file_read'], `the container's only alert is the attack's: ${JSON.stringify(alerts.map((a) => a.record.message))}`);
    assert.match(alerts[0]!.record.message ?? '', /\/etc\/shadow/);
    assert.equal(alerts[0]!.containerName, target);
  });

  test("GET /metrics answers with the agent's families, by container", async () => {
    const r = await fetch(`${metrics}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /^eunomia_trackers_running\{tracker="process"\} 1$/m);
    assert.match(text, /^eunomia_alerts_total\{[^}]*rule="sensitive_file_read"[^}]*\} [1-9]/m);
    assert.ok(text.split('\n').some((l) => l.startsWith('eunomia_process_execs_total{') && l.includes(`container="${target}"`)), `an exec series for ${target}`);
  });

  test('idle: RSS and CPU over 20 s, beside the same agent run from this checkout', async () => {
    removeContainers(target);
    // This host is shared and busy (every exec on it is an event for both), so the figures are
    // taken side by side with `eunomia server` run on the host, over the same 20 s.
    const [p1, p2] = [await freePort(), await freePort()];
    const host = spawn(join(repoRoot, 'bin/eunomia.js'), ['server', '--listen', `127.0.0.1:${p1}`, '--metrics-listen', `127.0.0.1:${p2}`, '--store', join(dir, 'host.db')],
      { stdio: 'ignore' });
    try {
      await pollJson(`http://127.0.0.1:${p1}/health`, {}, () => true, 'the host agent to answer /health', 60_000);
      await sleep(5000);
      const [inImage, onHost] = await Promise.all([idleFigures(hostPid(name), 20_000), idleFigures(host.pid!, 20_000)]);
      const fmt = (f: typeof inImage): string => `RSS ${f.rssMiB.toFixed(1)} MiB, CPU ${f.cpuPercent.toFixed(2)} % of a core`;
      console.log(`# idle over ${inImage.seconds} s: the image's agent ${fmt(inImage)}; the same agent on the host ${fmt(onHost)}`);
      // The figures are the measure, printed, not a pass mark: RSS right after the attack
      // tests varies with when each V8 heap was last collected (the image's was 24 MiB over the
      // host's once in CI, 13 the run before). What must hold: both agents came through the
      // idle window alive and answering, having been measured (docs/image.md has the figures).
      assert.ok(inImage.rssMiB > 0 && onHost.rssMiB > 0, 'both agents measured');
      await pollJson(`http://127.0.0.1:${p1}/health`, {}, () => true, 'the host agent to answer /health after the idle window', 10_000);
      assert.equal(docker('inspect', '-f', '{{.State.Running}}', name), 'true', 'the image\'s agent still running');
    } finally {
      host.kill('SIGTERM');
      await once(host, 'exit');
    }
  });
});

const needsCompose: string | false =
  needsTools || (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0 && 'docker-compose is missing (scripts/test-env.sh installs it)');

describe('the one-host compose stack (agent + Prometheus)', { skip: needsCompose }, () => {
  const project = `eunomia-image-${process.pid}`;
  let dir = '';
  const file = join(repoRoot, 'deploy/compose/docker-compose.yml');
  let env: NodeJS.ProcessEnv;
  let prometheus = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eunomia-image-compose-'));
    await buildImages();
    writeFileSync(join(dir, 'token'), randomBytes(24).toString('hex'), { mode: 0o600 });
    const [apiPort, promPort, grafanaPort] = [await freePort(), await freePort(), await freePort()];
    prometheus = `http://127.0.0.1:${promPort}`;
    env = {
      ...process.env,
      EUNOMIA_IMAGE: AGENT_IMAGE,
      PROMETHEUS_IMAGE,
      EUNOMIA_BASE: BASE_IMAGE,
      EUNOMIA_TOKEN_FILE: join(dir, 'token'),
      EUNOMIA_API_PORT: String(apiPort),
      PROMETHEUS_PORT: String(promPort),
      GRAFANA_PORT: String(grafanaPort),
    };
  });

  after(async () => {
    await run('docker-compose', ['-f', file, '-p', project, 'down', '-v', '--timeout', '5'], { env, timeoutMs: 120_000 }).catch((e: Error) => console.log(`# compose down: ${e.message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the compose file is valid and runs the agent as the image test does', async () => {
    const config = await run('docker-compose', ['-f', file, '-p', project, 'config'], { env });
    assert.match(config, /pid: host/);
    for (const cap of AGENT_CAPS) assert.match(config, new RegExp(`- ${cap}$`, 'm'), cap);
    assert.match(config, /network_mode: service:agent/);
  });

  test('Prometheus scrapes the agent: its target is up and a query returns an eunomia metric', async () => {
    console.log('# Grafana is not started: its image comes from a registry, and none is reachable here');
    await run('docker-compose', ['-f', file, '-p', project, 'up', '-d', '--no-build', 'agent', 'prometheus'], { env, timeoutMs: 180_000 });
    type Targets = { data: { activeTargets: { labels: { job: string }; health: string; lastError: string; scrapeUrl: string }[] } };
    const targets = (await pollJson(`${prometheus}/api/v1/targets`, {}, (b) =>
      (b as Targets).data?.activeTargets?.some((t) => t.labels.job === 'eunomia' && t.health === 'up'), "Prometheus's eunomia target up", 90_000,
    () => run('docker-compose', ['-f', file, '-p', project, 'logs', '--tail', '20'], { env }))) as Targets;
    const t = targets.data.activeTargets.find((x) => x.labels.job === 'eunomia')!;
    assert.equal(t.scrapeUrl, 'http://127.0.0.1:8528/metrics');
    type Query = { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const q = (await pollJson(`${prometheus}/api/v1/query?query=${encodeURIComponent('eunomia_trackers_running{job="eunomia",tracker="process"}')}`, {},
      (b) => (b as Query).data?.result?.length > 0, 'the query to return a series', 60_000)) as Query;
    assert.equal(q.status, 'success');
    assert.equal(q.data.result[0]!.value[1], '1');
    // The alert rules were loaded from deploy/prometheus/eunomia-alerts.yml.
    const rules = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
    assert.ok(rules.data.groups.some((g) => g.name === 'eunomia-agent'), JSON.stringify(rules.data.groups.map((g) => g.name)));
  });
});
