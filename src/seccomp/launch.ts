/**
 * Runs a command under a seccomp filter through the helper (native/seccomp-exec): Node cannot
 * run code between fork and exec, where the cgroup is joined and the filter loaded.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, EunomiaError } from '../core/errors.js';
import { filterSpec } from './filter-spec.js';
import type { DenyMode, DockerProfile } from './types.js';

/** The helper's own exit statuses; any other is the command's. */
export const HelperExit = {
  /** The helper failed (bad filter, cgroup, libseccomp): its message is on stderr. */
  FAILED: 125,
  /** The command was found but could not be run (not executable, or the filter refused execve). */
  CANNOT_RUN: 126,
  /** The command was not found. */
  NOT_FOUND: 127,
} as const;

/** The helper's path (native/build, beside the addon); an error says how to build it when missing. */
export function helperPath(): string {
  // The same depth from dist/src/seccomp and from the bundle (dist/bundle/cli): the package root.
  const path = fileURLToPath(new URL('../../../native/build/eunomia-seccomp-exec', import.meta.url));
  try {
    accessSync(path, constants.X_OK);
  } catch (e) {
    throw new EunomiaError(
      ErrorCodes.NATIVE_MISSING,
      `seccomp helper not found at ${path} — run "npm run setup" to build it (it needs libseccomp-dev)`,
      { cause: e },
    );
  }
  return path;
}

export interface LaunchOptions {
  /** The profile to enforce; or `allowAll`. */
  profile?: DockerProfile;
  /** Replaces the profile's default action (filter-spec.ts). */
  mode?: DenyMode;
  /** A filter that allows everything: the command is in seccomp mode 2, which `seccomp record` counts from. */
  allowAll?: boolean;
  /** A cgroup v2 directory the command runs in (cgroup.ts). */
  cgroupDir?: string;
  /** As child_process.spawn's; 'inherit' by default. */
  stdio?: StdioOptions;
}

/**
 * Starts `cmd` under the filter. Profile errors throw here, before anything runs; after that the
 * child's exit status is the command's, or one of HelperExit.
 *
 * The filter goes to the helper in a file (private directory, mode 0600, removed when the child
 * exits) rather than on an inherited descriptor: Node's extra stdio "pipes" are socket pairs,
 * which /dev/fd/N cannot open, so the helper would need a descriptor option and would have to
 * close it before exec, and the caller's stdio would grow a slot. A file keeps `--filter FILE`,
 * which a person can also run by hand.
 */
export function launch(cmd: string[], opts: LaunchOptions): ChildProcess {
  if (cmd.length === 0 || !cmd[0]) throw new EunomiaError(ErrorCodes.USAGE, 'seccomp: no command to run');
  if (Boolean(opts.profile) === Boolean(opts.allowAll)) {
    throw new EunomiaError(ErrorCodes.USAGE, 'seccomp: give either a profile or allowAll');
  }
  if (opts.mode && !opts.profile) throw new EunomiaError(ErrorCodes.USAGE, 'seccomp: a mode applies to a profile, not to allowAll');
  const helper = helperPath();
  const args = opts.cgroupDir ? ['--cgroup', opts.cgroupDir] : [];
  let tmp: string | undefined;
  if (opts.profile) {
    const spec = filterSpec(opts.profile, opts.mode);
    tmp = mkdtempSync(join(tmpdir(), 'eunomia-seccomp-'));
    writeFileSync(join(tmp, 'filter'), spec, { mode: 0o600 });
    args.push('--filter', join(tmp, 'filter'));
  } else {
    args.push('--allow-all');
  }
  args.push('--', ...cmd);
  const cleanup = (): void => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  };
  let child: ChildProcess;
  try {
    child = spawn(helper, args, { stdio: opts.stdio ?? 'inherit' });
  } catch (e) {
    cleanup();
    throw e;
  }
  // 'exit' as soon as the command ends; 'close' also follows a failed spawn (after 'error', which
  // stays the caller's to handle).
  child.once('exit', cleanup);
  child.once('close', cleanup);
  return child;
}
