#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by scripts/setup.sh).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2)));
