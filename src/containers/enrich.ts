/**
 * The pipeline stage that adds `container` (and `k8s`) to every event with a cgroup id.
 *
 * What a container runtime does in a container's cgroup while it sets the container up or
 * enters it for an exec (runc/crun init before it executes the entrypoint or the command:
 * its mounts, its re-execution of itself from a copy) is the runtime's, not the container's:
 * such events get the host's `container` with `setup` naming the container (see settingUp).
 *
 * An event from a container whose name is not known yet (it was created a moment ago and the
 * runtime's answer is on its way) waits for it, up to `waitMs`; events behind it wait too,
 * so order is kept. Everything else passes straight through: two map lookups per event.
 */
import { systemClock } from '../core/clock.js';
import { hostMntNs } from '../core/kernel.js';
import { withJsonText } from '../exporters/index.js';
import type { Emit, Handler, TrackerEvent } from '../pipeline/types.js';
import type { ContainerResolver } from './resolver.js';
import type { ContainerInfo } from './types.js';

export interface ContainerField {
  /** Short id (12 characters, as `docker ps` shows), or "host". */
  id: string;
  /** Full id; "host" for host processes. */
  full_id: string;
  name: string;
  image?: string;
  runtime?: string;
  /** Present (true) only for a privileged container (Docker's --privileged). */
  privileged?: true;
  /** On a runtime's event (id "host"): the container it was setting up or entering. */
  setup?: ContainerField;
  /**
   * Host paths bind-mounted into the container. Not enumerable: rules read it, outputs do not
   * repeat a list of paths on every event (Kubernetes pods have several).
   */
  readonly host_mounts?: string[];
}

export interface K8sField {
  namespace?: string;
  pod?: string;
  pod_uid?: string;
  container?: string;
}

/** Host processes, as Falco marks them: id and name "host". */
export const HOST_CONTAINER: Readonly<ContainerField> = withJsonText({ id: 'host', full_id: 'host', name: 'host' });

export interface EnrichOptions {
  /** Longest an event waits for a new container's metadata. Default 2000 ms. */
  waitMs?: number;
  /** Events held at most; beyond that the oldest go on without a name. Default 10000. */
  maxPending?: number;
}

export interface EnrichStats {
  /** Events given a container (not host). */
  inContainers: number;
  /** Events that waited for metadata. */
  waited: number;
  /** Events that went on without the container's name (none came in time, or the queue was full). */
  withoutName: number;
  /** Events waiting now. */
  pending: number;
  /** Events of a container runtime setting a container up, given the host with `setup`. */
  runtimeSetup: number;
}

export interface EnrichHandler extends Handler {
  stats(): EnrichStats;
}

/** What one cgroup's events get; valid while the resolver's generation is unchanged. */
interface Cached {
  container: ContainerField;
  k8s?: K8sField;
  /** Not the host. */
  inContainer: boolean;
  named: boolean;
  /** Can go on now: named, or no runtime to wait for (valid for the generation it was built in). */
  ready: boolean;
  /** The field for the runtime's events in this container's cgroup, made on first use. */
  setup?: ContainerField;
}

/**
 * Whether an event from a container's cgroup comes from the runtime setting it up rather than
 * from its workload. Until the runtime's init executes the entrypoint (or the exec'd command)
 * it is either still in the host's mount namespace or runs the runtime's own binary from
 * outside the container's (`foreign_exe`: the host's file, a bind-mounted copy, a memfd).
 * Either is also what a workload could do later (run a memfd, nsenter the host): the kernel's
 * record of when the task entered its container tells them apart. Without that record
 * (no kernel watcher, or a task it lost), the event is the runtime's.
 */
function settingUp(data: Record<string, unknown>, time: number, resolver: ContainerResolver, hostMnt: number): boolean {
  return outsideItsRoot(data, hostMnt) && enteredLater(data, time, resolver);
}

/** The cheap half of settingUp, false for almost every event (the workload's): small enough for V8 to inline where the per-event path calls it. */
const outsideItsRoot = (data: Record<string, unknown>, hostMnt: number): boolean => data.foreign_exe === 1 || data.mnt_ns === hostMnt;

/** The task had not entered its container (its first exec of the container's own binary) by the event's time. */
function enteredLater(data: Record<string, unknown>, time: number, resolver: ContainerResolver): boolean {
  const pid = data.pid;
  if (typeof pid !== 'number') return false;
  const at = resolver.enteredAt(typeof data.tid === 'number' ? data.tid : pid, pid);
  return !at || systemClock().wallMs(at) > time;
}

export function containerField(id: string, info: ContainerInfo | undefined): ContainerField {
  const f: ContainerField = { id: id.slice(0, 12), full_id: id, name: info?.name ?? '' };
  if (info?.image) f.image = info.image;
  if (info?.runtime) f.runtime = info.runtime;
  if (info?.privileged) f.privileged = true;
  if (info?.hostMounts?.length) Object.defineProperty(f, 'host_mounts', { value: Object.freeze([...info.hostMounts]), enumerable: false });
  return f;
}

function k8sField(info: ContainerInfo | undefined): K8sField | undefined {
  const k = info?.k8s;
  if (!k) return undefined;
  const f: K8sField = {};
  if (k.namespace) f.namespace = k.namespace;
  if (k.pod) f.pod = k.pod;
  if (k.podUid) f.pod_uid = k.podUid;
  if (k.container) f.container = k.container;
  return f;
}

export function enrichHandler(resolver: ContainerResolver, opts: EnrichOptions = {}): EnrichHandler {
  const waitMs = opts.waitMs ?? 2000;
  const maxPending = opts.maxPending ?? 10_000;
  // cgroup id → fields: the hot path is one Map lookup and two property stores.
  const byCgroup = new Map<number, Cached>();
  let generation = -1;
  const queue: { ev: TrackerEvent; cg: number | undefined }[] = [];
  let downstream: Emit | undefined;
  let draining = false;
  const st = { inContainers: 0, waited: 0, withoutName: 0, runtimeSetup: 0 };
  const hostMnt = hostMntNs();

  const build = (id: string | null): Cached => {
    if (id === null) return { container: HOST_CONTAINER, inContainer: false, named: true, ready: true };
    const info = resolver.get(id);
    // Shared by all of this container's events: frozen, with their JSON text made once.
    // Named, with the full record: rules at a container's first exec read its privileges and mounts.
    const named = !!info?.name && !info.partial;
    const c: Cached = { container: withJsonText(containerField(id, info)), inContainer: true, named, ready: named || !resolver.askable };
    const k8s = k8sField(info);
    if (k8s) c.k8s = withJsonText(k8s);
    return c;
  };

  // Events come in runs from one cgroup: the last answer is checked before the map.
  let lastCg = -1;
  let last: Cached | undefined;

  /** The fields for a cgroup, from the cache while nothing changed. */
  const lookup = (cg: number): Cached => {
    if (resolver.generation !== generation) {
      byCgroup.clear();
      generation = resolver.generation;
      lastCg = -1;
    } else if (cg === lastCg) {
      return last!;
    }
    let c = byCgroup.get(cg);
    if (c === undefined) {
      c = build(resolver.containerOfCgroup(cg));
      // Building may have changed the generation (a new container to fetch): cache under the new one.
      if (resolver.generation !== generation) {
        byCgroup.clear();
        generation = resolver.generation;
      }
      if (byCgroup.size >= 16384) byCgroup.clear();
      byCgroup.set(cg, c);
    }
    lastCg = cg;
    last = c;
    return c;
  };

  /** A runtime's event in a container's cgroup: the host, naming the container it sets up. */
  const applySetup = (data: Record<string, unknown>, c: Cached): void => {
    st.runtimeSetup++;
    c.setup ??= withJsonText({ ...HOST_CONTAINER, setup: c.container });
    data.container = c.setup;
  };

  const apply = (ev: TrackerEvent, c: Cached): void => {
    if (c.inContainer && settingUp(ev.data, ev.time, resolver, hostMnt)) return applySetup(ev.data, c);
    if (c.inContainer) {
      st.inContainers++;
      if (!c.named) st.withoutName++;
    }
    ev.data.container = c.container;
    if (c.k8s) ev.data.k8s = c.k8s;
  };

  /** Must this cgroup's event wait for its container's name? */
  const mustWait = (c: Cached): boolean => !c.ready;

  const release = (q: { ev: TrackerEvent; cg: number | undefined }): void => {
    if (q.cg !== undefined) apply(q.ev, lookup(q.cg));
    downstream!(q.ev);
  };

  /** Sends queued events in order, waiting for each unnamed container in turn. */
  const drain = async (): Promise<void> => {
    draining = true;
    try {
      while (queue.length > 0) {
        const head = queue[0]!;
        if (head.cg !== undefined) {
          const c = lookup(head.cg);
          if (mustWait(c)) await resolver.waitFor(c.container.full_id, waitMs);
        }
        // Send everything now resolvable, up to the next container still unnamed.
        while (queue.length > 0) {
          const q = queue[0]!;
          if (q !== head && q.cg !== undefined && mustWait(lookup(q.cg))) break;
          queue.shift();
          release(q);
        }
      }
    } finally {
      draining = false;
    }
  };

  /** Events that wait, or come behind one that waits. */
  const slow = (ev: TrackerEvent, next: Emit, cg: number | undefined): void => {
    downstream = next;
    if (queue.length === 0) {
      if (cg === undefined) return next(ev);
      const c = lookup(cg);
      if (c.ready) {
        apply(ev, c);
        return next(ev);
      }
      st.waited++;
    } else if (cg !== undefined && mustWait(lookup(cg))) {
      st.waited++;
    }
    queue.push({ ev, cg });
    if (queue.length > maxPending) release(queue.shift()!);
    if (!draining) void drain();
  };

  return {
    name: 'containers',
    // The hot path, kept small: a known cgroup with nothing queued.
    handle(ev, next) {
      const data = ev.data;
      const cg = data.cgroup_id;
      if (typeof cg === 'number' && queue.length === 0) {
        let c: Cached | undefined;
        if (resolver.generation === generation) c = cg === lastCg ? last : byCgroup.get(cg);
        if (c === undefined) c = lookup(cg);
        if (c.ready) {
          if (c.inContainer) {
            if (outsideItsRoot(data, hostMnt) && enteredLater(data, ev.time, resolver)) {
              applySetup(data, c);
              return next(ev);
            }
            st.inContainers++;
            if (!c.named) st.withoutName++;
          }
          data.container = c.container;
          if (c.k8s !== undefined) data.k8s = c.k8s;
          return next(ev);
        }
      }
      slow(ev, next, typeof cg === 'number' ? cg : undefined);
    },
    stats: () => ({ ...st, pending: queue.length }),
    async close() {
      // Closing: whatever still waits goes on with what is known.
      while (queue.length > 0) release(queue.shift()!);
    },
  };
}
