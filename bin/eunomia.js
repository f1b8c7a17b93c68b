#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/cli by scripts/setup.sh (tsc, then
// scripts/bundle.js). A bundle older than the compiled code would run stale code: then the
// unbundled modules run instead (slower to load, never stale), and we say so.
//
// No V8 flags here: any flag makes V8 refuse Node's code cache for its built-ins (~40 ms of each
// start). The young generation's growth is stopped once a command is up (src/cli/young-generation.ts).
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(`../dist/${rel}`, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? 0;
const fresh = mtime('bundle/cli/main.js') >= mtime('.tsbuildinfo');
if (!fresh) process.stderr.write('eunomia: the CLI bundle is missing or older than the compiled code (npm run build makes it); loading the unbundled modules\n');
import(fresh ? '../dist/bundle/cli/main.js' : '../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2)));
