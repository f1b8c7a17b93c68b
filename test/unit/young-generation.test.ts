/**
 * stopYoungGenerationGrowth (src/cli/young-generation.ts) on this Node: a child process churns
 * objects that live a little (as events held for a batch do), with and without the call, and
 * reports V8's new space. Without it the new space grows; with it, it stays where it was. And
 * the launcher passes no V8 flag (one would cost every start Node's code cache).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers.js';

const MODULE = join(repoRoot, 'dist/src/cli/young-generation.js');

/** New space's size (bytes) after a little churn and after much more, in a fresh Node. */
function churn(stop: boolean): { before: number; after: number } {
  const script = `
    const v8 = await import('node:v8');
    const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    if (${stop}) (await import(${JSON.stringify(MODULE)})).stopYoungGenerationGrowth();
    let held = [];
    const work = (n) => { for (let i = 0; i < n; i++) { held.push({ i, s: 'x' + i }); if (held.length > 20000) held = []; } };
    // A first scavenge commits the second semi-space: "before" is measured after it.
    work(1e5);
    const before = newSpace();
    work(2e6);
    console.log(JSON.stringify({ before, after: newSpace() }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { before: number; after: number };
}

test('without the call the churn grows the new space; with it the new space stays as it was', () => {
  const grown = churn(false);
  assert.ok(grown.after >= 2 * grown.before, `the churn grows the new space unchecked (${grown.before} → ${grown.after} bytes): else this test proves nothing`);
  const kept = churn(true);
  assert.equal(kept.after, kept.before, `new space ${kept.before} → ${kept.after} bytes`);
});

test('the launcher passes Node no V8 flag', () => {
  const first = readFileSync(join(repoRoot, 'bin/eunomia.js'), 'utf8').split('\n')[0];
  assert.equal(first, '#!/usr/bin/env node');
});
