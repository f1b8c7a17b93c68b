#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher: the CLI is bundled into dist/bundle/cli by scripts/setup.sh (tsc, then
// scripts/bundle.js). A bundle older than the compiled code would run stale code: then the
// unbundled modules run instead (slower to load, never stale), and we say so.
//
// --max-semi-space-size=2 (MiB): V8's young generation otherwise grows to 2 × 16 MiB under a
// stream of events and keeps it. `npm run bench -- footprint` measures the server with and
// without it (RSS, CPU per event). It applies when this file runs as a program (eunomia …,
// npm start), not as `node bin/eunomia.js`.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(`../dist/${rel}`, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? 0;
const fresh = mtime('bundle/cli/main.js') >= mtime('.tsbuildinfo');
if (!fresh) process.stderr.write('eunomia: the CLI bundle is missing or older than the compiled code (npm run build makes it); loading the unbundled modules\n');
import(fresh ? '../dist/bundle/cli/main.js' : '../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2)));
