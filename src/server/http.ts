/**
 * The control API (Fastify): the seed's /start, /stop, /list, and a REST API over the same
 * instance table, with request schemas, JSON errors with stable codes, live event streams
 * (SSE), an OpenAPI document, and bearer-token auth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { EunomiaError, ErrorCodes, isEunomiaError, type ErrorCode } from '../core/errors.js';
import { SseClient } from '../exporters/index.js';
import { parseSeedStart } from '../hotload/index.js';
import { parseTrackerArgv } from '../runtime/argv.js';
import { allOptions } from '../runtime/options.js';
import { findTracker, trackers } from '../trackers/registry.js';
import type { OptionValues } from '../runtime/types.js';
import { MAX_DURATION_S, type Agent } from '../agent/agent.js';
import { instanceOutputs, SEED_HANDLER_NOTES, SEED_HANDLERS } from './outputs.js';
import { profileRoutes } from './http-profile.js';
import { registerConsole } from './http-console.js';
import { API_AJV, lazyCompilers } from './lazy-schemas.js';
import { openApiDocument } from './openapi.js';
import type { SeccompRow } from '../trackers/seccomp/index.js';
import type { RecordedRow } from '../seccomp/recording.js';
import type { DenyMode } from '../seccomp/types.js';

export interface ApiOptions {
  /** When set, every request but GET /health needs `Authorization: Bearer <token>`. */
  token?: string;
  bodyLimitBytes: number;
  https?: { key: Buffer; cert: Buffer };
  version: string;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_NOT_FOUND: 404,
  E_UNKNOWN_TRACKER: 404,
  E_OPTION: 400,
  E_USAGE: 400,
  E_REQUEST: 400,
  E_CONTAINER: 400,
  E_PACKAGE: 422,
  E_AUTH: 401,
  E_STATE: 409,
};

/** The kernel refused what the client sent: its program, not our fault. */
const PROGRAM_REFUSED = new Set<string>(['E_LOAD', 'E_ATTACH', 'E_OPEN', 'E_BTF', 'E_OBJECT_INVALID', 'E_MAP', 'E_READER']);

interface ErrorBody {
  status: 'error';
  error: { code: string; message: string };
}

function errorBody(code: string, message: string): ErrorBody {
  return { status: 'error', error: { code, message } };
}

/** An alert client's buffer: alerts are few (throttled per rule and container). */
const ALERT_CLIENT_BUFFER = 1 << 20;

const errorSchema = {
  type: 'object',
  properties: { status: { const: 'error' }, error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
} as const;

const optionsSchema = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } } as const;
// Path parameters arrive as text; bodies are not coerced, so `{"id": "1"}` is an error there.
const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;

function instanceId(params: { id: string }): number {
  if (!/^[1-9]\d{0,15}$/.test(params.id)) throw new EunomiaError(ErrorCodes.REQUEST, `instance id must be a positive integer, got "${params.id}"`);
  return Number(params.id);
}

function sameToken(given: string, token: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(token).digest());
}

/** A program the kernel refused is the client's problem (422), a built-in tracker's is ours. */
function asProgramError(e: unknown): unknown {
  if (isEunomiaError(e) && PROGRAM_REFUSED.has(e.code)) (e as EunomiaError & { statusCode?: number }).statusCode = 422;
  return e;
}

/**
 * `agent` may still be starting (`eunomia server`): the routes are built meanwhile, on the main
 * thread while the trackers load on worker threads (their schemas are compiled at each route's
 * first request: lazy-schemas.ts); the app is returned once both are ready, and only then may it
 * listen.
 */
export async function buildApi(starting: Agent | Promise<Agent>, opts: ApiOptions): Promise<FastifyInstance> {
  // Set before buildApi returns, so before any request can reach a handler (the handlers
  // below close over them, which is why they cannot be const).
  // eslint-disable-next-line prefer-const
  let agent!: Agent;
  // eslint-disable-next-line prefer-const
  let outputs: ReturnType<typeof instanceOutputs> | undefined;
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes,
    ...(opts.https ? { https: opts.https } : {}),
    logger: false,
    // The API is small: ids are integers and the only strings come in JSON bodies.
    ajv: API_AJV,
    schemaController: { compilersFactory: lazyCompilers() },
  });
  // JSON only: Fastify also parses text/plain by default, which would reach the schemas as a string.
  app.removeContentTypeParser('text/plain');
  const openApi = openApiDocument(app, { version: opts.version, token: Boolean(opts.token) });

  // The console (its files need no token: it is added before the token check) and its routes.
  registerConsole(app, () => agent);

  app.addHook('onRequest', async (req, reply) => {
    if (!opts.token || (req.method === 'GET' && req.url === '/health')) return;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(h);
    if (!m || !sameToken(m[1]!, opts.token)) {
      reply.header('www-authenticate', 'Bearer');
      await reply.code(401).send(errorBody(ErrorCodes.AUTH, m ? 'wrong API token' : 'this API needs a token: send "Authorization: Bearer <token>"'));
    }
  });

  app.setErrorHandler((err: FastifyError & { statusCode?: number }, _req, reply) => {
    if (isEunomiaError(err)) {
      const status = (err as EunomiaError & { statusCode?: number }).statusCode ?? STATUS[err.code] ?? 500;
      return reply.code(status).send(errorBody(err.code, err.message));
    }
    if (err.validation) return reply.code(400).send(errorBody(ErrorCodes.REQUEST, `request ${err.validationContext ?? ''} ${err.message.replace(/^(body|params|querystring)\/?/, '')}`.replace(/\s+/g, ' ').trim()));
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody(ErrorCodes.REQUEST, `request body too large: the limit is ${opts.bodyLimitBytes} bytes (body_limit_bytes)`));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(errorBody(ErrorCodes.REQUEST, 'send JSON (content-type: application/json)'));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send(errorBody(ErrorCodes.REQUEST, err.message));
    return reply.code(500).send(errorBody('E_INTERNAL', err.message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(ErrorCodes.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]} — see GET /openapi.json`)));

  app.addHook('onClose', async () => outputs?.close());

  // ---- the seed's API ----

  app.post<{ Body: { name: string; export_handlers?: { name: string; args?: string[] }[]; args?: unknown[] } }>('/start', {
    schema: {
      summary: 'Start a tracker, or a hot-loaded program with name "hotupdate" (the seed\'s format)',
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          export_handlers: { type: 'array', items: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, args: { type: 'array', items: { type: 'string' } } } } },
          args: { type: 'array' },
        },
      },
      // `notes`: how the original Eunomia's spellings in the request were read (absent when none).
      response: { 200: { type: 'object', properties: { status: { const: 'ok' }, id: { type: 'integer' }, notes: { type: 'array', items: { type: 'string' } } } }, '4xx': errorSchema },
    },
  }, async (req) => {
    const { name, export_handlers: handlers = [], args = [] } = req.body;
    const notes = new Set<string>();
    for (const h of handlers) {
      if (!SEED_HANDLERS.has(h.name)) throw new EunomiaError(ErrorCodes.REQUEST, `export handler "${h.name}" is not known (known: ${[...SEED_HANDLERS].join(', ')})`);
      if (SEED_HANDLER_NOTES[h.name]) notes.add(SEED_HANDLER_NOTES[h.name]!);
    }
    let id: number;
    if (name === 'hotupdate') {
      const { pkg, options } = parseSeedStart(args, agent.hotloadLimits);
      try {
        id = agent.startProgram(pkg, options).id;
      } catch (e) {
        throw asProgramError(e);
      }
    } else {
      if (!args.every((a) => typeof a === 'string')) throw new EunomiaError(ErrorCodes.REQUEST, `"args" of tracker ${name} are its command-line flags: an array of strings`);
      const tracker = findTracker(name, trackers, (n) => notes.add(n));
      const parsed = parseTrackerArgv(tracker, args as string[]);
      for (const n of parsed.notes) notes.add(n);
      id = agent.startTracker(tracker.name, parsed.options).id;
    }
    outputs!.attach(id, handlers.map((h) => h.name));
    return notes.size ? { status: 'ok', id, notes: [...notes] } : { status: 'ok', id };
  });

  app.post<{ Body: { id: number } }>('/stop', {
    schema: {
      summary: 'Stop an instance (the seed\'s API)',
      body: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'integer', minimum: 1 } } },
      response: { 200: { type: 'object', properties: { status: { const: 'ok' } } }, '4xx': errorSchema },
    },
  }, async (req) => {
    await agent.stop(req.body.id);
    return { status: 'ok' };
  });

  app.get('/list', { schema: { summary: 'Running instances (the seed\'s API)' } }, async () => ({
    status: 'ok',
    list: agent.list().map((i) => ({ id: i.id, name: i.name })),
  }));

  // ---- REST ----

  app.get('/health', { schema: { summary: 'Liveness; needs no token' } }, async () => ({ status: 'ok' }));

  app.get('/status', { schema: { summary: 'Agent state: instances, container runtimes, streams, pipeline counters' } }, async () => ({
    status: 'ok',
    version: opts.version,
    uptimeSeconds: Math.round((Date.now() - agent.startedAt) / 1000),
    instances: agent.list().length,
    containerRuntimes: agent.containers?.resolver.runtimes() ?? [],
    streams: agent.streams.totals(),
    pipeline: agent.pipeline.stats(),
  }));

  app.get('/trackers', { schema: { summary: 'The tracker catalogue, with each tracker\'s options' } }, async () => ({
    trackers: trackers.map((t) => ({
      name: t.name,
      summary: t.summary,
      options: allOptions(t).map((o) => ({ name: o.name, flag: o.flag, type: o.type, description: o.description, ...(o.default !== undefined ? { default: o.default } : {}) })),
    })),
  }));

  app.get('/instances', { schema: { summary: 'Running instances with their counters, and the timed instances that finished (state "finished")' } }, async () => ({ instances: agent.list({ finished: true }) }));

  app.post<{ Body: { tracker?: string; program?: unknown; options?: OptionValues; duration?: number } }>('/instances', {
    schema: {
      summary: 'Start a tracker ({tracker, options}) or load a program package ({program, options}); with "duration" (seconds), it stops itself then and its events are stored (GET /query?instance=ID)',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { tracker: { type: 'string', minLength: 1 }, program: { type: ['object', 'string'] }, options: optionsSchema, duration: { type: 'integer', minimum: 1, maximum: MAX_DURATION_S } },
        oneOf: [{ required: ['tracker'] }, { required: ['program'] }],
      },
      response: { '4xx': errorSchema },
    },
  }, async (req, reply) => {
    const { tracker, program, options = {}, duration } = req.body;
    let inst;
    if (tracker !== undefined) inst = agent.startTracker(tracker, options, { duration });
    else {
      try {
        inst = agent.startProgram(program, options, { duration });
      } catch (e) {
        throw asProgramError(e);
      }
    }
    return reply.code(201).send(agent.view(inst));
  });

  app.get<{ Params: { id: string } }>('/instances/:id', { schema: { params: idParams, response: { '4xx': errorSchema } } }, async (req) => agent.get(instanceId(req.params)));

  app.put<{ Params: { id: string }; Body: { program: unknown; options?: OptionValues } }>('/instances/:id', {
    schema: {
      summary: 'Hot update: replace a loaded program in place; the instance keeps its id and streams',
      params: idParams,
      body: { type: 'object', required: ['program'], additionalProperties: false, properties: { program: { type: ['object', 'string'] }, options: optionsSchema } },
      response: { '4xx': errorSchema },
    },
  }, async (req) => {
    try {
      return agent.view(await agent.replaceProgram(instanceId(req.params), req.body.program, req.body.options ?? {}));
    } catch (e) {
      throw asProgramError(e);
    }
  });

  app.delete<{ Params: { id: string } }>('/instances/:id', { schema: { summary: 'Stop an instance; answers with its final counters', params: idParams, response: { '4xx': errorSchema } } }, async (req) => {
    const id = instanceId(req.params);
    const stats = await agent.stop(id);
    return { id, stats };
  });

  app.get<{ Params: { id: string }; Querystring: { format?: 'docker' | 'spo' | 'summary'; mode?: DenyMode; base?: 'true' | 'false'; name?: string } }>('/instances/:id/seccomp', {
    schema: {
      summary: 'A seccomp instance\'s recording so far as a profile: Docker/OCI JSON (default), a Security Profiles Operator SeccompProfile (YAML) or a summary (text)',
      params: idParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          format: { enum: ['docker', 'spo', 'summary'] },
          mode: { enum: ['errno', 'kill', 'log'] },
          // Query values are text, and the API does not coerce types.
          base: { enum: ['true', 'false'] },
          name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
        },
      },
      response: { '4xx': errorSchema },
    },
  }, async (req, reply) => {
    const id = instanceId(req.params);
    const view = agent.get(id);
    if (view.name !== 'seccomp') throw new EunomiaError(ErrorCodes.REQUEST, `instance ${id} is a ${view.name} tracker: start a seccomp instance ({"tracker": "seccomp", "options": {"container": "NAME"}})`);
    // Loaded on first use: the server's start need not compile the profile writers (and YAML).
    const [{ recordingsOf }, { toProfile }, { toSpo }, { summary }] = await Promise.all([
      import('../seccomp/recording.js'),
      import('../seccomp/profile.js'),
      import('../seccomp/spo.js'),
      import('../seccomp/summary.js'),
    ]);
    const rows = agent.snapshot(id).map((r) => ({ row: r as unknown as SeccompRow, ...(r.container ? { container: r.container as RecordedRow['container'] } : {}) }));
    const recordings = recordingsOf(rows, new Date(view.startedAt), new Date(), { joinedRunning: agent.joinedRunning(id) });
    if (!recordings.length) throw new EunomiaError(ErrorCodes.STATE, `instance ${id} has recorded nothing yet: its container has made no call under its seccomp filter (is it running?)`);
    const { format = 'docker', mode, base } = req.query;
    const profile = toProfile(recordings, { ...(mode ? { mode } : {}), base: base !== 'false' });
    if (format === 'summary') return reply.type('text/plain; charset=utf-8').send(summary(profile));
    if (format === 'spo') return reply.type('application/yaml').send(toSpo(profile, req.query.name ?? `eunomia-recording-${id}`));
    return profile;
  });

  const stream = (req: FastifyRequest, reply: FastifyReply, id: number | undefined): void => {
    // 404 before the stream starts; a finished instance has no more events (its stored ones are at GET /query).
    if (id !== undefined && agent.get(id).state === 'finished') throw new EunomiaError(ErrorCodes.STATE, `instance ${id} has finished: its events are in the store (GET /query?instance=${id})`);
    reply.hijack();
    agent.streams.open(reply.raw, id, { id: id ?? null });
  };
  app.get<{ Params: { id: string } }>('/instances/:id/events', {
    schema: { summary: 'The instance\'s events as Server-Sent Events: one JSON event per `data:` line; `ready`, `dropped` and `end` events', params: idParams },
  }, async (req, reply) => stream(req, reply, instanceId(req.params)));
  app.get('/events', { schema: { summary: 'Every instance\'s events as Server-Sent Events' } }, async (req, reply) => stream(req, reply, undefined));

  app.get('/alerts', { schema: { summary: 'The latest security alerts (up to 1000), oldest first, and the analyzer\'s counters' } }, async () => ({
    enabled: agent.analyzer !== undefined,
    alerts: agent.analyzer?.recent() ?? [],
    stats: agent.analyzer?.stats() ?? null,
  }));
  app.get('/alerts/stream', { schema: { summary: 'Security alerts as Server-Sent Events, as they are raised' } }, async (req, reply) => {
    const analyzer = agent.analyzer;
    if (!analyzer) throw new EunomiaError(ErrorCodes.STATE, 'security rules are off (--no-safe)');
    reply.hijack();
    const client = new SseClient(reply.raw, {}, ALERT_CLIENT_BUFFER);
    // Alerts are throttled upstream; a client that stops reading loses them, counted (a `dropped` event).
    const off = analyzer.subscribe((a) => void client.message('alert', a));
    reply.raw.on('close', off);
  });

  profileRoutes(app, () => agent, errorSchema);
  (await import('./http-query.js')).registerQueryRoutes(app, () => agent);

  app.get('/openapi.json', { schema: { hide: true } }, openApi);

  await app.ready();
  agent = await starting;
  outputs = instanceOutputs(agent);
  return app;
}
