/** Linux signal names (x86-64/arm64 numbering). */
const SIGNALS = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1',
  'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP',
  'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** "SIGTERM" for 15; "SIGRTMIN+n" for real-time signals; "" for 0. */
export function signalName(n: number): string {
  if (n >= 0 && n < SIGNALS.length) return SIGNALS[n]!;
  if (n >= 32 && n <= 64) return n === 32 ? 'SIGRTMIN' : `SIGRTMIN+${n - 32}`;
  return String(n);
}
