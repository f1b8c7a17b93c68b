/** The agent's bounded event store (docs/store.md). */
export { EventStore, openStore, type StoreDeps } from './store.js';
export { storeOptions, parseDuration, type StoreOptions, type KindLimits, type StoreConfig } from './config.js';
export type { StoredKind, StoredRow, StoreScan, StoreReader, StoreStats, StoreKindStats } from './types.js';
