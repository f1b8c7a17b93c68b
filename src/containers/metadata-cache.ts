/**
 * What the runtimes said about each container (name, image, labels, …), bounded: removed
 * containers are kept a while for events still in flight, then evicted; callers can wait for a
 * container's full record. Fed by RuntimeConnections; knows nothing of cgroups or sockets.
 */
import { k8sFromLabels } from './k8s.js';
import { selects } from '../runtime/scope.js';
import type { ContainerInfo, RuntimeEvent } from './types.js';

export interface MetadataCacheOptions {
  /** Most containers remembered (dead ones are evicted first). Default 4096. */
  maxContainers?: number;
  /** How long a removed container is remembered, for events still in flight. Default 10 min. */
  keepRemovedMs?: number;
}

export type PutAction = RuntimeEvent['action'] | 'list' | 'inspect';

interface Entry {
  info: ContainerInfo;
  /** When the runtime reported it destroyed; undefined while it exists. */
  removedAt?: number;
}

export class MetadataCache {
  private readonly containers = new Map<string, Entry>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** `onPut` runs after every change, with the merged record (the resolver's 'container' event). */
  constructor(
    private readonly opts: MetadataCacheOptions,
    private readonly onPut: (info: ContainerInfo, action: PutAction) => void,
  ) {
    const sweep = setInterval(() => this.expire(), 60_000);
    sweep.unref();
    this.timers.add(sweep);
  }

  get(id: string): ContainerInfo | undefined {
    return this.containers.get(id)?.info;
  }

  /** Whether the runtime reported it destroyed (it is still remembered for a while). */
  isRemoved(id: string): boolean {
    return this.containers.get(id)?.removedAt !== undefined;
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

  /** Named, and the full record is in (not only a runtime event's fields). */
  complete(id: string): boolean {
    const info = this.containers.get(id)?.info;
    return !!info?.name && !info.partial;
  }

  /** Resolves with what is known once the record is complete (see put), or after `timeoutMs`. */
  wait(id: string, timeoutMs: number): Promise<ContainerInfo | undefined> {
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

  /** Stores a record (with `merge`, over what is known), wakes its waiters once complete. */
  put(info: ContainerInfo, action: PutAction, merge = false): void {
    const old = this.containers.get(info.id);
    const merged: ContainerInfo = merge && old ? { ...old.info, ...definedOnly(info), labels: { ...old.info.labels, ...info.labels } } : { ...info };
    const k8s = k8sFromLabels(merged.labels);
    if (k8s) merged.k8s = k8s;
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
    this.onPut(merged, action);
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

  /** Stops the sweep; whoever still waits gets what is known. */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const list of this.waiters.values()) for (const w of list) w();
    this.waiters.clear();
  }
}

/** The fields that say something: undefined and '' do not overwrite what is known. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') (out as Record<string, unknown>)[k] = v;
  return out;
}
