/**
 * GET /openapi.json, made at its first request: @fastify/swagger (with its YAML writer and
 * schema resolver, ~250 KB of code) is loaded then, not at the server's start. The API's routes
 * are noted as they are added (their method, URL and schema: no handler), and the first request
 * gives them to a Fastify app of their own with swagger registered, whose document is kept.
 * That app compiles every schema (the API compiles each at its route's first request), so the
 * document's test also checks that they all compile.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { configJsonSchema } from '../agent/config.js';
import { API_AJV } from './lazy-schemas.js';

export interface OpenApiOptions {
  version: string;
  /** The API needs a token: the document says so (bearer). */
  token: boolean;
}

/** Notes `app`'s routes from here on; the returned function makes (once) the document. */
export function openApiDocument(app: FastifyInstance, opts: OpenApiOptions): () => Promise<unknown> {
  const routes: Pick<RouteOptions, 'method' | 'url' | 'schema'>[] = [];
  app.addHook('onRoute', (r) => {
    // Fastify adds a HEAD route beside each GET; the document's app does the same.
    if (r.method !== 'HEAD') routes.push({ method: r.method, url: r.url, ...(r.schema ? { schema: r.schema } : {}) });
  });
  let doc: Promise<unknown> | undefined;
  return () => (doc ??= describe(routes, opts));
}

async function describe(routes: Pick<RouteOptions, 'method' | 'url' | 'schema'>[], opts: OpenApiOptions): Promise<unknown> {
  const [{ default: Fastify }, { default: swagger }] = await Promise.all([import('fastify'), import('@fastify/swagger')]);
  // Fastify's own compilers, at ready(): a schema that does not compile fails the document.
  const app = Fastify({ logger: false, ajv: API_AJV });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Eunomia control API', version: opts.version, description: 'Start and stop trackers, hot-load eBPF programs, stream their events.' },
      // The config file's schema (docs/server.md), from the same declaration as its checks.
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { ServerConfig: configJsonSchema() } },
      security: opts.token ? [{ bearer: [] }] : [],
    },
  });
  for (const r of routes) app.route({ ...r, handler: async () => undefined });
  await app.ready();
  const out = app.swagger();
  await app.close();
  return out;
}
