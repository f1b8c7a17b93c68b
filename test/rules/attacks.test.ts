/**
 * Every built-in rule against the real kernel and a real Docker container: its attack (the
 * cases are in ./cases.ts), run in an "attacker" container, raises its alert naming that
 * container; a benign use of the same tools, run in a "neighbour" container, raises no alert
 * at all. The agent runs the trackers the rules need, as `eunomia safe` does.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '../../src/alerts/index.js';
import { safeConfig } from '../../src/cli/server.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { loadRules } from '../../src/rules/index.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { TEST_IMAGE, dockerAsync, needsDocker, removeContainers, uniqueName } from '../docker.js';
import { waitFor } from '../helpers.js';
import { ATTACKER_FLAGS, CASES, CONTAINER_FLAGS, FORMS, perform as performStep, SECCOMP_LOG_PROFILE, writeSeccompLogProfile, type Step } from './cases.js';

describe('built-in rules against real containers', { skip: needsDocker }, () => {
  let agent: Agent;
  const attacker = uniqueName('attacker');
  const neighbour = uniqueName('neighbour');
  const runs: string[] = []; // containers made by `run` steps
  const events: TrackerEvent[] = [];

  before(async () => {
    await dockerAsync('run', '-d', ...ATTACKER_FLAGS, '--name', attacker, TEST_IMAGE, 'sleep', '3600');
    await dockerAsync('run', '-d', ...CONTAINER_FLAGS, '--name', neighbour, TEST_IMAGE, 'sleep', '3600');
    const config = safeConfig(defaultConfig());
    config.rules.burst = 10_000; // every alert, not a throttled few
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    // seccomplog starts only with the profile its containers run under (no rule starts it).
    agent.startTracker('seccomplog', { containersOnly: true, profile: writeSeccompLogProfile() });
    // See what the agent sees, to know the neighbour's commands were observed.
    const write = agent.streams.write.bind(agent.streams);
    agent.streams.write = (ev) => {
      events.push(ev);
      write(ev);
    };
  });
  after(async () => {
    await agent?.close();
    removeContainers(attacker, neighbour, ...runs);
    rmSync(`/tmp/eunomia-data-${process.pid}`, { recursive: true, force: true }); // the benign bind mount's source
    rmSync(SECCOMP_LOG_PROFILE, { force: true });
  });

  const perform = (step: Step, container: string, label: string): Promise<string> => performStep(step, container, label, runs);

  const fromContainer = (name: string): Alert[] => agent.analyzer!.recent().filter((a) => a.container?.name === name);

  test('every built-in rule has a case here', () => {
    assert.deepEqual(Object.keys(CASES).sort(), loadRules([]).rules().map((r) => r.id).sort());
  });

  test('each attack alerts with its container; the benign neighbours raise no alert', async () => {
    // Benign runs first: their events go through each tracker's ring before the attacks'.
    const benign = new Set([neighbour]);
    for (const [rule, [, step]] of Object.entries(CASES)) benign.add(await perform(step, neighbour, `benign-${rule}`));
    const expected = new Map<string, string>(); // rule → container its alert must name
    for (const [rule, [step]] of Object.entries(CASES)) expected.set(rule, await perform(step, attacker, `attack-${rule}`));

    const missing = (): string[] => [...expected].filter(([rule, name]) => !fromContainer(name).some((a) => a.rule === rule)).map(([r]) => r);
    await waitFor(() => missing().length === 0, 'an alert for every attack', 30_000).catch(() => {});
    assert.deepEqual(missing(), [], 'attacks that raised no alert naming their container');

    const falseAlarms = [...benign].flatMap(fromContainer).map((a) => `${a.rule}: ${a.message}`);
    assert.deepEqual(falseAlarms, [], 'alerts from the benign neighbours');
    // The neighbour's commands were seen (so their silence means something): an exec event for each.
    const neighbourExecs = events.filter((e) => e.tracker === 'process' && e.data.type === 'exec' && (e.data.container as { name?: string })?.name === neighbour);
    assert.ok(neighbourExecs.length >= Object.values(CASES).filter(([, b]) => 'exec' in b).length, `only ${neighbourExecs.length} execs seen in the neighbour`);

    // Attacks that try several forms: each form alerted.
    for (const [rule, forms] of Object.entries(FORMS)) {
      const messages = fromContainer(attacker).filter((a) => a.rule === rule).map((a) => a.message);
      for (const form of forms) assert.ok(messages.some((m) => form.test(m)), `${rule}: no alert matching ${form}: ${messages.join('; ')}`);
    }

    // Alerts carry what a responder needs.
    const shell = fromContainer(attacker).find((a) => a.rule === 'shell_in_container')!;
    assert.equal(shell.process?.comm, 'sh');
    assert.equal(shell.container?.image, TEST_IMAGE);
    const drifted = (exe: string): boolean => fromContainer(attacker).some((a) => a.rule === 'container_drift' && a.process?.exe === exe);
    assert.ok(drifted('/root/dropped'), 'drift from the overlayfs upper layer');
    assert.ok(drifted('/tmp/p'), 'drift from a tmpfs: the payload decoded at run time');
    const fifo = fromContainer(attacker).filter((a) => a.rule === 'reverse_shell_fifo').map((a) => a.message);
    assert.ok(fifo.some((m) => /^nc .*stdout fifo/.test(m)), `netcat writing into the FIFO: ${fifo.join('; ')}`);
    assert.ok(fifo.some((m) => /^sh .*stdin fifo/.test(m)), `a shell reading the FIFO: ${fifo.join('; ')}`);
    const ld = fromContainer(attacker).filter((a) => a.rule === 'ld_preload_env').map((a) => a.message);
    assert.ok(ld.some((m) => m.includes('LD_PRELOAD=/tmp/x.so ')), `LD_PRELOAD seen: ${ld.join('; ')}`);
    assert.ok(ld.some((m) => m.includes('LD_LIBRARY_PATH=/tmp/lib ')), `LD_LIBRARY_PATH seen: ${ld.join('; ')}`);
  });

  test('miner_pool_port: one alert per connect, whether it failed before any packet (secsnoop) or after its SYN (tcpconnect)', () => {
    const miner = runs.find((n) => n.includes('attack-miner_pool_port'));
    assert.ok(miner, 'the attack ran');
    const alerts = fromContainer(miner).filter((a) => a.rule === 'miner_pool_port');
    assert.deepEqual(alerts.map((a) => [a.source, a.message.replace(/ \(pid \d+\)/, '').replace(/ in .*/, '')]).sort(), [
      ['secsnoop', 'nc connect to 10.255.255.1:3333 (ENETUNREACH)'],
      ['tcpconnect', 'nc connect to 127.0.0.1:3333 (ECONNREFUSED)'],
    ]);
  });
});
