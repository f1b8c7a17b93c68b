/**
 * The seccomp subsystem's data: what one recording saw (from the `seccomp` tracker's map), and
 * the profile made from one or several of them. A profile is Docker's JSON (what Docker, Podman
 * and the OCI runtimes load) with Eunomia's provenance under the "eunomia" key, which those
 * loaders ignore: merge, diff and summaries read it back.
 */

/** Who a recording watched. */
export interface RecordTarget {
  kind: 'container' | 'command';
  /** The container's name, or the command line. */
  name: string;
  /** The container's id. */
  id?: string;
  image?: string;
}

/**
 * How the start of the workload was told apart from the runtime setting it up: `filter`, only
 * calls made under a seccomp filter (the runtime installs one just before it execs the workload:
 * what comes after is exactly what the profile will filter); `exec`, the container ran without a
 * filter, and calls count from its first exec of a program (the base list adds what the runtime
 * does between installing a filter and that exec).
 */
export type Gate = 'filter' | 'exec';

/** Arguments where they decide what a call can do (as Docker's default profile restricts them). */
export interface ArgUse {
  /** CLONE_NEW* flags passed to clone or clone3 (a number: the OR of all seen). */
  cloneNamespaces: number;
  /** CLONE_NEW* flags passed to unshare. */
  unshareNamespaces: number;
  /** Address families passed to socket (numbers, sorted). */
  socketFamilies: number[];
  /** Options passed to prctl (numbers, sorted). */
  prctlOptions: number[];
  /** Personas passed to personality (numbers, sorted; 0xffffffff is the query). */
  personalities: number[];
  /**
   * A value was seen that the kernel side could not keep (a prctl option or persona outside the
   * ones it records): the profile then allows that call with any argument, and says so.
   */
  unrestricted: ('prctl' | 'personality')[];
}

/** One recording: the kernel map's entry for one target, named. */
export interface Recording {
  target: RecordTarget;
  /** ISO 8601 times. */
  started: string;
  ended: string;
  gate: Gate;
  /**
   * The container was already running when the recording began: its start-up (what its
   * programs call as they start, what it does once at start) was not seen.
   */
  midRun?: true;
  /** Calls counted, by syscall name (x86-64 names, as libseccomp spells them). */
  syscalls: Record<string, number>;
  /** Numbers seen that this build's table cannot name: they cannot be written in a profile. */
  unnamed: number[];
  /** Calls made through the 32-bit ABI (int 0x80): not recorded by number, the profile is x86-64 only. */
  compatCalls: number;
  args: ArgUse;
  /** Capability checks made (names like "CAP_NET_BIND_SERVICE"): passed, and refused. */
  capabilities: { used: string[]; denied: string[] };
}

/** What a profile refuses with, for calls outside it (`--mode`). */
export type DenyMode = 'errno' | 'kill' | 'log';

/** A run of the profile's provenance. */
export interface ProfileRun {
  /** "r1", "r2", … within one profile. */
  id: string;
  target: RecordTarget;
  started: string;
  ended: string;
  gate: Gate;
  /** Recording.midRun: begun while the container ran. */
  midRun?: true;
}

/** Eunomia's part of a profile file: where every syscall came from. */
export interface Provenance {
  version: 1;
  runs: ProfileRun[];
  /** Every syscall allowed, with the calls counted and the runs that saw it. */
  syscalls: Record<string, { count: number; runs: string[] }>;
  /** Added from the documented base list (src/seccomp/base.ts), not seen. */
  base: string[];
  args: ArgUse;
  capabilities: { used: string[]; denied: string[] };
  compatCalls: number;
  unnamed: number[];
}

/** Docker's seccomp profile (moby/profiles/seccomp), the fields Eunomia reads and writes. */
export interface DockerArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

export interface DockerRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: DockerArg[];
  comment?: string;
  includes?: Record<string, unknown>;
  excludes?: Record<string, unknown>;
}

export interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] }[];
  syscalls: DockerRule[];
  flags?: string[];
  eunomia?: Provenance;
}
