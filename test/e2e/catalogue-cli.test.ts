/** Every tracker from the command line, in every output format. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { trackers } from '../../src/trackers/registry.js';
import { needsRoot, repoRoot, requiredFlags } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('eunomia run <tracker> for the whole catalogue', { skip: needsRoot }, () => {
  for (const t of trackers) {
    test(`${t.name}: plain, json and csv`, async () => {
      const extra = [...requiredFlags(t.name), ...(t.interval ? ['-i', '1'] : [])];
      const [plain, json, csv] = await Promise.all(['plain', 'json', 'csv'].map((fmt) => run(['run', t.name, '--fmt', fmt, '-T', '2', ...extra])));
      for (const [fmt, r] of [['plain', plain], ['json', json], ['csv', csv]] as const) {
        assert.equal(r!.code, 0, `${fmt}: ${r!.stderr}`);
        const summary = new RegExp(`^${t.name}: (\\d+) events seen, 0 lost .* (\\d+) written$`, 'm').exec(r!.stderr);
        assert.ok(summary, `${fmt}: summary line in ${JSON.stringify(r!.stderr)}`);
        assert.equal(summary[1], summary[2], `${fmt}: every event seen was written`);
      }
      for (const line of json!.stdout.split('\n').filter(Boolean)) {
        const ev = JSON.parse(line);
        assert.equal(ev.tracker, t.name);
        assert.match(ev.time, /^\d{4}-/);
      }
      if (csv!.stdout) assert.match(csv!.stdout, /^time,/);
      if (plain!.stdout && !t.plain) assert.match(plain!.stdout, /^TIME /);
    });
  }
});
