/**
 * The runtimes' APIs (Docker, Podman, containerd, …): list, watch and inspect, feeding the
 * metadata cache. A runtime that does not answer, or whose event stream ends, is retried in the
 * background with a growing delay.
 */
import { definedOnly, type MetadataCache } from './metadata-cache.js';
import type { ContainerInfo, RuntimeClient, RuntimeEvent, RuntimeName } from './types.js';

export interface RuntimeConnectionsOptions {
  /** Runtime APIs to use; each is retried in the background while it does not answer. */
  clients?: readonly RuntimeClient[];
  /** One line per state change (runtime found, lost, back). */
  log?: (line: string) => void;
  /** First retry delay after a runtime is lost; doubles up to 10 s. Default 500 ms. */
  retryMs?: number;
}

export class RuntimeConnections {
  private readonly up = new Set<RuntimeClient>();
  /** On-demand clients not connected yet (RuntimeClient.onDemand), and those connecting now. */
  private readonly standby = new Set<RuntimeClient>();
  private waking = 0;
  private readonly watches = new Map<RuntimeClient, { close(): void }>();
  private readonly lastError = new Map<RuntimeClient, string>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  errors = 0;
  private readonly log: (line: string) => void;

  /** `onChange` runs when a runtime comes up or goes away (what callers may have cached changed). */
  constructor(
    private readonly opts: RuntimeConnectionsOptions,
    private readonly cache: MetadataCache,
    private readonly onChange: () => void,
  ) {
    this.log = opts.log ?? (() => {});
  }

  /**
   * Connects to every runtime that answers (in parallel) and loads its containers; those that
   * do not answer are retried in the background. Resolves once each has answered or failed once.
   */
  async start(): Promise<void> {
    const all = this.opts.clients ?? [];
    for (const c of all) if (c.onDemand) this.standby.add(c);
    const clients = all.filter((c) => !c.onDemand);
    const first = await Promise.all(clients.map((c) => this.connect(c)));
    if (this.closed) return; // stopped meanwhile: nothing to report
    const failed = clients.filter((_, i) => !first[i]).map((c) => `${c.runtime} (${this.lastError.get(c)})`);
    if (clients.length > 0 && failed.length === clients.length) {
      this.log(`no container runtime answers — ${failed.join('; ')}: containers are known by id from their cgroups only, until one does`);
    } else if (failed.length > 0) {
      this.log(`not answering, retrying in the background: ${failed.join('; ')}`);
    }
  }

  /** Whether any runtime's API answers now. */
  get connected(): boolean {
    return this.up.size > 0;
  }

  /** Whether a runtime may be asked about a container (one answers, or one waits on demand). */
  get askable(): boolean {
    return this.up.size > 0 || this.standby.size > 0 || this.waking > 0;
  }

  /** Runtimes whose API answers now. */
  runtimes(): RuntimeName[] {
    return [...this.up].map((c) => c.runtime);
  }

  /**
   * Starts an inspect of an unknown container on each runtime that answers; when none knows it,
   * connects the on-demand ones (their list brings it in).
   */
  ensureKnown(id: string): void {
    if (this.cache.complete(id) || this.fetching.has(id) || !this.askable) return;
    const p = (async () => {
      for (const c of this.up) {
        try {
          const info = await c.inspect(id);
          if (info) {
            this.cache.put(info, 'inspect');
            return;
          }
        } catch {
          this.errors++;
        }
      }
      if (this.standby.size === 0) return;
      const waking = [...this.standby];
      this.standby.clear();
      this.log(`a container no connected runtime knows (${id.slice(0, 12)}): connecting ${waking.map((c) => `${c.runtime} at ${c.socket}`).join(', ')}`);
      this.waking++;
      const ok = await Promise.all(waking.map((c) => this.connect(c))).finally(() => this.waking--);
      const failed = waking.filter((_, i) => !ok[i]).map((c) => `${c.runtime} (${this.lastError.get(c)})`);
      if (failed.length > 0 && !this.closed) this.log(`not answering, retrying in the background: ${failed.join('; ')}`);
    })().finally(() => this.fetching.delete(id));
    this.fetching.set(id, p);
  }

  /** Ping, list, then watch; on any failure, retry later. Resolves true once connected. */
  private async connect(c: RuntimeClient, attempt = 0): Promise<boolean> {
    if (this.closed) return false;
    try {
      await c.ping();
      // Closed while it answered (the agent stops during its start): open nothing more.
      if (this.closed) return false;
      // Watch before listing, so nothing created between the two is missed.
      const events: RuntimeEvent[] = [];
      let listed = false;
      const w = c.watch((ev) => (listed ? this.onEvent(c, ev) : events.push(ev)));
      this.watches.set(c, w);
      const all = await c.list();
      if (this.closed) {
        w.close();
        return false;
      }
      for (const info of all) this.cache.put(info, 'list');
      listed = true;
      for (const ev of events) this.onEvent(c, ev);
      this.up.add(c);
      this.onChange();
      if (attempt > 0) this.log(`${c.runtime}: API at ${c.socket} answers again; ${all.length} containers`);
      w.done.then(
        () => this.lost(c, 'event stream ended'),
        (e: unknown) => this.lost(c, (e as Error).message),
      );
      return true;
    } catch (e) {
      this.errors++;
      this.watches.get(c)?.close();
      this.watches.delete(c);
      this.lastError.set(c, (e as Error).message);
      this.retry(c, attempt + 1);
      return false;
    }
  }

  private lost(c: RuntimeClient, why: string): void {
    this.up.delete(c);
    this.onChange();
    this.watches.delete(c);
    if (this.closed) return;
    this.errors++;
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
    const known = this.cache.get(ev.id);
    const base: ContainerInfo = known ?? { id: ev.id, name: '', image: '', runtime: c.runtime, labels: {}, state: 'unknown', privileged: false, partial: true };
    const info: ContainerInfo = { ...base, ...definedOnly(ev.info ?? {}), id: ev.id, labels: { ...base.labels, ...(ev.info?.labels ?? {}) } };
    if (ev.action === 'start') info.state = 'running';
    if (ev.action === 'die') {
      info.state = 'exited';
      delete info.pid;
    }
    this.cache.put(info, ev.action, true);
    // The event lacks pid and privileged: ask for the whole record.
    if (ev.action === 'create' || ev.action === 'start') {
      void c.inspect(ev.id).then(
        (full) => full && !this.cache.isRemoved(ev.id) && this.cache.put(full, 'inspect'),
        () => this.errors++,
      );
    }
  }

  /** Stops retrying and closes every event stream and client. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
    for (const c of this.opts.clients ?? []) c.close?.();
    this.up.clear();
    this.standby.clear();
  }
}
