/**
 * containerd's gRPC API over its unix socket, for Kubernetes nodes (CRI keeps its containers
 * in namespace "k8s.io"). Only the calls Eunomia needs, declared in ./proto/*.proto.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ErrorCodes, EunomiaError } from '../core/errors.js';
import { k8sFromLabels } from './k8s.js';
import type { ContainerInfo, RuntimeClient, RuntimeEvent, RuntimeWatch } from './types.js';

export interface ContainerdOptions {
  socket?: string;
  /** containerd namespaces to report; "moby" (Docker's own) is always skipped. */
  namespaces?: string[];
  /** Per-call deadline for unary calls. */
  timeoutMs?: number;
}

// Decoded messages (keepCase: field names as in the .proto files).
interface PbAny {
  type_url?: string;
  value?: Uint8Array;
  '@type'?: string; // set instead when the payload's type is in our protos (json: true)
  [field: string]: unknown;
}
interface PbContainer {
  id: string;
  labels: Record<string, string>;
  image: string;
  spec?: PbAny | null;
}
interface PbProcess {
  id: string;
  pid: number;
  status: string;
}
interface PbEnvelope {
  timestamp?: { seconds: number; nanos: number } | null;
  namespace: string;
  topic: string;
  event?: PbAny | null;
}

type Callback = (err: grpc.ServiceError | null, res?: unknown) => void;
type UnaryMethod = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;
type StreamMethod = (req: object, md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

const TOPICS: Record<string, RuntimeEvent['action']> = {
  '/containers/create': 'create',
  '/tasks/start': 'start',
  // Exit of the init process is the container's death. /tasks/delete is not watched: it
  // follows the exit (a second "die"), or a task that never started.
  '/tasks/exit': 'die',
  '/containers/delete': 'destroy',
};

let loaded: grpc.GrpcObject | undefined;

/** The .proto files: tsc does not copy them to dist/, so from dist/src/containers use the package's src/ (shipped, see package.json "files"). */
function api(): grpc.GrpcObject {
  if (loaded) return loaded;
  const dir = ['./proto/', '../../../src/containers/proto/']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((d) => existsSync(join(d, 'containers.proto')));
  if (!dir) throw new EunomiaError(ErrorCodes.RUNTIME, 'containerd .proto files not found next to the code (src/containers/proto): reinstall Eunomia');
  const files = ['containers.proto', 'tasks.proto', 'events.proto', 'event-types.proto', 'version.proto'].map((f) => join(dir, f));
  // json: decode event payloads (google.protobuf.Any) by type_url, all files in one root.
  const def = protoLoader.loadSync(files, { keepCase: true, longs: Number, enums: String, defaults: true, json: true });
  return (loaded = grpc.loadPackageDefinition(def));
}

function service(path: string): grpc.ServiceClientConstructor {
  let o: unknown = api();
  for (const part of path.split('.')) o = (o as Record<string, unknown>)[part];
  return o as grpc.ServiceClientConstructor;
}

function detail(e: unknown): string {
  const d = (e as grpc.ServiceError)?.details || (e as Error)?.message || String(e);
  return d.replace(/\s*Resolution note:\s*\.?$/, ''); // grpc-js's empty trailer
}

/** What the container's OCI spec says that matters to the rules. */
function specFacts(spec: PbAny | null | undefined): { privileged: boolean; hostMounts: string[] } {
  const none = { privileged: false, hostMounts: [] };
  if (!spec?.value?.length) return none;
  try {
    const oci = JSON.parse(Buffer.from(spec.value).toString('utf8')) as {
      process?: { capabilities?: { bounding?: string[]; effective?: string[] } };
      linux?: { resources?: { devices?: { allow?: boolean; type?: string; major?: number; minor?: number }[] } };
      mounts?: { type?: string; source?: string; options?: string[] }[];
    };
    // Bind mounts: type "bind", or (older specs) type "none" with a bind option.
    const hostMounts = (oci.mounts ?? [])
      .filter((m) => typeof m.source === 'string' && (m.type === 'bind' || m.options?.includes('bind') || m.options?.includes('rbind')))
      .map((m) => m.source!);
    // Privileged ≈ CAP_SYS_ADMIN and every device allowed: what `--privileged` (ctr, Docker, CRI) sets.
    const caps = oci.process?.capabilities;
    if (!(caps?.bounding ?? caps?.effective ?? []).includes('CAP_SYS_ADMIN')) return { privileged: false, hostMounts };
    // Device rules apply in order: the last rule covering all devices decides.
    const all = (oci.linux?.resources?.devices ?? []).filter(
      (d) => (!d.type || d.type === 'a') && d.major === undefined && d.minor === undefined,
    );
    return { privileged: all.at(-1)?.allow === true, hostMounts };
  } catch {
    return none; // not a JSON OCI spec (another runtime's spec type)
  }
}

export class ContainerdClient implements RuntimeClient {
  readonly runtime = 'containerd' as const;
  readonly socket: string;
  readonly namespaces: string[];
  private readonly timeoutMs: number;
  private channel?: grpc.Channel;
  private clients = new Map<string, grpc.Client>();

  constructor({ socket = '/run/containerd/containerd.sock', namespaces = ['k8s.io'], timeoutMs = 5000 }: ContainerdOptions = {}) {
    this.socket = socket;
    // Docker's containers live in "moby" and are reported by the Docker client.
    this.namespaces = [...new Set(namespaces)].filter((ns) => ns !== 'moby');
    this.timeoutMs = timeoutMs;
  }

  /** Closes the connection (also fine to leave open: grpc-js does not keep the process alive when idle). */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.channel?.close();
    this.channel = undefined;
  }

  private client(path: string): grpc.Client {
    let c = this.clients.get(path);
    if (!c) {
      // One connection for every service; containerd answers up to 16 MiB (specs make List big).
      this.channel ??= new grpc.Channel(`unix:${this.socket}`, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': 16 << 20,
      });
      c = new (service(path))('unused', grpc.credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(path, c);
    }
    return c;
  }

  private unary<T>(path: string, method: string, req: object, ns?: string): Promise<T> {
    const md = new grpc.Metadata();
    if (ns) md.set('containerd-namespace', ns);
    return new Promise((resolve, reject) => {
      try {
        const c = this.client(path);
        const fn = (c as unknown as Record<string, UnaryMethod>)[method];
        fn.call(c, req, md, { deadline: Date.now() + this.timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
      } catch (e) {
        reject(e);
      }
    });
  }

  private fail(what: string, e: unknown): EunomiaError {
    if (e instanceof EunomiaError) return e;
    return new EunomiaError(ErrorCodes.RUNTIME, `containerd at ${this.socket}: ${what} failed: ${detail(e)}`, { cause: e });
  }

  async ping(): Promise<void> {
    try {
      await this.unary('containerd.services.version.v1.Version', 'Version', {});
    } catch (e) {
      throw new EunomiaError(
        ErrorCodes.RUNTIME,
        `containerd does not answer on ${this.socket}: ${detail(e)}. ` +
          'Check that containerd runs, that this is its socket, and that Eunomia runs as root.',
        { cause: e },
      );
    }
  }

  private info(c: PbContainer, task: PbProcess | undefined): ContainerInfo {
    const labels = c.labels ?? {};
    const state = task ? task.status.toLowerCase() : 'unknown';
    const out: ContainerInfo = {
      id: c.id,
      // containerd containers have no name; CRI puts the pod's container name in a label.
      name: labels['io.kubernetes.container.name'] || c.id,
      image: c.image,
      runtime: 'containerd',
      labels,
      state,
      privileged: false,
    };
    const facts = specFacts(c.spec);
    out.privileged = facts.privileged;
    if (facts.hostMounts.length) out.hostMounts = facts.hostMounts;
    if (task && task.pid && (state === 'running' || state === 'paused' || state === 'pausing')) out.pid = task.pid;
    const k8s = k8sFromLabels(labels);
    if (k8s) out.k8s = k8s;
    return out;
  }

  async list(): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = [];
    for (const ns of this.namespaces) {
      let containers: PbContainer[];
      let tasks: PbProcess[];
      try {
        [{ containers }, { tasks }] = await Promise.all([
          this.unary<{ containers: PbContainer[] }>('containerd.services.containers.v1.Containers', 'List', {}, ns),
          // One Tasks/List per namespace rather than a Tasks/Get per container.
          this.unary<{ tasks: PbProcess[] }>('containerd.services.tasks.v1.Tasks', 'List', {}, ns),
        ]);
      } catch (e) {
        throw this.fail(`listing containers in namespace ${ns}`, e);
      }
      const byId = new Map(tasks.map((t) => [t.id, t]));
      for (const c of containers) {
        // CRI pod sandboxes (pause containers) are not workloads.
        if (c.labels?.['io.cri-containerd.kind'] === 'sandbox') continue;
        out.push(this.info(c, byId.get(c.id)));
      }
    }
    return out;
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    for (const ns of this.namespaces) {
      try {
        const { container } = await this.unary<{ container: PbContainer }>(
          'containerd.services.containers.v1.Containers', 'Get', { id }, ns);
        let task: PbProcess | undefined;
        try {
          ({ process: task } = await this.unary<{ process: PbProcess }>('containerd.services.tasks.v1.Tasks', 'Get', { container_id: id }, ns));
        } catch (e) {
          if ((e as grpc.ServiceError).code !== grpc.status.NOT_FOUND) throw e; // NOT_FOUND: no task
        }
        return this.info(container, task);
      } catch (e) {
        if ((e as grpc.ServiceError).code === grpc.status.NOT_FOUND) continue;
        throw this.fail(`inspecting container ${id} in namespace ${ns}`, e);
      }
    }
    return undefined;
  }

  watch(onEvent: (ev: RuntimeEvent) => void): RuntimeWatch {
    // Events carry no labels, so CRI sandboxes are reported too (inspect() shows their
    // io.cri-containerd.kind label). Filters are OR-ed; within one, conditions are AND-ed.
    const filters = this.namespaces.flatMap((ns) => Object.keys(TOPICS).map((t) => `namespace==${JSON.stringify(ns)},topic==${JSON.stringify(t)}`));
    let closed = false;
    let call: grpc.ClientReadableStream<unknown> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const fail = (what: string, e?: unknown): void => reject(this.fail(what, e ?? new Error('stream ended')));
      if (!filters.length) return resolve(); // no namespace left to watch
      try {
        const c = this.client('containerd.services.events.v1.Events');
        call = (c as unknown as Record<string, StreamMethod>).Subscribe.call(c, { filters }, new grpc.Metadata(), {});
      } catch (e) {
        return fail('subscribing to events', e);
      }
      call.on('data', (env: PbEnvelope) => {
        const ev = closed ? undefined : toEvent(env);
        if (!ev) return;
        try {
          onEvent(ev);
        } catch {
          // A throwing handler must not end the stream.
        }
      });
      call.on('error', (e: grpc.ServiceError) => (closed ? resolve() : fail('event stream', e)));
      // A server-side end without error means containerd went away: reject so the caller reconnects.
      call.on('end', () => (closed ? resolve() : fail('event stream')));
    });
    done.catch(() => {}); // never an unhandled rejection if the caller does not await it
    return {
      close: () => {
        if (closed) return;
        closed = true;
        // Deferred: grpc-js 1.14 still opens the HTTP/2 stream of a call cancelled in the same
        // tick it was started, and that stream then keeps the process alive.
        setImmediate(() => call?.cancel());
      },
      done,
    };
  }
}

function toEvent(env: PbEnvelope): RuntimeEvent | undefined {
  const action = TOPICS[env.topic];
  const e = env.event;
  if (!action || !e?.['@type']) return undefined; // not a payload we declared
  // Task events name the container in container_id (their id is the exec id); container events in id.
  const id = String(e.container_id ?? e.id ?? '');
  if (!id) return undefined;
  // An exec'd process exiting is not the container dying.
  if (action === 'die' && e.id && e.id !== e.container_id) return undefined;
  const ts = env.timestamp;
  const ev: RuntimeEvent = { action, id, time: ts ? ts.seconds * 1000 + Math.floor(ts.nanos / 1e6) : Date.now() };
  if (action === 'create') ev.info = { id, image: String(e.image ?? ''), runtime: 'containerd' };
  else if (action === 'start' && e.pid) ev.info = { id, pid: Number(e.pid) };
  return ev;
}
