/**
 * The database: its tables, indexes and settings, shared by the writer (a worker thread) and
 * the reader (the main thread). better-sqlite3 is loaded with require from here, on first use:
 * an agent with the store off never loads the addon, and the CLI's bundle (scripts/bundle.js)
 * leaves it in node_modules, where it finds its compiled file.
 *
 * Every value reaches SQL as a bound parameter; the only text put into a statement is the
 * kind's code (a number from KIND_CODE) and fixed fragments.
 */
import { createRequire } from 'node:module';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { StoredKind } from './types.js';

/** What of better-sqlite3's statements the store uses. */
export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

/** What of better-sqlite3's connection the store uses. */
export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): unknown;
  pragma(sql: string, opts?: { simple?: boolean }): unknown;
  /** A function run in one transaction; `.immediate` takes the write lock at its start. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) & { immediate: (...args: A) => R };
  close(): void;
}

/** A kind as the `kind` column holds it. */
export const KIND_CODE: Record<StoredKind, 0 | 1> = { event: 0, alert: 1 };
export const KINDS: readonly StoredKind[] = ['event', 'alert'];

/** Why rows were lost, as the `losses` table counts them per minute of the rows' time. */
export const LOSS = { cap: 0, ttl: 1, dropped: 2 } as const;

/** This file's format; a database of another is refused, not converted. */
export const FORMAT_VERSION = 1;

/** Losses are counted per minute of the lost rows' time: a window that cuts a minute counts its losses whole. */
export const LOSS_MINUTE_MS = 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rows (
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  time INTEGER NOT NULL,
  tracker TEXT NOT NULL,
  instance INTEGER NOT NULL,
  container TEXT NOT NULL,
  rule TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rows_time ON rows (kind, time);
CREATE INDEX IF NOT EXISTS rows_tracker ON rows (kind, tracker, time);
CREATE INDEX IF NOT EXISTS rows_container ON rows (kind, container, time);
CREATE INDEX IF NOT EXISTS rows_rule ON rows (rule, time) WHERE kind = 1;
CREATE INDEX IF NOT EXISTS rows_instance ON rows (instance, time) WHERE kind = 0;
CREATE TABLE IF NOT EXISTS kinds (kind INTEGER PRIMARY KEY, rows INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO kinds (kind, rows, bytes) VALUES (0, 0, 0), (1, 0, 0);
CREATE TABLE IF NOT EXISTS losses (
  kind INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (kind, minute, reason)
) WITHOUT ROWID;
`;

type DatabaseClass = new (path: string, opts?: { fileMustExist?: boolean; timeout?: number }) => Database;
let DatabaseCtor: DatabaseClass | undefined;

function driver(): DatabaseClass {
  DatabaseCtor ??= createRequire(import.meta.url)('better-sqlite3') as DatabaseClass;
  return DatabaseCtor;
}

/** What a failure of the database says: the file, what was done, what to do. */
export function storeError(path: string, what: string, e: unknown): EunomiaError {
  const msg = e instanceof Error ? e.message : String(e);
  return new EunomiaError(ErrorCodes.IO, `store ${path}: ${what}: ${msg} — choose another file with --store PATH (store.path), or run without a store (--no-store)`, { cause: e });
}

/**
 * Opens the database: WAL (readers beside the writer; a kill mid-write loses at most the
 * transaction under way), synchronous=NORMAL (a commit is not synced: a power cut may lose
 * the last ones, a killed process none), and `busy_timeout` because agents may share the file.
 * The writer creates the schema; the reader finds it.
 */
export function openDatabase(path: string, role: 'writer' | 'reader'): Database {
  let db: Database;
  try {
    db = new (driver())(path, { fileMustExist: role === 'reader', timeout: role === 'writer' ? 10_000 : 2_000 });
  } catch (e) {
    throw storeError(path, 'cannot open the database', e);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    if (role === 'writer') {
      // Checkpoints every ~40 MiB of WAL rather than 4: the pages written over and over (the
      // indexes' last pages) are copied into the database less often (~+15 % rows/s here). The
      // WAL is cut back after a checkpoint: a burst would otherwise leave it large.
      db.pragma('wal_autocheckpoint = 10000');
      db.pragma('journal_size_limit = 67108864');
      db.pragma('cache_size = -16384');
      const version = db.pragma('user_version', { simple: true }) as number;
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
      if (version !== FORMAT_VERSION && (version !== 0 || tables.n > 0)) {
        throw new Error(`it is not an event store of this version (format ${version}, want ${FORMAT_VERSION}): move it away`);
      }
      db.exec(SCHEMA);
      db.pragma(`user_version = ${FORMAT_VERSION}`);
    } else {
      db.pragma('query_only = true');
    }
  } catch (e) {
    db.close();
    throw e instanceof EunomiaError ? e : storeError(path, 'cannot use the database', e);
  }
  return db;
}
