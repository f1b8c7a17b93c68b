/**
 * A child for kill.test.ts: writes numbered events to the store at PATH as fast as it can, in
 * batches, and prints the count of events committed after each batch's flush (so every event
 * numbered below a printed count is in the database), until it is killed.
 */
import { openStore } from '../../src/store/index.js';

const path = process.argv[2]!;
const loose = { maxRows: 100_000_000, maxBytes: 64 * 1024 ** 3, ttlMs: 86_400_000 };
const store = await openStore({ path, trackers: ['process'], alerts: false, events: loose, alertLimits: loose });
const sink = store.sink();
const pad = 'x'.repeat(300);
for (let seq = 0; ; ) {
  for (let i = 0; i < 5000; i++, seq++) sink.write({ tracker: 'process', instance: 1, time: Date.now(), data: { seq, pad } });
  await store.flush();
  process.stdout.write(`${seq}\n`);
}
