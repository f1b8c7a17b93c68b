/**
 * GET /query: the event store's rows, or counts grouped by fields, over a time window, with a
 * filter in the rules' condition language (docs/query.md). The answer always says the window
 * it covered, the oldest time the store holds, and how many rows of the window were dropped.
 */
import type { FastifyInstance } from 'fastify';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { parseQuery, PARAMS, runQuery } from '../query/index.js';
import type { StoreReader } from '../store/types.js';

/** What the route needs of the agent: its store (undefined when off). */
export interface QuerySource {
  readonly store?: StoreReader | undefined;
}

const DESCRIPTIONS: Record<(typeof PARAMS)[number], string> = {
  where: 'a condition in the rules\' language (docs/rules.md), e.g. comm = curl and container.name = web',
  kind: 'event (default) or alert',
  from: 'start: ISO-8601, ms since the epoch, or relative (-15m); default: an hour before "to"',
  to: 'end: as "from"; default: now',
  tracker: 'only this tracker\'s rows (exact)',
  container: 'only this container: its id (12+ hex digits), its name, or "host"',
  rule: 'only alerts of this rule (exact)',
  instance: 'only events of this tracker instance',
  group: 'comma-separated field paths: counts per group instead of rows, most first',
  bucket: 'with group: counts per time bucket too (30s, 5m, 1h …)',
  limit: 'rows or groups at most: 1 to 10000, default 100',
  order: 'desc (newest first, default) or asc',
  before: 'paging with order=desc: the "next.before" of the previous page (with to = its "next.to")',
  after: 'paging with order=asc: the "next.after" of the previous page (with from = its "next.from")',
};

/** `agent` is read per request: the agent may still be starting when the routes are made. */
export function registerQueryRoutes(app: FastifyInstance, agent: () => QuerySource): void {
  app.get<{ Querystring: Record<string, unknown> }>('/query', {
    schema: {
      summary: 'Stored events or alerts in a time window, filtered by a condition, as rows or counts per group; says the window covered, the oldest time held and the rows dropped in it',
      // Checked by parseQuery, whose messages name the parameter; declared here for the OpenAPI document.
      querystring: { type: 'object', properties: Object.fromEntries(PARAMS.map((p) => [p, { description: DESCRIPTIONS[p] }])) },
    },
  }, async (req) => {
    const store = agent().store;
    if (!store) throw new EunomiaError(ErrorCodes.STATE, 'the event store is off (--no-store, or enabled = false in [store]): there is nothing to query');
    return runQuery(store, parseQuery(req.query, Date.now()));
  });
}
