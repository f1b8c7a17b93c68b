// The layer check (.dependency-cruiser.cjs) on the real tree, and on a small tree that breaks
// each rule: the check must name every import that runs back up, and every cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

const depcruise = join(repoRoot, 'node_modules/.bin/depcruise');
const config = join(repoRoot, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(depcruise, ['src', '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('the source tree keeps its layers: no import runs back up, no cycle', () => {
  const r = cruise(repoRoot);
  assert.equal(r.status, 0, r.out);
});

test('an import that runs back up, or a cycle, fails the check and is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-layers-'));
  const file = (path: string, text: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } }));
  file('src/core/btf.ts', "import { run } from '../cli/main.js';\nexport const btf = run;\n");
  file('src/runtime/manager.ts', "import { findTracker } from '../trackers/registry.js';\nexport const m = findTracker;\n");
  file('src/trackers/registry.ts', "import type { Agent } from '../agent/agent.js';\nexport const findTracker = (a: Agent) => a;\n");
  file('src/agent/agent.ts', "import { api } from '../server/http.js';\nexport type Agent = typeof api;\n");
  file('src/server/http.ts', "import { run } from '../cli/main.js';\nexport const api = run;\n");
  file('src/cli/main.ts', "export const run = 1;\n");
  file('src/pipeline/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
  file('src/pipeline/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
  const r = cruise(dir);
  assert.notEqual(r.status, 0, r.out);
  for (const line of [
    'core-is-a-library: src/core/btf.ts → src/cli/main.ts',
    'runtime-looks-down: src/runtime/manager.ts → src/trackers/registry.ts',
    'subsystems-look-down: src/trackers/registry.ts → src/agent/agent.ts',
    'agent-looks-down: src/agent/agent.ts → src/server/http.ts',
    'api-is-not-the-cli: src/server/http.ts → src/cli/main.ts',
    'no-cycles: src/pipeline/a.ts',
  ]) assert.ok(r.out.includes(line), `${line}\n${r.out}`);
});
