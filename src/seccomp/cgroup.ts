/**
 * A cgroup of its own for a command that is recorded or run under a profile: the seccomp
 * tracker counts by cgroup id, so the command and everything it starts are told apart from the
 * rest of the machine in the kernel.
 */
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, EunomiaError } from '../core/errors.js';
// Pure v2: /sys/fs/cgroup; hybrid (v1 controllers beside it): …/unified. bpf_get_current_cgroup_id() reads this hierarchy in both.
import { cgroup2Root } from '../containers/cgroup.js';

export interface Cgroup {
  /** The directory (cgroup v2), e.g. /sys/fs/cgroup/eunomia-seccomp-1234-1. */
  dir: string;
  /** The cgroup id: what bpf_get_current_cgroup_id() returns for a task in it. */
  id: number;
  /** Removes the directory (idempotent); waits briefly while exited tasks are still leaving. */
  remove(): void;
}

let made = 0;

/**
 * Makes a fresh cgroup directly below the cgroup v2 root, named eunomia-seccomp-<pid>-<n>.
 * Below the root because: a new child of the root is a leaf, and a leaf accepts processes
 * whatever controllers are enabled around it (cgroup v2 forbids processes only in a non-root
 * cgroup that hands controllers to children); it is outside every systemd unit (systemd manages
 * the cgroups inside its units and may move or remove foreign ones); and leftovers are found in
 * one place. `label` names the user of the cgroup in error messages ("seccomp record").
 */
export function makeCgroup(label: string): Cgroup {
  const root = cgroup2Root();
  if (!root) {
    throw new EunomiaError(ErrorCodes.IO, `${label}: cgroup v2 is not mounted — mount it (mount -t cgroup2 none /sys/fs/cgroup) or boot with systemd.unified_cgroup_hierarchy=1`);
  }
  for (;;) {
    const dir = join(root, `eunomia-seccomp-${process.pid}-${++made}`);
    try {
      mkdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // left by an earlier process with the same pid
      if (code === 'EACCES' || code === 'EPERM') {
        throw new EunomiaError(ErrorCodes.NOT_ROOT, `${label}: make cgroup ${dir}: permission denied — run as root`, { cause: e });
      }
      const why = code === 'EROFS' ? 'the cgroup file system is read-only (in a container? run on the host)' : (e as Error).message;
      throw new EunomiaError(ErrorCodes.IO, `${label}: make cgroup ${dir}: ${why}`, { cause: e });
    }
    // On 64-bit kernels a cgroup's id is its kernfs node id, which is the directory's inode number.
    const id = Number(statSync(dir, { bigint: true }).ino);
    let removed = false;
    return {
      dir,
      id,
      remove(): void {
        if (removed) return;
        removeDir(dir, label);
        removed = true;
      },
    };
  }
}

const RETRY_MS = 10;
const WAIT_MS = 2000;

function removeDir(dir: string, label: string): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited += RETRY_MS) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY: a task has exited but is still leaving the cgroup (or a process is still in it).
      if (code !== 'EBUSY' || waited >= WAIT_MS) {
        const procs = readProcs(dir);
        const why = code === 'EBUSY' ? `still in use${procs ? ` by pids ${procs}` : ''} after ${WAIT_MS} ms` : (e as Error).message;
        throw new EunomiaError(ErrorCodes.IO, `${label}: remove cgroup ${dir}: ${why}`, { cause: e });
      }
      Atomics.wait(sleeper, 0, 0, RETRY_MS); // remove() is synchronous: used on exit paths
    }
  }
}

function readProcs(dir: string): string {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').join(', ');
  } catch {
    return '';
  }
}
