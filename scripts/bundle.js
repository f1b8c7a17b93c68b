#!/usr/bin/env node
/**
 * Bundles the CLI (dist/src/cli/main.js, compiled by tsc) into a few files in dist/bundle/cli:
 * Node 20 spends ~0.4 ms resolving and linking each ES module, and a command loaded ~135 of
 * ours. Each command's lazily imported modules stay a chunk of their own (splitting). Packages
 * are bundled too (the server's Fastify, Ajv, prom-client: ~400 CommonJS files, each resolved,
 * stat'ed and read, took ~100 ms of its start), except those that find files next to their own
 * code (__dirname: gRPC's .proto files, pino's worker), which load from node_modules; the build
 * fails if a bundled one does.
 *
 * The bundle sits at the same depth below the package root as dist/src/<dir>/, so the paths
 * the code finds from import.meta.url (../../../native, ../../bpf/, ../../../rules/…) hold.
 *
 * esbuild-wasm, not esbuild: no platform binary to install, and it runs only when dist changed.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild-wasm';

/** Packages that read files next to their own code: left in node_modules. */
const EXTERNAL = ['@grpc/*', 'protobufjs', 'pino', 'thread-stream'];
/**
 * Uses that fail harmlessly: @fastify/swagger reads its own package.json inside a try, for an
 * OpenAPI title and version the API gives it anyway (src/server/http.ts).
 */
const HARMLESS_DIRNAME = ['node_modules/@fastify/swagger/lib/util/read-package-json.js'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bundle/cli');
rmSync(outdir, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root, // metafile paths are relative to it
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Without comments and indentation: V8 keeps each loaded chunk's source text (the server's
  // alone was 2.3 MiB of its heap) and pre-parses all of it at start. Names stay, for stacks.
  minifyWhitespace: true,
  // CommonJS packages bundled into ES modules call require() for Node's built-ins.
  banner: { js: "import { createRequire as __eunomiaRequire } from 'node:module'; const require = __eunomiaRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
// An ES module has no __dirname: a bundled package that uses it would fail when it gets there.
for (const input of Object.keys(metafile.inputs)) {
  if (!input.startsWith('node_modules/') || HARMLESS_DIRNAME.includes(input)) continue;
  if (/\b__(dirname|filename)\b/.test(readFileSync(join(root, input), 'utf8'))) {
    throw new Error(`bundle: ${input} uses __dirname or __filename: add its package to EXTERNAL in scripts/bundle.js`);
  }
}
