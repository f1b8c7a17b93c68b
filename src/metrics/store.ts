/**
 * The event store's counters (docs/store.md): rows and bytes held per kind, the file's size,
 * rows written, evicted (cap, TTL) and dropped (the writer's queue was full), rows waiting,
 * where the writer runs. Read from the store at scrape time, as the agent's other families are.
 */
import type { Registry } from 'prom-client';
import type { StoreKindStats, StoreReader, StoreStats } from '../store/types.js';
import { collected, type Put } from './collected.js';

export function registerStoreMetrics(registry: Registry, store: StoreReader): void {
  // One reading per scrape (a few SQL reads), shared by the families below.
  let cache: { at: number; stats: StoreStats } | undefined;
  const read = (): StoreStats => {
    const now = Date.now();
    if (!cache || now - cache.at > 100) cache = { at: now, stats: store.stats() };
    return cache.stats;
  };
  const perKind = (f: (k: StoreKindStats) => number) => (put: Put) => {
    const s = read();
    put({ kind: 'event' }, f(s.events));
    put({ kind: 'alert' }, f(s.alerts));
  };
  const gauge = (name: string, help: string, labels: string[], fill: (put: Put) => void): void => collected(registry, 'gauge', name, help, labels, fill);
  const counter = (name: string, help: string, labels: string[], fill: (put: Put) => void): void => collected(registry, 'counter', name, help, labels, fill);
  gauge('eunomia_store_rows', 'Rows held in the event store, by kind (event, alert).', ['kind'], perKind((k) => k.rows));
  gauge('eunomia_store_bytes', "Bytes of the records held in the event store (their JSON), by kind: what the byte cap counts.", ['kind'], perKind((k) => k.bytes));
  gauge('eunomia_store_file_bytes', 'Size of the event store database and its write-ahead log, in bytes.', [], (put) => put({}, read().fileBytes));
  gauge('eunomia_store_queue', 'Rows waiting for the event store writer.', [], (put) => put({}, read().queued));
  gauge('eunomia_store_writer_thread', "1 while the event store's writer runs on a worker thread (its transactions took too much of the main thread), 0 while it runs on the main thread.", [], (put) => put({}, read().writer.on === 'thread' ? 1 : 0));
  counter('eunomia_store_writer_moves_total', "Moves of the event store's writer between the main thread and a worker thread.", [], (put) => put({}, read().writer.moves));
  counter('eunomia_store_written_total', 'Rows this agent wrote to the event store, by kind.', ['kind'], perKind((k) => k.written));
  counter('eunomia_store_evicted_total', 'Rows this agent evicted from the event store, by kind and reason (cap: the row or byte cap; ttl: older than the time-to-live).', ['kind', 'reason'], (put) => {
    const s = read();
    for (const [kind, k] of [['event', s.events], ['alert', s.alerts]] as const) {
      put({ kind, reason: 'cap' }, k.evictedCap);
      put({ kind, reason: 'ttl' }, k.evictedTtl);
    }
  });
  counter('eunomia_store_dropped_total', "Rows never written to the event store, by kind: the writer's queue was full (the agent outran the disk) or a write failed.", ['kind'], perKind((k) => k.dropped));
}
