/**
 * The web console (docs/console.md) on the API's own address: its built files (dist/console,
 * made by scripts/build-console.js at setup) at `/` and `/assets/`, the security headers on
 * every response of the API, and the two JSON routes the console needs that the rest of the
 * API lacks: GET /self (the agent's own figures) and GET /containers.
 *
 * The files are served without the token: they hold nothing secret, and every request the
 * page makes carries the token itself (a header, never a cookie, so another site cannot make
 * the browser send it). That is why registerConsole must be called before the token check is
 * added: its hook answers for the files and the check never sees them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Agent } from '../agent/agent.js';
import type { ContainerInfo } from '../containers/index.js';
import type { StoreStats } from '../store/types.js';
import { processMapMemory } from '../core/map-memory.js';

/** What the console's page may do: its own scripts, styles and API, nothing inline, no frames. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: [string, string][] = [
  ['content-security-policy', CONTENT_SECURITY_POLICY],
  ['x-content-type-options', 'nosniff'],
  // The page's address carries the console's filters: never sent on to another site.
  ['referrer-policy', 'no-referrer'],
];

/** Where scripts/build-console.js writes: from dist/src/server/ and from dist/bundle/cli/ alike. */
const DEFAULT_DIR = new URL('../../console/', import.meta.url);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
  cache: string;
}

/** Hashed names never change content; the page itself is asked again each time (it names the current ones). */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

function asset(body: Buffer, type: string, cache: string): Asset {
  return { body, gzip: gzipSync(body), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, cache };
}

/** Reads the built console once (a few files; it changes only when the agent is rebuilt). */
function loadAssets(dir: URL): Map<string, Asset> | string {
  const files = new Map<string, Asset>();
  try {
    files.set('/', asset(readFileSync(new URL('index.html', dir)), 'text/html; charset=utf-8', REVALIDATE));
    for (const name of readdirSync(new URL('assets/', dir))) {
      const ext = /\.[a-z]+$/.exec(name)?.[0] ?? '';
      const type = TYPES[ext];
      if (type) files.set(`/assets/${name}`, asset(readFileSync(new URL(`assets/${name}`, dir)), type, IMMUTABLE));
    }
  } catch (e) {
    return `the console is not built (${(e as Error).message}): run "npm run setup" (scripts/build-console.js)`;
  }
  return files;
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  reply.header('cache-control', a.cache).header('etag', a.etag).header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  reply.type(a.type);
  if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(a.gzip);
  return reply.send(a.body);
}

// ---------------------------------------------------------------- GET /self

interface CpuReading {
  wall: number;
  usage: NodeJS.CpuUsage;
}

function cpuPercent(from: CpuReading, to: CpuReading): number {
  const wall = to.wall - from.wall;
  const cpu = (to.usage.user - from.usage.user + to.usage.system - from.usage.system) / 1000;
  return wall > 0 ? Math.round((cpu / wall) * 1000) / 10 : 0;
}

/** Sinks whose drops /self reports on their own line, not among the pipeline's. */
const OWN_LINES = new Set(['streams', 'store']);

/** The agent's own figures, for the console's Health page (see docs/console.md for each field). */
function selfReport(agent: Agent, state: { start: CpuReading; last: CpuReading; loop?: IntervalHistogram }) {
  const now: CpuReading = { wall: performance.now(), usage: process.cpuUsage() };
  // Since the previous reading when it is recent enough to mean something, else since start.
  const since = now.wall - state.last.wall >= 200 ? state.last : state.start;
  const recent = cpuPercent(since, now);
  state.last = now;
  // Measured from the first request on: an agent nobody looks at pays nothing for it.
  const loop = (state.loop ??= (() => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    return h;
  })());
  const eventLoop = loop.count ? { p50Ms: loop.percentile(50) / 1e6, p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 } : null;
  loop.reset();
  const mem = process.memoryUsage();
  const pipeline = agent.pipeline.stats();
  const streams = agent.streams.totals();
  const instances = agent.manager.instancesNow().map((inst) => {
    const s = inst.stats();
    return { id: inst.id, name: inst.name, ...s, mapMemory: inst.mapMemory() };
  });
  const sum = (f: (s: (typeof instances)[number]) => number): number => instances.reduce((n, s) => n + f(s), 0);
  const handlerErrors = pipeline.handlers.reduce((n, h) => n + h.errors, 0);
  // The streams' and the store's drops have lines of their own.
  const sinkDrops = pipeline.sinks.reduce((n, s) => n + (OWN_LINES.has(s.name) ? 0 : s.dropped) + s.errors, 0);
  const store: StoreStats | null = agent.store?.stats() ?? null;
  return {
    pid: process.pid,
    node: process.version,
    uptimeSeconds: Math.round((Date.now() - agent.startedAt) / 1000),
    cpu: {
      userSeconds: now.usage.user / 1e6,
      systemSeconds: now.usage.system / 1e6,
      percent: recent,
      percentSinceStart: cpuPercent(state.start, now),
    },
    memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers },
    eventLoop,
    events: { decoded: sum((s) => s.events), pipelineIn: pipeline.in, pipelineOut: pipeline.out, streamed: streams.written },
    drops: {
      kernel: sum((s) => s.lostKernel),
      readerQueue: sum((s) => s.lostQueue),
      undecodable: sum((s) => s.decodeErrors),
      mapInsertFailures: sum((s) => s.mapInsertFailures),
      pipeline: handlerErrors + sinkDrops + pipeline.droppedClosed,
      streams: streams.dropped,
      store: store ? store.events.dropped + store.alerts.dropped : null,
    },
    queues: {
      // Events in the handlers now: held for a new container's name (the agent's handlers filter nothing).
      pipeline: Math.max(0, pipeline.in - pipeline.out - handlerErrors),
      streamClients: streams.clients,
      store: store?.queued ?? null,
    },
    mapMemory: processMapMemory(),
    instances,
    pipeline,
    store,
    containers: agent.containers?.resolver.stats() ?? null,
    alerts: agent.analyzer?.stats() ?? null,
  };
}

// ---------------------------------------------------------------- GET /containers

const NAMESPACES = ['mnt', 'pid', 'net', 'uts', 'ipc', 'user', 'cgroup'] as const;

/** The inode numbers of a process's namespaces (what `lsns` shows), or null once it is gone. */
function namespacesOf(pid: number | undefined): Record<string, number> | null {
  if (!pid) return null;
  const out: Record<string, number> = {};
  for (const ns of NAMESPACES) {
    try {
      const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`));
      if (m) out[ns] = Number(m[1]);
    } catch {
      return null;
    }
  }
  return out;
}

function containerView(c: ContainerInfo, cgroups: number) {
  return {
    id: c.id.slice(0, 12),
    fullId: c.id,
    name: c.name,
    image: c.image,
    runtime: c.runtime,
    state: c.state,
    privileged: c.privileged,
    pid: c.pid ?? null,
    k8s: c.k8s ?? null,
    labels: c.labels,
    hostMounts: c.hostMounts ?? [],
    namespaces: namespacesOf(c.pid),
    cgroups,
  };
}

// ---------------------------------------------------------------- registration

export interface ConsoleOptions {
  /** Where the built console is (default: dist/console next to this code). */
  dir?: URL;
}

/**
 * Adds the console to the API: call it before the token check (see the file's comment).
 * `agent` is read at request time (the API is built while the agent starts).
 */
export function registerConsole(app: FastifyInstance, agent: () => Agent, opts: ConsoleOptions = {}): void {
  let files: Map<string, Asset> | string | undefined;
  app.addHook('onRequest', async (req, reply) => {
    // On the raw response: a hijacked one (the event streams) writes its own head, which keeps these.
    for (const [k, v] of SECURITY_HEADERS) reply.raw.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    const path = req.url.split('?', 1)[0]!;
    if (path !== '/' && path !== '/index.html' && !path.startsWith('/assets/')) return;
    files ??= loadAssets(opts.dir ?? DEFAULT_DIR);
    if (typeof files === 'string') return reply.code(503).send({ status: 'error', error: { code: 'E_STATE', message: files } });
    const a = files.get(path === '/index.html' ? '/' : path);
    if (!a) return reply.code(404).send({ status: 'error', error: { code: 'E_NOT_FOUND', message: `no console file ${path}` } });
    return sendAsset(req, reply, a);
  });

  const cpu: CpuReading = { wall: performance.now(), usage: process.cpuUsage() };
  const state: Parameters<typeof selfReport>[1] = { start: cpu, last: cpu };
  app.get('/self', { schema: { summary: "The agent's own figures: CPU, memory, event loop, events and drops by stage, queue depths, kernel memory of its eBPF maps, the store" } }, async () => selfReport(agent(), state));

  app.get<{ Querystring: { all?: 'true' | 'false' } }>('/containers', {
    schema: {
      summary: 'Containers the runtimes report: running ones (all=true: every one known), with image, runtime, pod, labels and namespaces',
      querystring: { type: 'object', additionalProperties: false, properties: { all: { enum: ['true', 'false'] } } },
    },
  }, async (req) => {
    const a = agent();
    const resolver = a.containers?.resolver;
    if (!resolver) return { enabled: false, runtimes: [], containers: [] };
    const cgroups = new Map<string, number>();
    for (const id of resolver.containerCgroups().values()) cgroups.set(id, (cgroups.get(id) ?? 0) + 1);
    const all = req.query.all === 'true';
    const list = resolver.list().filter((c) => all || c.state === 'running').sort((x, y) => x.name.localeCompare(y.name));
    return { enabled: true, runtimes: resolver.runtimes(), containers: list.map((c) => containerView(c, cgroups.get(c.id) ?? 0)) };
  });
}
