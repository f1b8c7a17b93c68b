/**
 * Which container an event came from, and what that container is.
 *
 * Kernel facts first: every event carries its task's cgroup v2 id, and runtimes name a
 * container's cgroup after its id. Cgroups that exist at start are read from cgroupfs; newer
 * ones are recorded in the kernel as they are made (CgroupWatcher), so a process that lived
 * a millisecond, or a container already gone, still resolves. Names, images and labels come
 * from the runtimes' APIs, kept current from their event streams.
 */
import { EventEmitter } from 'node:events';
import { cgroup2Root, containerFromPath, scanCgroups } from './cgroup.js';
import { k8sFromLabels } from './k8s.js';
import { selects } from '../runtime/scope.js';
import type { ContainerInfo, RuntimeClient, RuntimeEvent, RuntimeName } from './types.js';

/** Synchronous cgroup id → container id, from the kernel (see watcher.ts). */
export interface CgroupLookup {
  containerOf(cgroupId: number): string | undefined;
  /** When a task entered its container: monotonic ns, 0 not yet, undefined unknown (watcher.ts). */
  enteredAt?(tid: number, pid: number): number | undefined;
}

export interface ResolverOptions {
  /** Runtime APIs to use; each is retried in the background while it does not answer. */
  clients?: readonly RuntimeClient[];
  watcher?: CgroupLookup;
  /** cgroup v2 mount point; default: found in /proc/self/mountinfo. */
  cgroupRoot?: string;
  /** Most containers remembered (dead ones are evicted first). Default 4096. */
  maxContainers?: number;
  /** How long a removed container is remembered, for events still in flight. Default 10 min. */
  keepRemovedMs?: number;
  /** One line per state change (runtime found, lost, back). */
  log?: (line: string) => void;
  /** First retry delay after a runtime is lost; doubles up to 10 s. Default 500 ms. */
  retryMs?: number;
}

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

interface Entry {
  info: ContainerInfo;
  /** When the runtime reported it destroyed; undefined while it exists. */
  removedAt?: number;
}

const HOST = null;
const MAX_CGROUP_CACHE = 65536;

/**
 * Emits 'container' (info: ContainerInfo, action: RuntimeEvent['action'] | 'list') whenever
 * it learns something about a container.
 */
export class ContainerResolver extends EventEmitter {
  private readonly containers = new Map<string, Entry>();
  /** cgroup id → container id, or HOST. Cgroup ids are never reused, so entries stay true. */
  private readonly cgroups = new Map<number, string | null>();
  private readonly root: string | undefined;
  private highestScanned = 0;
  private lastScan = 0;
  private readonly up = new Set<RuntimeClient>();
  private readonly watches = new Map<RuntimeClient, { close(): void }>();
  private readonly lastError = new Map<RuntimeClient, string>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private kernelLookups = 0;
  private gen = 0;
  private rescans = 0;
  private runtimeErrors = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: ResolverOptions = {}) {
    super();
    this.log = opts.log ?? (() => {});
    this.root = opts.cgroupRoot ?? cgroup2Root();
    this.rescan();
    const sweep = setInterval(() => this.expire(), 60_000);
    sweep.unref();
    this.timers.add(sweep);
  }

  /**
   * Connects to every runtime that answers (in parallel) and loads its containers; those that
   * do not answer are retried in the background. Resolves once each has answered or failed once.
   */
  async start(): Promise<void> {
    const clients = this.opts.clients ?? [];
    const first = await Promise.all(clients.map((c) => this.connect(c)));
    const failed = clients.filter((_, i) => !first[i]).map((c) => `${c.runtime} (${this.lastError.get(c)})`);
    if (clients.length > 0 && failed.length === clients.length) {
      this.log(`no container runtime answers — ${failed.join('; ')}: containers are known by id from their cgroups only, until one does`);
    } else if (failed.length > 0) {
      this.log(`not answering, retrying in the background: ${failed.join('; ')}`);
    }
  }

  /** Changes whenever anything the resolver answers may have changed (for callers' caches). */
  get generation(): number {
    return this.gen;
  }

  /** Whether any runtime's API answers now. */
  get connected(): boolean {
    return this.up.size > 0;
  }

  /** Runtimes whose API answers now. */
  runtimes(): RuntimeName[] {
    return [...this.up].map((c) => c.runtime);
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
    return this.resolveCgroup(cgroupId);
  }

  private resolveCgroup(cgroupId: number): string | null {
    let id: string | null = HOST;
    const fromKernel = this.opts.watcher?.containerOf(cgroupId);
    if (fromKernel) {
      this.kernelLookups++;
      id = fromKernel;
    } else if (cgroupId <= this.highestScanned || !this.opts.watcher) {
      // Older than our scan, or no kernel record to rely on: cgroupfs may know it now.
      // Rescans are rate-limited; a cgroup missed meanwhile counts as host.
      if (Date.now() - this.lastScan > 1000) this.rescan();
      id = this.cgroups.get(cgroupId) ?? HOST;
    }
    // else: made after the scan and not recorded by the kernel as a container → host.
    if (this.cgroups.size >= MAX_CGROUP_CACHE) this.cgroups.clear();
    this.cgroups.set(cgroupId, id);
    if (id) this.ensureKnown(id);
    return id;
  }

  private rescan(): void {
    this.lastScan = Date.now();
    if (!this.root) return;
    this.rescans++;
    for (const [cg, path] of scanCgroups(this.root)) {
      const c = containerFromPath(path);
      this.cgroups.set(cg, c ? c.id : HOST);
      if (cg > this.highestScanned) this.highestScanned = cg;
    }
  }

  /** The v2 cgroup ids of a container's cgroups that exist now (for the kernel filters). */
  cgroupsOf(containerId: string): number[] {
    if (Date.now() - this.lastScan > 100) this.rescan();
    const out: number[] = [];
    for (const [cg, id] of this.cgroups) if (id === containerId) out.push(cg);
    return out;
  }

  /** Every container cgroup known now: v2 id → container id. */
  containerCgroups(): Map<number, string> {
    this.rescan();
    const out = new Map<number, string>();
    for (const [cg, id] of this.cgroups) if (id) out.set(cg, id);
    return out;
  }

  // ---- metadata ----

  get(id: string): ContainerInfo | undefined {
    return this.containers.get(id)?.info;
  }

  /** Containers matching a name or id prefix. */
  find(selector: string): ContainerInfo[] {
    const out: ContainerInfo[] = [];
    for (const { info, removedAt } of this.containers.values()) {
      if (removedAt !== undefined) continue;
      if (selects(selector, info)) out.push(info);
    }
    return out;
  }

  /** Containers the runtimes report, not yet removed. */
  list(): ContainerInfo[] {
    return [...this.containers.values()].filter((e) => e.removedAt === undefined).map((e) => e.info);
  }

  /** Whether metadata for this container is complete enough to show (it has a name). */
  hasName(id: string): boolean {
    return !!this.containers.get(id)?.info.name;
  }

  /** Named, and the full record is in (not only a runtime event's fields). */
  private complete(id: string): boolean {
    const info = this.containers.get(id)?.info;
    return !!info?.name && !info.partial;
  }

  /**
   * Resolves when the container's name and full record (privileges, mounts) are known, or after `timeoutMs` (then with what is
   * known, perhaps nothing). Asks the runtimes if no fetch is under way.
   */
  waitFor(id: string, timeoutMs: number): Promise<ContainerInfo | undefined> {
    if (this.complete(id) || this.up.size === 0) return Promise.resolve(this.get(id));
    this.ensureKnown(id);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.timers.delete(t);
        resolve(this.get(id));
      };
      const t = setTimeout(() => {
        const list = this.waiters.get(id);
        if (list) {
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) this.waiters.delete(id);
        }
        done();
      }, timeoutMs);
      this.timers.add(t);
      const list = this.waiters.get(id) ?? [];
      list.push(done);
      this.waiters.set(id, list);
    });
  }

  /** Starts an inspect of an unknown container on each runtime that answers. */
  private ensureKnown(id: string): void {
    if (this.complete(id) || this.fetching.has(id) || this.up.size === 0) return;
    const p = (async () => {
      for (const c of this.up) {
        try {
          const info = await c.inspect(id);
          if (info) {
            this.put(info, 'inspect');
            return;
          }
        } catch {
          this.runtimeErrors++;
        }
      }
    })().finally(() => this.fetching.delete(id));
    this.fetching.set(id, p);
  }

  private put(info: ContainerInfo, action: RuntimeEvent['action'] | 'list' | 'inspect', merge = false): void {
    const old = this.containers.get(info.id);
    const merged: ContainerInfo = merge && old ? { ...old.info, ...definedOnly(info), labels: { ...old.info.labels, ...info.labels } } : { ...info };
    const k8s = k8sFromLabels(merged.labels);
    if (k8s) merged.k8s = k8s;
    this.gen++;
    this.containers.delete(info.id); // re-insert: Map order is then least recently changed first
    this.containers.set(info.id, { info: merged, removedAt: action === 'destroy' ? Date.now() : undefined });
    this.evict();
    if (merged.name && !merged.partial) {
      const list = this.waiters.get(info.id);
      if (list) {
        this.waiters.delete(info.id);
        for (const w of list) w();
      }
    }
    this.emit('container', merged, action);
  }

  private evict(): void {
    const max = this.opts.maxContainers ?? 4096;
    if (this.containers.size <= max) return;
    // Removed containers go first, then the least recently changed.
    for (const [id, e] of this.containers) {
      if (this.containers.size <= max) return;
      if (e.removedAt !== undefined) this.containers.delete(id);
    }
    for (const id of this.containers.keys()) {
      if (this.containers.size <= max) return;
      this.containers.delete(id);
    }
  }

  private expire(): void {
    const keep = this.opts.keepRemovedMs ?? 600_000;
    const now = Date.now();
    for (const [id, e] of this.containers) if (e.removedAt !== undefined && now - e.removedAt > keep) this.containers.delete(id);
  }

  // ---- runtimes ----

  /** Ping, list, then watch; on any failure, retry later. Resolves true once connected. */
  private async connect(c: RuntimeClient, attempt = 0): Promise<boolean> {
    if (this.closed) return false;
    try {
      await c.ping();
      // Watch before listing, so nothing created between the two is missed.
      const events: RuntimeEvent[] = [];
      let listed = false;
      const w = c.watch((ev) => (listed ? this.onEvent(c, ev) : events.push(ev)));
      this.watches.set(c, w);
      const all = await c.list();
      for (const info of all) this.put(info, 'list');
      listed = true;
      for (const ev of events) this.onEvent(c, ev);
      this.up.add(c);
      this.gen++;
      if (attempt > 0) this.log(`${c.runtime}: API at ${c.socket} answers again; ${all.length} containers`);
      w.done.then(
        () => this.lost(c, 'event stream ended'),
        (e: unknown) => this.lost(c, (e as Error).message),
      );
      return true;
    } catch (e) {
      this.runtimeErrors++;
      this.watches.get(c)?.close();
      this.watches.delete(c);
      this.lastError.set(c, (e as Error).message);
      this.retry(c, attempt + 1);
      return false;
    }
  }

  private lost(c: RuntimeClient, why: string): void {
    this.up.delete(c);
    this.gen++;
    this.watches.delete(c);
    if (this.closed) return;
    this.runtimeErrors++;
    this.log(`${c.runtime}: lost the API at ${c.socket} (${why}); retrying`);
    this.retry(c, 1);
  }

  private retry(c: RuntimeClient, attempt: number): void {
    if (this.closed) return;
    const delay = Math.min(10_000, (this.opts.retryMs ?? 500) * 2 ** Math.min(attempt - 1, 5));
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.connect(c, attempt);
    }, delay);
    t.unref();
    this.timers.add(t);
  }

  private onEvent(c: RuntimeClient, ev: RuntimeEvent): void {
    const known = this.containers.get(ev.id)?.info;
    const base: ContainerInfo = known ?? { id: ev.id, name: '', image: '', runtime: c.runtime, labels: {}, state: 'unknown', privileged: false, partial: true };
    const info: ContainerInfo = { ...base, ...definedOnly(ev.info ?? {}), id: ev.id, labels: { ...base.labels, ...(ev.info?.labels ?? {}) } };
    if (ev.action === 'start') info.state = 'running';
    if (ev.action === 'die') {
      info.state = 'exited';
      delete info.pid;
    }
    this.put(info, ev.action, true);
    // The event lacks pid and privileged: ask for the whole record.
    if (ev.action === 'create' || ev.action === 'start') {
      void c.inspect(ev.id).then(
        (full) => full && !this.containers.get(ev.id)?.removedAt && this.put(full, 'inspect'),
        () => this.runtimeErrors++,
      );
    }
  }

  stats(): ResolverStats {
    return {
      containers: this.list().length,
      cgroupsKnown: this.cgroups.size,
      kernelLookups: this.kernelLookups,
      cgroupRescans: this.rescans,
      runtimeErrors: this.runtimeErrors,
      runtimes: this.runtimes(),
    };
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
    for (const c of this.opts.clients ?? []) c.close?.();
    this.up.clear();
    for (const list of this.waiters.values()) for (const w of list) w();
    this.waiters.clear();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') (out as Record<string, unknown>)[k] = v;
  return out;
}
