#!/usr/bin/env node
/**
 * Bundles the CLI (dist/src/cli/main.js, compiled by tsc) into a few files in dist/bundle/cli:
 * Node 20 spends ~0.4 ms resolving and linking each ES module, and a command loaded ~135 of
 * ours. Each command's lazily imported modules stay a chunk of their own (splitting), and
 * packages stay external (loaded from node_modules when a command needs them).
 *
 * The bundle sits at the same depth below the package root as dist/src/<dir>/, so the paths
 * the code finds from import.meta.url (../../../native, ../../bpf/, ../../../rules/…) hold.
 *
 * esbuild-wasm, not esbuild: no platform binary to install, and it runs only when dist changed.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild-wasm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bundle/cli');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
