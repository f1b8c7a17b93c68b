/**
 * Which container an event came from, and what that container is: a composition of the
 * cgroup index (cgroup id → container id, from the kernel and cgroupfs), the metadata cache
 * (names, images, labels; bounded) and the runtime connections that feed it (their APIs and
 * event streams, retried while they do not answer).
 */
import { EventEmitter } from 'node:events';
import { CgroupIndex, type CgroupIndexOptions } from './cgroup-index.js';
import { MetadataCache, type MetadataCacheOptions } from './metadata-cache.js';
import { RuntimeConnections, type RuntimeConnectionsOptions } from './runtime-connections.js';
import type { ContainerInfo, RuntimeName } from './types.js';

export type { CgroupLookup } from './cgroup-index.js';

export interface ResolverOptions extends CgroupIndexOptions, MetadataCacheOptions, RuntimeConnectionsOptions {}

export interface ResolverStats {
  containers: number;
  cgroupsKnown: number;
  /** Lookups answered by the kernel's record of new cgroups. */
  kernelLookups: number;
  cgroupRescans: number;
  runtimeErrors: number;
  /** Runtimes whose API answers now. */
  runtimes: RuntimeName[];
}

/** Settles when `p` does or after `ms`, whichever is first. */
function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return Promise.race([p.then(() => undefined, () => undefined), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Emits 'container' (info: ContainerInfo, action: RuntimeEvent['action'] | 'list' | 'inspect')
 * whenever it learns something about a container.
 */
export class ContainerResolver extends EventEmitter {
  private readonly index: CgroupIndex;
  /** The index's own map, held here so a hit in containerOfCgroup is one Map.get, as before the split. */
  private readonly cgroups: Map<number, string | null>;
  private readonly cache: MetadataCache;
  private readonly conns: RuntimeConnections;
  private gen = 0;
  /** The first round of runtime connections, while under way. */
  private starting?: Promise<void>;

  constructor(private readonly opts: ResolverOptions = {}) {
    super();
    this.index = new CgroupIndex(opts);
    this.cgroups = this.index.byCgroup;
    this.cache = new MetadataCache(opts, (info, action) => {
      this.gen++;
      this.emit('container', info, action);
    });
    this.conns = new RuntimeConnections(opts, this.cache, () => this.gen++);
  }

  /**
   * Connects to every runtime that answers (in parallel) and loads its containers; those that
   * do not answer are retried in the background. Resolves once each has answered or failed once.
   */
  start(): Promise<void> {
    const p = this.conns.start();
    this.starting = p;
    void p.finally(() => {
      if (this.starting === p) this.starting = undefined;
    });
    return p;
  }

  /** Changes whenever anything the resolver answers may have changed (for callers' caches). */
  get generation(): number {
    return this.gen;
  }

  /** Whether any runtime's API answers now. */
  get connected(): boolean {
    return this.conns.connected;
  }

  /** Whether a runtime may be asked about a container (one answers, or one waits on demand). */
  get askable(): boolean {
    return this.conns.askable;
  }

  /** Runtimes whose API answers now. */
  runtimes(): RuntimeName[] {
    return this.conns.runtimes();
  }

  /** When a task entered its container, from the kernel (see CgroupLookup.enteredAt); undefined without it. */
  enteredAt(tid: number, pid: number): number | undefined {
    return this.opts.watcher?.enteredAt?.(tid, pid);
  }

  // ---- cgroups → container ids (synchronous: the pipeline's hot path) ----

  /** Full id of the container a cgroup belongs to, or null for the host. */
  containerOfCgroup(cgroupId: number): string | null {
    const hit = this.cgroups.get(cgroupId);
    if (hit !== undefined) return hit;
    const id = this.index.resolve(cgroupId);
    if (id) this.conns.ensureKnown(id);
    return id;
  }

  /** The v2 cgroup ids of a container's cgroups that exist now (for the kernel filters). */
  cgroupsOf(containerId: string): number[] {
    return this.index.cgroupsOf(containerId);
  }

  /** Every container cgroup known now: v2 id → container id. */
  containerCgroups(): Map<number, string> {
    return this.index.containerCgroups();
  }

  // ---- metadata ----

  get(id: string): ContainerInfo | undefined {
    return this.cache.get(id);
  }

  /** Containers matching a name or id prefix. */
  find(selector: string): ContainerInfo[] {
    return this.cache.find(selector);
  }

  /** Containers the runtimes report, not yet removed. */
  list(): ContainerInfo[] {
    return this.cache.list();
  }

  /** Whether metadata for this container is complete enough to show (it has a name). */
  hasName(id: string): boolean {
    return !!this.cache.get(id)?.name;
  }

  /**
   * Resolves when the container's name and full record (privileges, mounts) are known, or after `timeoutMs` (then with what is
   * known, perhaps nothing). Asks the runtimes if no fetch is under way.
   */
  waitFor(id: string, timeoutMs: number): Promise<ContainerInfo | undefined> {
    // Started in the background (the agent does not wait for the runtimes before its trackers
    // attach): an event that comes first waits for their first answer, within its own time.
    const starting = this.starting;
    if (starting && timeoutMs > 0) {
      const t0 = Date.now();
      return within(starting, timeoutMs).then(() => (this.starting === starting ? this.cache.get(id) : this.waitFor(id, timeoutMs - (Date.now() - t0))));
    }
    if (this.cache.complete(id) || !this.conns.askable) return Promise.resolve(this.cache.get(id));
    this.conns.ensureKnown(id);
    return this.cache.wait(id, timeoutMs);
  }

  stats(): ResolverStats {
    return {
      containers: this.cache.list().length,
      cgroupsKnown: this.cgroups.size,
      kernelLookups: this.index.kernelLookups,
      cgroupRescans: this.index.rescans,
      runtimeErrors: this.conns.errors,
      runtimes: this.conns.runtimes(),
    };
  }

  /** Runtimes first (no more records come in), then the cache releases whoever waits. */
  close(): void {
    this.conns.close();
    this.cache.close();
  }
}
