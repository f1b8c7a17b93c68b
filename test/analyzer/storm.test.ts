/**
 * An alert storm through the agent, on the real kernel: a container reading /etc/shadow
 * thousands of times yields the throttle's burst of alerts and counts the rest as suppressed,
 * while another container's alert for the same rule still goes out at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadNative } from '../../src/core/native.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { dockerAsync, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { waitFor } from '../helpers.js';

const READS = 3000;
const BURST = 5;

describe('alert storm', { skip: needsDocker }, () => {
  let agent: Agent;
  const storm = uniqueName('storm');
  const quiet = uniqueName('quiet');

  before(async () => {
    startSleeper(storm);
    startSleeper(quiet);
    const config = defaultConfig();
    config.trackers = [{ name: 'opensnoop', options: { pathPrefix: '/etc/shadow' } }];
    config.rules.trackers = false; // this one only
    config.rules.burst = BURST;
    config.rules.intervalMs = 3_600_000; // no refill while the test runs
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
  });
  after(async () => {
    await agent?.close();
    removeContainers(storm, quiet);
  });

  test(`${READS} matches in one container: ${BURST} alerts, the rest counted; another container is not held back`, async () => {
    const alerts = (name: string) => agent.analyzer!.recent().filter((a) => a.rule === 'sensitive_file_read' && a.container?.name === name);
    const loop = `i=0; while [ $i -lt ${READS} ]; do cat /etc/shadow; i=$((i+1)); done > /dev/null`;
    const running = dockerAsync('exec', storm, 'sh', '-c', loop);
    // Mid-storm, the quiet container's read alerts as soon as its event is through.
    await waitFor(() => agent.analyzer!.stats().suppressed > 100, 'the storm to be under way', 30_000);
    await dockerAsync('exec', quiet, 'cat', '/etc/shadow');
    await waitFor(() => alerts(quiet).length === 1, "the quiet container's alert", 15_000);
    await running;

    const opensnoop = agent.list().find((i) => i.name === 'opensnoop')!;
    const lost = opensnoop.stats.lostKernel + opensnoop.stats.lostQueue;
    await waitFor(() => (agent.analyzer!.stats().byRule.sensitive_file_read ?? 0) >= READS + 1 - lost, 'every match counted', 30_000);
    const st = agent.analyzer!.stats();
    assert.equal(alerts(storm).length, BURST, 'the storm container got its burst of alerts, no more');
    assert.equal(st.byRule.sensitive_file_read, READS + 1 - lost, 'every read was matched (less any the kernel reported lost)');
    assert.equal(st.suppressed, st.matched - st.alerts, 'what did not go out was counted as suppressed');
    assert.equal(st.alerts, BURST + 1);
  });
});
