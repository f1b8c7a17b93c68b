/**
 * SIGKILL in the middle of writes: a child process writes numbered events to the store without
 * pause and reports what it has committed; killed with -9, it leaves a database that opens, is
 * intact, and holds every event it reported (no gap: what was not committed is wholly absent).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openStore } from '../../src/store/index.js';
import { openDatabase } from '../../src/store/schema.js';

const CHILD = fileURLToPath(new URL('./kill-writer.js', import.meta.url));

test('a writer killed with SIGKILL mid-write leaves an intact database with every committed row', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-store-kill-'));
  try {
    for (let round = 0; round < 3; round++) {
      const path = join(dir, `events-${round}.db`);
      const child = spawn(process.execPath, [CHILD, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let committed = 0;
      let reports = 0;
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          committed = Number(l);
          reports++;
        }
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      // Some batches committed, then a kill at a moment unrelated to the batches.
      while (reports < 4) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 37 * (round + 1)));
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const seen = committed;
      const db = openDatabase(path, 'writer');
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const { n, top } = db.prepare("SELECT count(*) AS n, max(record ->> '$.data.seq') AS top FROM rows").get() as { n: number; top: number };
        console.log(`# round ${round}: ${seen} rows reported committed before the kill, ${n} in the database`);
        assert.ok(n >= seen, `round ${round}: the ${seen} rows reported committed are there (${n})`);
        assert.equal(n, top + 1, 'no gap: every row numbered below the highest is there');
        assert.equal(n % 5000, 0, 'whole batches: one being written when the kill came is wholly absent');
        assert.equal((db.prepare('SELECT rows FROM kinds WHERE kind = 0').get() as { rows: number }).rows, n, 'the row count was committed with the rows');
      } finally {
        db.close();
      }
      // And the store opens it as its own.
      const store = await openStore({ path, trackers: [], alerts: false, events: { maxRows: 1e9, maxBytes: 1e12, ttlMs: 86_400_000 }, alertLimits: { maxRows: 1, maxBytes: 4096, ttlMs: 1000 } });
      assert.ok(store.stats().events.rows >= seen);
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
