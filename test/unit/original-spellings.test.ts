/** The original Eunomia's spellings as the parsers read them: flags, tracker names, config keys; each with its note. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFrom } from '../../src/agent/config-load.js';
import { EunomiaError } from '../../src/core/errors.js';
import { parseTrackerArgv } from '../../src/runtime/argv.js';
import { fromOriginalFlags } from '../../src/runtime/original-flags.js';
import { findTracker } from '../../src/trackers/registry.js';

test('--container-id X and --container-id=X are read as --container, one note however often given', () => {
  assert.deepEqual(fromOriginalFlags(['--container-id', 'web', '--container-id=db', '-p', '1']), {
    argv: ['--container', 'web', '--container=db', '-p', '1'],
    notes: ["--container-id is deprecated (the original Eunomia's): read as --container"],
  });
  assert.deepEqual(fromOriginalFlags(['--container', 'web']), { argv: ['--container', 'web'], notes: [] });
  const opensnoop = findTracker('opensnoop');
  assert.deepEqual(parseTrackerArgv(opensnoop, ['--container-id', 'web']).options, { container: 'web' });
  assert.throws(() => parseTrackerArgv(opensnoop, ['--container-idx', 'web']), /Unknown option '--container-idx'/);
});

test('tracker "tcp" is tcpconnect only when the caller takes the note; otherwise an unknown tracker', () => {
  const notes: string[] = [];
  assert.equal(findTracker('tcp', undefined, (n) => notes.push(n)).name, 'tcpconnect');
  assert.deepEqual(notes, ['tracker "tcp" is deprecated (the original Eunomia\'s): read as tcpconnect']);
  assert.throws(() => findTracker('tcp'), (e: unknown) => e instanceof EunomiaError && /unknown tracker "tcp"/.test(e.message));
});

test("a config's enabled_trackers: name tcp and args --container-id, read as this release's with notes", () => {
  const notes: string[] = [];
  const cfg = configFrom({ enabled_trackers: [{ name: 'tcp', args: ['--container-id', 'web'] }] }, 'old.json', (n) => notes.push(n));
  assert.deepEqual(cfg.trackers, [{ name: 'tcpconnect', options: { container: 'web' } }]);
  assert.deepEqual(notes, [
    'config old.json: key "enabled_trackers.0.name": tracker "tcp" is deprecated (the original Eunomia\'s): read as tcpconnect',
    'config old.json: key "enabled_trackers.0.args": --container-id is deprecated (the original Eunomia\'s): read as --container',
    'config old.json: key "enabled_trackers" is deprecated (the original Eunomia\'s): read as trackers (each one\'s args as its options)',
  ]);
});

test("the original's metric families: bounded labels only, at most four of their own, each in docs/metrics.md", async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { repoRoot } = await import('../helpers.js');
  const { trackers } = await import('../../src/trackers/registry.js');
  const doc = readFileSync(join(repoRoot, 'docs/metrics.md'), 'utf8');
  const names = trackers.flatMap((t) => t.originalMetrics?.families ?? []).map((m) => m.name);
  assert.equal(names.length, 16, names.join(', '));
  for (const m of trackers.flatMap((t) => t.originalMetrics?.families ?? [])) {
    assert.match(m.name, /^eunomia_(observed|bserved|capable)_[a-z0-9_]+$/);
    assert.ok(m.labels.length <= 4, `${m.name}: at most four own labels`);
    assert.ok(!m.labels.some((l) => /pid|tid|path|addr|filename|src|dst|time/.test(l)), `${m.name}: no unbounded label`);
    assert.ok(doc.includes(`\`${m.name}\``), `${m.name} is in docs/metrics.md`);
  }
});
