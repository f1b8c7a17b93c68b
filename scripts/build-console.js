#!/usr/bin/env node
/**
 * Builds the web console (console/, Preact + TSX) into dist/console: index.html and
 * assets/<name>-<hash>.{js,css}. The agent serves them (src/server/http-console.ts): the
 * hashed names are cached for good, index.html is asked again each time.
 *
 * The sources are type-checked first (console/tsconfig.json; esbuild only strips types), then
 * bundled and minified by esbuild-wasm (as scripts/bundle.js: no platform binary). Everything
 * is in the bundle: the page loads nothing from another host and works offline.
 * scripts/setup.sh runs this when a source, Preact or this script is newer than the build.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild-wasm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'console');
const out = join(root, 'dist/console');
const tmp = `${out}.tmp-${process.pid}`;

const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(src, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build-console: the console does not type-check (see above)');
  process.exit(1);
}

rmSync(tmp, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: { main: join(src, 'src/main.tsx'), style: join(src, 'src/style.css') },
  outdir: join(tmp, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  // Browsers of the last few years: ES2020 syntax and native modules.
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const names = {};
let total = 0;
for (const [file, info] of Object.entries(metafile.outputs)) {
  const entry = info.entryPoint ? basename(info.entryPoint) : '';
  if (entry === 'main.tsx') names.main = basename(file);
  if (entry === 'style.css') names.style = basename(file);
  total += info.bytes;
}
if (!names.main || !names.style) throw new Error(`build-console: esbuild made no main script or style sheet (${Object.keys(metafile.outputs).join(', ')})`);
const html = readFileSync(join(src, 'index.html'), 'utf8').replace(/\{\{(main|style)\}\}/g, (_, k) => names[k]);
mkdirSync(tmp, { recursive: true });
writeFileSync(join(tmp, 'index.html'), html);
// Swapped in whole: an agent reading the directory never sees half a build.
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
console.error(`build-console: dist/console (${names.main}, ${names.style}; ${(total / 1024).toFixed(1)} KiB)`);
