/**
 * Docker Engine API client over its unix socket; also speaks to Podman's Docker-compatible API.
 * node:http only, so Eunomia needs no Docker SDK.
 */
import http from 'node:http';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { k8sFromLabels } from './k8s.js';
import type { ContainerInfo, RuntimeClient, RuntimeEvent, RuntimeWatch } from './types.js';

export interface DockerClientOptions {
  /** Default /var/run/docker.sock (Podman: /run/podman/podman.sock). */
  socket?: string;
  runtime?: 'docker' | 'podman';
  /** Connect and whole-request limit for API calls; for watch(), the limit to get the stream's headers. */
  timeoutMs?: number;
}

/** Docker 20.10 and Podman's compat API both accept it; pinning it keeps the answers' shape stable. */
const API = '/v1.41';
/** Inspects in flight at once during list(): quick for 100 containers without flooding the daemon. */
const INSPECT_CONCURRENCY = 8;
/** An event line longer than this is garbage, not an event: dropped rather than buffered forever. */
const MAX_EVENT_LINE = 1 << 20;

const ACTIONS = new Set<RuntimeEvent['action']>(['create', 'start', 'die', 'destroy', 'rename', 'update']);
/** Event attributes that describe the event, not container labels (Podman adds containerExitCode and podId). */
const NOT_LABELS = new Set(['name', 'image', 'exitCode', 'signal', 'execID', 'oldName', 'containerExitCode', 'podId']);

interface InspectJson {
  Id?: unknown;
  Name?: unknown;
  Image?: unknown;
  Config?: { Image?: unknown; Labels?: unknown } | null;
  State?: { Status?: unknown; Pid?: unknown } | null;
  HostConfig?: { Privileged?: unknown } | null;
  Mounts?: { Type?: unknown; Source?: unknown }[] | null;
}

interface EventJson {
  Type?: unknown;
  Action?: unknown;
  id?: unknown;
  time?: unknown;
  timeNano?: unknown;
  Actor?: { ID?: unknown; Attributes?: unknown } | null;
}

export class DockerClient implements RuntimeClient {
  readonly runtime: 'docker' | 'podman';
  readonly socket: string;
  readonly timeoutMs: number;
  /** Event-stream lines that were not JSON event objects, skipped. */
  malformedEvents = 0;

  constructor({ socket = '/var/run/docker.sock', runtime = 'docker', timeoutMs = 5000 }: DockerClientOptions = {}) {
    this.socket = socket;
    this.runtime = runtime;
    this.timeoutMs = timeoutMs;
  }

  async ping(): Promise<void> {
    await this.request('/_ping');
  }

  async list(): Promise<ContainerInfo[]> {
    const path = '/containers/json?all=true';
    const rows = this.parse(path, (await this.request(path)).body);
    if (!Array.isArray(rows)) throw this.error(`GET ${path} answered ${kindOf(rows)}, not a list`);
    const ids = rows.map((r: { Id?: unknown }) => r?.Id);
    if (!ids.every((id): id is string => typeof id === 'string' && id !== '')) {
      throw this.error(`GET ${path} answered a container without an Id`);
    }
    // The list lacks Privileged and Pid, so each container is inspected; inspect is the one mapping.
    const out: (ContainerInfo | undefined)[] = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const i = next++;
        out[i] = await this.inspect(ids[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, ids.length) }, worker));
    // undefined: removed between the list and its inspect, so it no longer exists.
    return out.filter((c): c is ContainerInfo => c !== undefined);
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    if (!id) return undefined;
    const path = `/containers/${encodeURIComponent(id)}/json`;
    const res = await this.request(path, [404]);
    if (res.status === 404) return undefined;
    const c = this.parse(path, res.body) as InspectJson | null;
    if (typeof c !== 'object' || c === null || typeof c.Id !== 'string') {
      throw this.error(`GET ${path} answered ${kindOf(c)}, not a container`);
    }
    const labels = stringRecord(c.Config?.Labels);
    const info: ContainerInfo = {
      id: c.Id,
      name: typeof c.Name === 'string' ? c.Name.replace(/^\//, '') : '',
      image: str(c.Config?.Image) || str(c.Image),
      runtime: this.runtime,
      labels,
      state: str(c.State?.Status) || 'unknown',
      privileged: c.HostConfig?.Privileged === true,
    };
    const pid = c.State?.Pid;
    if (typeof pid === 'number' && pid > 0) info.pid = pid;
    const binds = Array.isArray(c.Mounts) ? c.Mounts.filter((m) => m?.Type === 'bind' && typeof m.Source === 'string').map((m) => m.Source as string) : [];
    if (binds.length) info.hostMounts = binds;
    const k8s = k8sFromLabels(labels);
    if (k8s) info.k8s = k8s;
    return info;
  }

  watch(onEvent: (ev: RuntimeEvent) => void): RuntimeWatch {
    const path = `/events?filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`;
    let closed = false;
    let settle!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      let settled = false;
      // First outcome wins: after close() has resolved `done`, the abort's own errors are ignored.
      settle = (err) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
    });
    const req = this.get(path);
    // Only the connect and headers are timed: the stream itself is idle whenever nothing happens.
    const connectTimer = setTimeout(() => req.destroy(timeoutError(this.timeoutMs)), this.timeoutMs);
    req.on('error', (e) => {
      clearTimeout(connectTimer);
      settle(this.connError(e));
    });
    const stop = (err?: Error): void => {
      settle(err);
      closed = true;
      clearTimeout(connectTimer);
      req.destroy();
    };

    req.on('response', (res) => {
      clearTimeout(connectTimer);
      res.setEncoding('utf8'); // decodes multi-byte characters split across chunks
      if (res.statusCode !== 200) {
        readAll(res).then((body) => stop(this.statusError(path, res.statusCode ?? 0, body)), () => undefined);
        return;
      }
      let buf = '';
      const line = (text: string): void => {
        if (closed || text.trim() === '') return;
        const ev = this.toEvent(text);
        if (!ev) return;
        try {
          onEvent(ev);
        } catch (e) {
          // The caller's bug: end the stream and hand it back through `done` rather than crash here.
          stop(e instanceof Error ? e : new Error(String(e)));
        }
      };
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          line(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
        if (buf.length > MAX_EVENT_LINE) {
          this.malformedEvents++;
          buf = '';
        }
      });
      res.on('end', () => {
        line(buf);
        settle();
      });
      // The daemon went away mid-stream (stopped, restarted): the caller reconnects.
      const broke = (why: string, cause?: unknown): void =>
        settle(this.error(`event stream GET ${path} broke off (${why}) — is the daemon still running?`, cause));
      res.on('error', (e) => broke(e.message, e));
      res.on('close', () => {
        if (!res.complete) broke('connection closed');
      });
    });

    return { done, close: () => stop() };
  }

  /** One event line → RuntimeEvent; undefined for malformed lines (counted) and actions not tracked. */
  private toEvent(text: string): RuntimeEvent | undefined {
    let e: EventJson;
    try {
      e = JSON.parse(text) as EventJson;
    } catch {
      this.malformedEvents++;
      return undefined;
    }
    const id = typeof e?.Actor?.ID === 'string' ? e.Actor.ID : e?.id;
    if (typeof e !== 'object' || e === null || typeof e.Action !== 'string' || typeof id !== 'string' || !id) {
      this.malformedEvents++;
      return undefined;
    }
    if (e.Type !== undefined && e.Type !== 'container') return undefined;
    // Podman's compat stream reports removal as "remove" where Docker says "destroy".
    const action = (e.Action === 'remove' ? 'destroy' : e.Action) as RuntimeEvent['action'];
    if (!ACTIONS.has(action)) return undefined; // exec_start: sh, kill, attach, health_status: …
    const time =
      typeof e.timeNano === 'number' ? Math.floor(e.timeNano / 1e6) : typeof e.time === 'number' ? e.time * 1000 : Date.now();
    const attrs = stringRecord(e.Actor?.Attributes);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (!NOT_LABELS.has(k)) labels[k] = v;
    const info: Partial<ContainerInfo> = { runtime: this.runtime, labels };
    if (attrs.name) info.name = attrs.name;
    if (attrs.image) info.image = attrs.image;
    const k8s = k8sFromLabels(labels);
    if (k8s) info.k8s = k8s;
    return { action, id, time, info };
  }

  /** GET API+path; rejects with E_RUNTIME unless the status is 200 or one of `ok`. */
  private request(path: string, ok: number[] = []): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = this.get(path);
      let timedOut: Error | undefined;
      const timer = setTimeout(() => req.destroy((timedOut = timeoutError(this.timeoutMs))), this.timeoutMs);
      // A timeout mid-body surfaces as a plain "aborted": report the timeout instead.
      const fail = (e: Error): void => {
        clearTimeout(timer);
        reject(this.connError(timedOut ?? e));
      };
      req.on('error', fail);
      req.on('response', (res) => {
        res.setEncoding('utf8');
        readAll(res).then((body) => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status === 200 || ok.includes(status)) resolve({ status, body });
          else reject(this.statusError(path, status, body));
        }, fail);
      });
    });
  }

  /** A fresh connection per call: cheap on a unix socket, and never a stale pooled one after a daemon restart. */
  private get(path: string): http.ClientRequest {
    // servername '': Node otherwise checks whether the host is an IP (for TLS, unused over a
    // unix socket), and compiling its IPv6 pattern took ~10 ms of the main thread at start.
    const opts = { socketPath: this.socket, path: API + path, agent: false, servername: '' };
    return http.get(opts);
  }

  private parse(path: string, body: string): unknown {
    try {
      return JSON.parse(body);
    } catch (e) {
      throw this.error(`GET ${path} answered malformed JSON (${(e as Error).message})`, e);
    }
  }

  private error(what: string, cause?: unknown): EunomiaError {
    const who = this.runtime === 'podman' ? 'Podman' : 'Docker';
    return new EunomiaError(ErrorCodes.RUNTIME, `${who} API at ${this.socket}: ${what}`, cause === undefined ? {} : { cause });
  }

  /** Socket-level failures, with what to do about each. */
  private connError(e: Error & { code?: string }): EunomiaError {
    const daemon = this.runtime === 'podman' ? 'is the Podman API service running (systemctl start podman.socket)?' : 'is dockerd running?';
    const hint =
      e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? daemon
      : e.code === 'EACCES' ? 'run as root or give this user access to the socket'
      : e.code === 'ETIMEDOUT' ? 'the daemon is not answering'
      : 'check the daemon';
    const msg = e.message.replace(` ${this.socket}`, '') || e.code || 'request failed';
    return this.error(`${msg} — ${hint}`, e);
  }

  private statusError(path: string, status: number, body: string): EunomiaError {
    let detail = body.trim().slice(0, 200);
    try {
      const m = (JSON.parse(body) as { message?: unknown })?.message;
      if (typeof m === 'string') detail = m;
    } catch {
      // not JSON: show the raw text
    }
    return this.error(`GET ${path} answered HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.on('data', (c: string) => (body += c));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' });
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Only the string-valued entries: labels and attributes are maps of strings; anything else is noise. */
function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  }
  return out;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}
