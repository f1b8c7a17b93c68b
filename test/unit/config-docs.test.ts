/**
 * docs/server.md's tables of the config's keys and of the original Eunomia's keys are what the
 * config's declaration generates (src/agent/config.ts, config-original.ts), and the OpenAPI
 * document's `ServerConfig` component is the same schema. After a change to the declaration,
 * `EUNOMIA_WRITE_DOCS=1 node scripts/run-tests.js config-docs` rewrites the tables.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Agent } from '../../src/agent/agent.js';
import { configJsonSchema } from '../../src/agent/config.js';
import { configDocTables } from '../../src/agent/config-load.js';
import { buildApi } from '../../src/server/http.js';
import { repoRoot } from '../helpers.js';

const DOC = join(repoRoot, 'docs/server.md');

/** Replaces what is between `<!-- name: … -->` and `<!-- /name -->` with `body`. */
function withBlock(text: string, name: string, body: string): string {
  const re = new RegExp(`(<!-- ${name}:[^\\n]*-->\\n)[\\s\\S]*?(<!-- /${name} -->)`);
  assert.match(text, re, `docs/server.md has the <!-- ${name}: … --> … <!-- /${name} --> block`);
  return text.replace(re, (_, open: string, close: string) => `${open}${body}\n${close}`);
}

test('docs/server.md lists every config key and every original key as the schema declares them', () => {
  const text = readFileSync(DOC, 'utf8');
  const tables = configDocTables();
  const want = withBlock(withBlock(text, 'config-keys', tables.keys), 'original-keys', tables.original);
  if (process.env.EUNOMIA_WRITE_DOCS === '1' && want !== text) writeFileSync(DOC, want);
  else assert.equal(text, want, 'docs/server.md differs from the config schema: EUNOMIA_WRITE_DOCS=1 node scripts/run-tests.js config-docs rewrites its tables');
});

test('the tables name each key of the OpenAPI component', () => {
  const { keys } = configDocTables();
  const walk = (s: Record<string, unknown>, prefix: string): string[] =>
    Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>).flatMap(([k, p]) => {
      const items = p.items as Record<string, unknown> | undefined;
      return [prefix + k, ...walk(p, `${prefix}${k}.`), ...(items ? walk(items, `${prefix}${k}[].`) : [])];
    });
  const names = walk(configJsonSchema(), '');
  assert.ok(names.includes('otel.interval_ms') && names.includes('trackers[].options'), 'the walk reached nested keys');
  for (const k of names) assert.ok(keys.includes(`| \`${k}\` |`), k);
});

test('GET /openapi.json has the config schema as components.schemas.ServerConfig', async () => {
  // Building the app and serving the document touch no agent (nothing is started).
  const app = await buildApi({} as Agent, { bodyLimitBytes: 64 * 1024, version: 'test' });
  try {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { components: { schemas: Record<string, unknown> } };
    assert.deepEqual(doc.components.schemas.ServerConfig, configJsonSchema());
    const props = (configJsonSchema().properties ?? {}) as Record<string, { default?: unknown }>;
    assert.equal(props.listen?.default, '127.0.0.1:8527');
  } finally {
    await app.close();
  }
});
