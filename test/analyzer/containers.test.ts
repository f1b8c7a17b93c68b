/**
 * The analyzer in the agent, on the real kernel with a real container: a shell and a read of
 * /etc/shadow in a container raise alerts naming it; a benign command does not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '../../src/alerts/index.js';
import { loadNative } from '../../src/core/native.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { buildApi } from '../../src/server/http.js';
import { startMetricsServer } from '../../src/metrics/index.js';
import type { AddressInfo } from 'node:net';
import { dockerAsync, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { waitFor } from '../helpers.js';

describe('security alerts from a real container', { skip: needsDocker }, () => {
  let agent: Agent;
  let name: string;
  const alertFile = join(mkdtempSync(join(tmpdir(), 'eunomia-alerts-')), 'alerts.jsonl');

  before(async () => {
    name = uniqueName('alerts');
    startSleeper(name, ['--label', 'io.kubernetes.pod.name=web-0', '--label', 'io.kubernetes.pod.namespace=shop']);
    const config = defaultConfig();
    config.trackers = [{ name: 'process', options: {} }, { name: 'opensnoop', options: {} }];
    config.rules.trackers = false; // these two only
    config.rules.alertFile = alertFile;
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
  });
  after(async () => {
    await agent?.close();
    removeContainers(name);
  });

  const alerts = (): Alert[] => agent.analyzer!.recent().filter((a) => a.container?.name === name);

  test('a shell and an /etc/shadow read in the container alert, with container, pod and parents; a benign command does not', async () => {
    await dockerAsync('exec', name, 'cat', '/etc/hostname'); // benign
    await dockerAsync('exec', '-t', name, 'sh', '-c', 'cat /etc/shadow > /dev/null; true') // -t: an interactive shell;
    await waitFor(() => alerts().some((a) => a.rule === 'sensitive_file_read') && alerts().some((a) => a.rule === 'shell_in_container'), 'both alerts', 15_000);
    const shell = alerts().find((a) => a.rule === 'shell_in_container')!;
    assert.equal(shell.priority, 'warning');
    assert.equal(shell.process?.comm, 'sh');
    assert.deepEqual(shell.k8s, { namespace: 'shop', pod: 'web-0' });
    assert.match(shell.message, new RegExp(`^shell sh in container ${name} \\(eunomia-test/busybox:4\\): sh -c `));
    const read = alerts().find((a) => a.rule === 'sensitive_file_read')!;
    assert.equal(read.process?.comm, 'cat');
    // The kernel's ppid is exact; the names up the chain are best effort (events of different
    // trackers may arrive in either order, and the shell may be gone before its name is needed).
    assert.equal(read.process?.ppid, shell.process?.pid, 'its parent is the shell');
    assert.equal(alerts().filter((a) => a.rule === 'sensitive_file_read').length, 1, 'the benign cat of /etc/hostname did not alert');

    // The API and the alert file have them too.
    const app = await buildApi(agent, { bodyLimitBytes: 1 << 16, version: 'test' });
    const res = (await app.inject({ method: 'GET', url: '/alerts' })).json() as { alerts: Alert[] };
    assert.ok(res.alerts.some((a) => a.rule === 'shell_in_container' && a.container?.name === name));
    await app.close();
    await waitFor(() => readFileSync(alertFile, 'utf8').includes('sensitive_file_read'), 'the alert file', 5000);

    // And Prometheus counts them, over HTTP as a scrape sees it.
    const server = await startMetricsServer(agent.metrics, '127.0.0.1', 0);
    const port = (server.address() as AddressInfo).port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const alertsOf = (rule: string): number => agent.analyzer!.stats().alertsByRule[rule] ?? 0;
    assert.ok(text.includes(`eunomia_alerts_total{rule="sensitive_file_read",priority="warning"} ${alertsOf('sensitive_file_read')}\n`), text);
    assert.ok(text.includes(`eunomia_alerts_total{rule="shell_in_container",priority="warning"} ${alertsOf('shell_in_container')}\n`));
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    server.close();
  });
});
