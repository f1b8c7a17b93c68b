/**
 * cgroup v2 id → container id, from the kernel's facts alone: runtimes name a container's
 * cgroup after its id. Cgroups that exist at start are read from cgroupfs; newer ones are
 * recorded in the kernel as they are made (CgroupWatcher), so a process that lived a
 * millisecond, or a container already gone, still resolves. Knows nothing of runtime APIs.
 */
import { cgroup2Root, containerFromPath, scanCgroups } from './cgroup.js';

/** Synchronous cgroup id → container id, from the kernel (see watcher.ts). */
export interface CgroupLookup {
  containerOf(cgroupId: number): string | undefined;
  /** When a task entered its container: monotonic ns, 0 not yet, undefined unknown (watcher.ts). */
  enteredAt?(tid: number, pid: number): number | undefined;
}

export interface CgroupIndexOptions {
  watcher?: CgroupLookup;
  /** cgroup v2 mount point; default: found in /proc/self/mountinfo. */
  cgroupRoot?: string;
}

const HOST = null;
const MAX_CGROUP_CACHE = 65536;

export class CgroupIndex {
  /**
   * cgroup id → container id, or null for the host. Cgroup ids are never reused, so entries
   * stay true. Read directly by ContainerResolver.containerOfCgroup (a hit is one Map.get);
   * only cleared, never replaced, so that reference stays valid.
   */
  readonly byCgroup = new Map<number, string | null>();
  private readonly root: string | undefined;
  private highestScanned = 0;
  private lastScan = 0;
  kernelLookups = 0;
  rescans = 0;

  constructor(private readonly opts: CgroupIndexOptions = {}) {
    this.root = opts.cgroupRoot ?? cgroup2Root();
    this.rescan();
  }

  /** A cgroup not in byCgroup: asks the kernel's record, else cgroupfs; the answer is kept. */
  resolve(cgroupId: number): string | null {
    let id: string | null = HOST;
    const fromKernel = this.opts.watcher?.containerOf(cgroupId);
    if (fromKernel) {
      this.kernelLookups++;
      id = fromKernel;
    } else if (cgroupId <= this.highestScanned || !this.opts.watcher) {
      // Older than our scan, or no kernel record to rely on: cgroupfs may know it now.
      // Rescans are rate-limited; a cgroup missed meanwhile counts as host.
      if (Date.now() - this.lastScan > 1000) this.rescan();
      id = this.byCgroup.get(cgroupId) ?? HOST;
    }
    // else: made after the scan and not recorded by the kernel as a container → host.
    if (this.byCgroup.size >= MAX_CGROUP_CACHE) this.byCgroup.clear();
    this.byCgroup.set(cgroupId, id);
    return id;
  }

  rescan(): void {
    this.lastScan = Date.now();
    if (!this.root) return;
    this.rescans++;
    for (const [cg, path] of scanCgroups(this.root)) {
      const c = containerFromPath(path);
      this.byCgroup.set(cg, c ? c.id : HOST);
      if (cg > this.highestScanned) this.highestScanned = cg;
    }
  }

  /** The v2 cgroup ids of a container's cgroups that exist now (for the kernel filters). */
  cgroupsOf(containerId: string): number[] {
    if (Date.now() - this.lastScan > 100) this.rescan();
    const out: number[] = [];
    for (const [cg, id] of this.byCgroup) if (id === containerId) out.push(cg);
    return out;
  }

  /** Every container cgroup known now: v2 id → container id. */
  containerCgroups(): Map<number, string> {
    this.rescan();
    const out = new Map<number, string>();
    for (const [cg, id] of this.byCgroup) if (id) out.set(cg, id);
    return out;
  }
}
