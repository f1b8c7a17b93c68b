/**
 * The one error type of Eunomia. `code` is stable (documented in docs/errors.md);
 * the message says what failed and what to do about it.
 */
export const ErrorCodes = {
  USAGE: 'E_USAGE', // bad command line
  OPTION: 'E_OPTION', // bad tracker option value
  UNKNOWN_TRACKER: 'E_UNKNOWN_TRACKER',
  NOT_ROOT: 'E_NOT_ROOT', // missing privileges (CAP_BPF/CAP_PERFMON)
  NO_BTF: 'E_NO_BTF', // kernel has no /sys/kernel/btf/vmlinux
  NATIVE_MISSING: 'E_NATIVE_MISSING', // native addon not built
  OBJECT_MISSING: 'E_OBJECT_MISSING', // eBPF object file not found
  OBJECT_INVALID: 'E_OBJECT_INVALID', // not an ELF / no BTF / malformed
  BTF: 'E_BTF', // BTF malformed or a needed type is missing
  OPEN: 'E_OPEN', // libbpf could not open the object
  LOAD: 'E_LOAD', // verifier or kernel refused the program
  ATTACH: 'E_ATTACH',
  MAP: 'E_MAP', // map operation failed
  READER: 'E_READER', // ring/perf buffer reader failed
  STATE: 'E_STATE', // operation on a closed or not-yet-loaded object
  IO: 'E_IO', // output file or stream failed
  RUNTIME: 'E_RUNTIME', // a container runtime's API failed or answered nonsense
  CONTAINER: 'E_CONTAINER', // no such container (filter or lookup)
  NOT_FOUND: 'E_NOT_FOUND', // no tracker instance with that id
  PACKAGE: 'E_PACKAGE', // a hot-loaded eBPF program package is malformed or not allowed
  CONFIG: 'E_CONFIG', // the config file is malformed, or has an unknown or wrong-typed key
  AUTH: 'E_AUTH', // missing or wrong API token
  REQUEST: 'E_REQUEST', // a malformed HTTP request (body, parameters)
  RULE: 'E_RULE', // a rule file is malformed: names file, line and problem
  PROFILE: 'E_PROFILE', // a seccomp profile is malformed: names the file, the key and the problem
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorDetails {
  cause?: unknown;
  /** Verifier or libbpf log, kept whole; `message` shows only its tail. */
  log?: string;
  errno?: number;
}

export class EunomiaError extends Error {
  readonly code: ErrorCode;
  readonly log?: string;
  readonly errno?: number;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EunomiaError';
    this.code = code;
    if (details.log !== undefined) this.log = details.log;
    if (details.errno !== undefined) this.errno = details.errno;
  }
}

export function isEunomiaError(e: unknown, code?: ErrorCode): e is EunomiaError {
  return e instanceof EunomiaError && (code === undefined || e.code === code);
}

/** Last `n` non-empty lines of a log, for messages (the whole log stays on the error). */
export function logTail(log: string, n = 8): string {
  return log.split('\n').filter((l) => l.trim() !== '').slice(-n).join('\n');
}
