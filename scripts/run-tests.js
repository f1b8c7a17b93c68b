// Runs every compiled test file with node's test runner (Node 20 has no glob for --test).
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
walk(root);
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
// Given no file, node --test would run every .js under any test/ directory, helpers included.
if (selected.length === 0) {
  console.error(`run-tests: no test file in dist/test matches ${filter.map((s) => JSON.stringify(s)).join(' or ')}`);
  process.exit(2);
}
// The tests' temporary files (objects they compile, configs, databases…) go to one directory
// for this run, removed after it: ~2,000 were left in /tmp by each full run. As /tmp is, it is
// open to the containers' non-root users that some tests bind-mount paths from it for.
const scratch = mkdtempSync(join(tmpdir(), 'eunomia-tests-'));
chmodSync(scratch, 0o755);
// Kernel tests share one kernel: run files one at a time so their counts don't interfere.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...selected], { stdio: 'inherit', env: { ...process.env, TMPDIR: scratch } });
rmSync(scratch, { recursive: true, force: true });
process.exit(r.status ?? 1);
