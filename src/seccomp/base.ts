/**
 * The base list: syscalls a container runtime makes inside the container AFTER it installs the
 * seccomp filter, up to and including the exec of the workload. A recording gated on the first
 * exec (`gate: 'exec'`) cannot see them, and a profile that denies them stops the container
 * from starting — so a profile adds them (toProfile's `base`), and `check` names any it denies.
 *
 * Read from the runtimes' sources (runc v1.1.15 libcontainer/standard_init_linux.go and
 * init_linux.go finalizeNamespace/setupUser; runc 1.2 where marked; crun 1.29
 * src/libcrun/container.c container_init_setup/apply_security_settings/container_init). Docker
 * and Podman leave no_new_privs off unless asked, and then BOTH runtimes install the filter
 * before they drop capabilities and switch to the container's user, so that path is listed.
 * With no_new_privs on they install it later (runc: just before closing its pipes and the
 * exec fifo; crun: after the exec fifo): a subset of this list.
 *
 * `how`: `path` — a call on the runtime's own code path between the filter and the exec, read in
 * its source; `runtime` — made by the Go runtime (runc) or libc (crun) on their own at any moment
 * (scheduler, garbage collector, signals, malloc), not tied to a line. runc 1.1 installs the
 * filter without SECCOMP_FILTER_FLAG_TSYNC, so only its init thread (and threads that thread
 * starts) is filtered; the `runtime` entries are what Go does on such a thread.
 *
 * Not listed, on purpose: clone/clone3 (runc's init thread is locked, and Go starts threads for
 * it from an unfiltered template thread), and start-container hooks (they run other programs:
 * a profile for a container with such hooks needs what the hooks call).
 */

export type Runtime = 'runc' | 'crun';

export interface BaseSyscall {
  readonly name: string;
  readonly runtimes: readonly Runtime[];
  readonly how: 'path' | 'runtime';
  /** Why the runtime makes it, in a few words (what `check` and the docs print). */
  readonly reason: string;
}

export const BASE_SYSCALLS = [
  // The runtimes' own steps, in the order they come.
  { name: 'close_range', runtimes: ['runc', 'crun'], how: 'path', reason: 'marks or closes the descriptors it does not pass (runc 1.2+, crun)' },
  { name: 'openat', runtimes: ['runc', 'crun'], how: 'path', reason: 'opens /proc/self/fd, /proc/self/status, /etc/passwd, /etc/group and the exec fifo' },
  { name: 'fstatfs', runtimes: ['runc', 'crun'], how: 'path', reason: 'checks that /proc/self/fd is on procfs before trusting it' },
  { name: 'getdents64', runtimes: ['runc', 'crun'], how: 'path', reason: 'lists /proc/self/fd to find the descriptors to close' },
  { name: 'fcntl', runtimes: ['runc', 'crun'], how: 'path', reason: 'marks inherited descriptors close-on-exec (without close_range)' },
  { name: 'close', runtimes: ['runc', 'crun'], how: 'path', reason: 'closes its pipes, the exec fifo and every descriptor it does not pass' },
  { name: 'read', runtimes: ['runc', 'crun'], how: 'path', reason: 'reads /proc/self/status and /etc/passwd (runc), waits on the exec fifo (crun)' },
  { name: 'chdir', runtimes: ['runc', 'crun'], how: 'path', reason: 'enters the working directory (again after the user switch)' },
  { name: 'getcwd', runtimes: ['runc', 'crun'], how: 'path', reason: 'checks the working directory is inside the container (CVE-2024-21626)' },
  { name: 'capget', runtimes: ['runc'], how: 'path', reason: 'reads its capabilities before dropping the bounding set' },
  { name: 'prctl', runtimes: ['runc', 'crun'], how: 'path', reason: 'drops the bounding set, keeps capabilities across the user switch, sets ambient ones' },
  { name: 'fstat', runtimes: ['runc'], how: 'path', reason: "checks the owner of stdio, and the size of files it reads" },
  { name: 'newfstatat', runtimes: ['runc', 'crun'], how: 'path', reason: 'stats /dev/null and the program to run' },
  { name: 'stat', runtimes: ['crun'], how: 'path', reason: 'stats the program to run (glibc before 2.33)' },
  { name: 'fchown', runtimes: ['runc'], how: 'path', reason: "gives stdio to the container's user" },
  { name: 'setgroups', runtimes: ['runc'], how: 'path', reason: 'sets the supplementary groups' },
  { name: 'setgid', runtimes: ['runc'], how: 'path', reason: "switches to the container's group" },
  { name: 'setuid', runtimes: ['runc'], how: 'path', reason: "switches to the container's user" },
  { name: 'setresgid', runtimes: ['crun'], how: 'path', reason: "switches to the container's group" },
  { name: 'setresuid', runtimes: ['crun'], how: 'path', reason: "switches to the container's user" },
  { name: 'capset', runtimes: ['runc', 'crun'], how: 'path', reason: "sets the container's capabilities" },
  { name: 'getppid', runtimes: ['runc'], how: 'path', reason: 'checks that its parent is still alive' },
  { name: 'faccessat2', runtimes: ['runc', 'crun'], how: 'path', reason: 'checks the program is executable (eaccess)' },
  { name: 'faccessat', runtimes: ['crun'], how: 'path', reason: 'checks the program is executable (glibc before 2.33)' },
  { name: 'getpid', runtimes: ['runc'], how: 'path', reason: 'its pid, for the container state it passes to hooks' },
  { name: 'write', runtimes: ['runc', 'crun'], how: 'path', reason: 'writes the exec fifo (runc) or its last sync message (crun)' },
  { name: 'rt_sigprocmask', runtimes: ['runc', 'crun'], how: 'path', reason: 'crun unblocks every signal before the exec fifo; Go masks signals around thread starts' },
  { name: 'rt_sigaction', runtimes: ['crun'], how: 'path', reason: 'resets every signal handler to the default before the exec fifo' },
  { name: 'select', runtimes: ['crun'], how: 'path', reason: 'waits for the exec fifo (glibc select)' },
  { name: 'pselect6', runtimes: ['crun'], how: 'path', reason: 'waits for the exec fifo (glibc 2.34+ select)' },
  { name: 'execve', runtimes: ['runc', 'crun'], how: 'path', reason: 'runs the workload' },
  { name: 'execveat', runtimes: ['runc'], how: 'path', reason: 'runs the workload through runc-dmz (runc 1.2 with runc-dmz)' },
  { name: 'exit_group', runtimes: ['runc', 'crun'], how: 'path', reason: 'exits with its error when a step fails, so the error reaches the engine' },
  // What the Go runtime (runc) and libc (crun) do on their own meanwhile.
  { name: 'futex', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: parks and wakes threads (scheduler, locks, garbage collector)' },
  { name: 'nanosleep', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: short sleeps while it spins for work' },
  { name: 'sched_yield', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: yields the CPU while it spins' },
  { name: 'epoll_pwait', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: polls its network poller when looking for work' },
  { name: 'epoll_ctl', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: registers each file opened with its poller (refused for /proc files, which Go expects)' },
  { name: 'rt_sigreturn', runtimes: ['runc'], how: 'runtime', reason: "Go runtime: returns from its preemption signal's handler" },
  { name: 'sigaltstack', runtimes: ['runc'], how: 'runtime', reason: "Go runtime: sets and clears a thread's signal stack when it starts or ends" },
  { name: 'gettid', runtimes: ['runc'], how: 'runtime', reason: "Go runtime: a thread's id, for signals to it" },
  { name: 'tgkill', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: preempts goroutines on other threads with a signal' },
  { name: 'restart_syscall', runtimes: ['runc'], how: 'runtime', reason: 'the kernel resumes a timed futex or sleep a signal interrupted' },
  { name: 'mmap', runtimes: ['runc', 'crun'], how: 'runtime', reason: 'Go runtime heap growth; malloc (crun)' },
  { name: 'munmap', runtimes: ['runc', 'crun'], how: 'runtime', reason: 'Go runtime and free (crun) return memory' },
  { name: 'madvise', runtimes: ['runc'], how: 'runtime', reason: 'Go runtime: returns unused heap pages to the kernel (scavenger)' },
  { name: 'mprotect', runtimes: ['runc'], how: 'runtime', reason: "libc in runc's cgo part: guard pages of thread stacks" },
  { name: 'brk', runtimes: ['crun'], how: 'runtime', reason: 'malloc grows the heap' },
  { name: 'exit', runtimes: ['runc'], how: 'runtime', reason: 'a thread ends' },
] as const satisfies readonly BaseSyscall[];

/**
 * prctl options the runtimes pass after the filter: a profile restricts prctl by option, so the
 * base list gives these too.
 */
export const BASE_PRCTL_OPTIONS = [
  { option: 1, name: 'PR_SET_PDEATHSIG', runtimes: ['runc'], reason: 'restores the parent-death signal the user switch cleared' },
  { option: 2, name: 'PR_GET_PDEATHSIG', runtimes: ['runc'], reason: 'reads the parent-death signal before restoring it' },
  { option: 8, name: 'PR_SET_KEEPCAPS', runtimes: ['runc', 'crun'], reason: 'keeps capabilities across the user switch' },
  { option: 24, name: 'PR_CAPBSET_DROP', runtimes: ['runc', 'crun'], reason: 'drops capabilities from the bounding set' },
  { option: 47, name: 'PR_CAP_AMBIENT', runtimes: ['runc', 'crun'], reason: 'sets the ambient capabilities' },
] as const;

const byName = new Map<string, BaseSyscall>(BASE_SYSCALLS.map((b) => [b.name, b]));

/** The base list's names, sorted. */
export const baseNames = (): string[] => [...byName.keys()].sort();
/** A base-list entry by name. */
export const baseEntry = (name: string): BaseSyscall | undefined => byName.get(name);
/** "runc and crun: sets the container's capabilities" — an entry's runtimes and reason. */
export const baseReason = (b: { runtimes: readonly Runtime[]; reason: string }): string => `${b.runtimes.join(' and ')}: ${b.reason}`;
