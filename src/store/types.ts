/**
 * The agent's bounded event store (docs/store.md): alerts, and events of the trackers chosen,
 * in an embedded SQLite database with a row/byte cap and a time-to-live per kind. What the
 * query API (src/server/http-query.ts) and the console read.
 */

/** What a row holds: an alert, or an event of a stored tracker. */
export type StoredKind = 'event' | 'alert';

export interface StoredRow {
  /** Insertion order, unique; later rows have larger ids. */
  id: number;
  /** Wall-clock ms since the epoch: the event's time (an alert's: its event's). */
  time: number;
  kind: StoredKind;
  /** Tracker of the event (an alert's source tracker). */
  tracker: string;
  /** Instance id of the event's tracker; 0 for alerts. */
  instance: number;
  /** Container id (12 hex) or '' on the host. */
  container: string;
  /** Container name or ''. */
  containerName: string;
  /** Rule id for alerts, '' for events. */
  rule: string;
  /** The process name, when the event or alert has one, else ''. */
  comm: string;
  /**
   * The whole record as it went out: for an event the TrackerEvent (`{tracker, instance, time,
   * data}` with the enrichment in data), for an alert the Alert.
   */
  record: Record<string, unknown>;
}

/** A scan by the indexed columns; every bound optional, `from`/`to` inclusive ms. */
export interface StoreScan {
  kind?: StoredKind;
  from?: number;
  to?: number;
  tracker?: string;
  container?: string;
  rule?: string;
  instance?: number;
  /** Newest first (default) or oldest first. */
  order?: 'desc' | 'asc';
  /** At most this many rows (default: all in the range). */
  limit?: number;
}

/** Counters of one kind (events or alerts) since the store opened, and now. */
export interface StoreKindStats {
  rows: number;
  /** Bytes of the stored records (their JSON), an estimate of the database's share. */
  bytes: number;
  /** Rows written since the agent started. */
  written: number;
  /** Rows removed for the row or byte cap. */
  evictedCap: number;
  /** Rows removed for being older than the time-to-live. */
  evictedTtl: number;
  /** Rows never written: the writer's queue was full (the agent outran the disk). */
  dropped: number;
}

export interface StoreStats {
  path: string;
  /** The database file and its WAL, bytes. */
  fileBytes: number;
  events: StoreKindStats;
  alerts: StoreKindStats;
  /** Rows waiting for the writer. */
  queued: number;
  /**
   * Where the writer runs: on the main thread while the rows are few, on a worker thread while
   * they are many (src/store/writer-host.ts); the moves between them so far.
   */
  writer: { on: 'main' | 'thread'; moves: number };
}

/** What the query API needs of the store. */
export interface StoreReader {
  /** Rows in the range, by the indexes, in time order. */
  scan(q: StoreScan): Iterable<StoredRow>;
  /** Time of the oldest retained row (of this kind), or undefined when there is none. */
  oldest(kind?: StoredKind): number | undefined;
  /**
   * Rows evicted or dropped whose time fell in [from, to] (of this kind): what a query of that
   * window cannot see.
   */
  droppedBetween(from: number, to: number, kind?: StoredKind): number;
  stats(): StoreStats;
}
