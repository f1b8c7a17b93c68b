/**
 * Syscall groups, for the human summary of a profile: every x86-64 syscall (this build's table
 * and later kernels', src/seccomp/read.ts) is in exactly one group; a test keeps it so.
 */

export const GROUPS = [
  { id: 'file', title: 'file I/O' },
  { id: 'network', title: 'network' },
  { id: 'process', title: 'process' },
  { id: 'memory', title: 'memory' },
  { id: 'time', title: 'time' },
  { id: 'signals', title: 'signals' },
  { id: 'ipc', title: 'IPC' },
  { id: 'namespaces', title: 'namespaces and mounts (dangerous)' },
  { id: 'kernel', title: 'kernel (modules, bpf, kexec, keys, system settings)' },
  { id: 'identity', title: 'identity and capabilities' },
  { id: 'other', title: 'other' },
] as const;

export type GroupId = (typeof GROUPS)[number]['id'];

const MEMBERS: Record<GroupId, readonly string[]> = {
  file: [
    'read', 'write', 'open', 'close', 'stat', 'fstat', 'lstat', 'poll', 'lseek', 'ioctl', 'pread64', 'pwrite64', 'readv',
    'writev', 'access', 'select', 'dup', 'dup2', 'dup3', 'sendfile', 'fcntl', 'flock', 'fsync', 'fdatasync', 'truncate',
    'ftruncate', 'getdents', 'getdents64', 'getcwd', 'chdir', 'fchdir', 'rename', 'mkdir', 'rmdir', 'creat', 'link', 'unlink',
    'symlink', 'readlink', 'chmod', 'fchmod', 'chown', 'fchown', 'lchown', 'umask', 'utime', 'utimes', 'mknod', 'uselib',
    'ustat', 'statfs', 'fstatfs', 'sync', 'syncfs', 'readahead', 'setxattr', 'lsetxattr', 'fsetxattr', 'getxattr',
    'lgetxattr', 'fgetxattr', 'listxattr', 'llistxattr', 'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
    'io_setup', 'io_destroy', 'io_getevents', 'io_submit', 'io_cancel', 'io_pgetevents', 'epoll_create', 'epoll_create1',
    'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'epoll_ctl_old', 'epoll_wait_old', 'fadvise64',
    'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'openat', 'openat2', 'mkdirat', 'mknodat',
    'fchownat', 'futimesat', 'newfstatat', 'unlinkat', 'renameat', 'renameat2', 'linkat', 'symlinkat', 'readlinkat',
    'fchmodat', 'fchmodat2', 'faccessat', 'faccessat2', 'pselect6', 'ppoll', 'splice', 'tee', 'sync_file_range',
    'vmsplice', 'utimensat', 'fallocate', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'fanotify_init', 'fanotify_mark',
    'name_to_handle_at', 'open_by_handle_at', 'copy_file_range', 'statx', 'io_uring_setup', 'io_uring_enter',
    'io_uring_register', 'close_range', 'quotactl', 'quotactl_fd', 'cachestat', 'setxattrat', 'getxattrat', 'listxattrat',
    'removexattrat', 'file_getattr', 'file_setattr',
  ],
  network: [
    'socket', 'connect', 'accept', 'accept4', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'shutdown',
    'bind', 'listen', 'getsockname', 'getpeername', 'socketpair', 'setsockopt', 'getsockopt',
  ],
  process: [
    'clone', 'clone3', 'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'getpid', 'gettid',
    'getppid', 'setpgid', 'getpgid', 'getpgrp', 'setsid', 'getsid', 'set_tid_address', 'arch_prctl', 'prctl',
    'personality', 'set_thread_area', 'get_thread_area', 'getpriority', 'setpriority', 'sched_setparam',
    'sched_getparam', 'sched_setscheduler', 'sched_getscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
    'sched_rr_get_interval', 'sched_setaffinity', 'sched_getaffinity', 'sched_yield', 'sched_setattr', 'sched_getattr',
    'getrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'times', 'getcpu', 'ioprio_set', 'ioprio_get', 'ptrace',
    'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_open', 'pidfd_getfd', 'seccomp', 'rseq', 'modify_ldt',
  ],
  memory: [
    'mmap', 'mprotect', 'munmap', 'brk', 'mremap', 'msync', 'mincore', 'madvise', 'mlock', 'munlock', 'mlockall',
    'munlockall', 'mlock2', 'remap_file_pages', 'mbind', 'set_mempolicy', 'get_mempolicy', 'set_mempolicy_home_node',
    'migrate_pages', 'move_pages', 'pkey_mprotect', 'pkey_alloc', 'pkey_free', 'memfd_create', 'memfd_secret',
    'membarrier', 'userfaultfd', 'process_madvise', 'process_mrelease', 'map_shadow_stack', 'mseal',
  ],
  time: [
    'nanosleep', 'clock_nanosleep', 'getitimer', 'setitimer', 'alarm', 'gettimeofday', 'settimeofday', 'time', 'adjtimex',
    'clock_gettime', 'clock_settime', 'clock_getres', 'clock_adjtime', 'timer_create', 'timer_settime', 'timer_gettime',
    'timer_getoverrun', 'timer_delete', 'timerfd_create', 'timerfd_settime', 'timerfd_gettime',
  ],
  signals: [
    'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigtimedwait', 'rt_sigqueueinfo',
    'rt_tgsigqueueinfo', 'rt_sigsuspend', 'sigaltstack', 'pause', 'kill', 'tkill', 'tgkill', 'signalfd', 'signalfd4',
    'pidfd_send_signal', 'restart_syscall',
  ],
  ipc: [
    'pipe', 'pipe2', 'eventfd', 'eventfd2', 'futex', 'futex_waitv', 'futex_wake', 'futex_wait', 'futex_requeue',
    'set_robust_list', 'get_robust_list', 'shmget', 'shmat', 'shmctl', 'shmdt', 'semget', 'semop', 'semctl', 'semtimedop',
    'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedreceive', 'mq_notify',
    'mq_getsetattr',
  ],
  namespaces: [
    'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns', 'open_tree', 'open_tree_attr', 'move_mount', 'fsopen',
    'fsconfig', 'fsmount', 'fspick', 'mount_setattr', 'statmount', 'listmount', 'listns',
  ],
  kernel: [
    'create_module', 'init_module', 'finit_module', 'delete_module', 'get_kernel_syms', 'query_module', 'kexec_load',
    'kexec_file_load', 'bpf', 'perf_event_open', 'uprobe', 'uretprobe', 'add_key', 'request_key', 'keyctl', 'syslog',
    'acct', 'reboot', 'swapon', 'swapoff', 'iopl', 'ioperm', '_sysctl', 'sysfs', 'sethostname', 'setdomainname', 'vhangup',
    'lookup_dcookie', 'nfsservctl',
  ],
  identity: [
    'getuid', 'geteuid', 'getgid', 'getegid', 'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'getresuid',
    'setresgid', 'getresgid', 'setfsuid', 'setfsgid', 'getgroups', 'setgroups', 'capget', 'capset',
    'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self', 'lsm_get_self_attr', 'lsm_set_self_attr',
    'lsm_list_modules',
  ],
  // Unimplemented entries of the table, and calls about the system as a whole.
  other: ['uname', 'sysinfo', 'getrandom', 'afs_syscall', 'tuxcall', 'security', 'getpmsg', 'putpmsg', 'vserver'],
};

const groupByName = new Map<string, GroupId>();
for (const g of GROUPS) for (const n of MEMBERS[g.id]) groupByName.set(n, g.id);

/** The group a syscall is listed in; undefined for a name no group lists. */
export const groupOf = (name: string): GroupId | undefined => groupByName.get(name);
/** The group of a syscall for the summary: `other` for names no group lists (another architecture's). */
export const syscallGroup = (name: string): GroupId => groupByName.get(name) ?? 'other';
/** The members a group lists (for the docs and the coverage test). */
export const groupMembers = (id: GroupId): readonly string[] => MEMBERS[id];
