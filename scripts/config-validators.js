#!/usr/bin/env node
/**
 * Writes ajv's code for the config's schemas (src/agent/config-check.ts) to
 * dist/config-validators.cjs: `eunomia server` then checks its config without compiling them
 * (~30 ms of each start). Each validator is filed under its schema's JSON, so a schema edited
 * after this ran is not found there and is compiled at run time: the file is never stale, only
 * slower to miss. Run after `tsc` (scripts/setup.sh does, when the compiled code changed).
 *
 *   node scripts/config-validators.js
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv');
const standaloneCode = require('ajv/dist/standalone').default;
const agent = new URL('../dist/src/agent/', import.meta.url);
const { ajvOptions, ajvSchema, VALIDATORS_FILE } = await import(new URL('config-check.js', agent).href);
const { FILE_SCHEMA } = await import(new URL('config-load.js', agent).href);
const { ORIGINAL_SCHEMA } = await import(new URL('config-original.js', agent).href);

const schemas = { file: ajvSchema(FILE_SCHEMA), original: ajvSchema(ORIGINAL_SCHEMA) };
const ajv = new Ajv(ajvOptions(true));
for (const [name, schema] of Object.entries(schemas)) ajv.addSchema(schema, name);
const code = standaloneCode(ajv, Object.fromEntries(Object.keys(schemas).map((n) => [n, n])));
const json = Object.fromEntries(Object.entries(schemas).map(([n, s]) => [n, JSON.stringify(s)]));
const out = fileURLToPath(VALIDATORS_FILE);
writeFileSync(`${out}.tmp`, `// Made by scripts/config-validators.js: do not edit.\n${code}\nexports.schemas = ${JSON.stringify(json)};\n`);
renameSync(`${out}.tmp`, out);
console.log(`config-validators: ${Object.keys(schemas).join(', ')} → ${out}`);
