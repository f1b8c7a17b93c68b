/** What a tracker instance emits, and how its fields are shown: the types every layer above shares. */
/** An event as it flows through the pipeline, whatever tracker produced it. */
export interface TrackerEvent {
  /** Tracker name, e.g. "process". */
  tracker: string;
  /** Id of the tracker instance that produced it (several instances may run). */
  instance: number;
  /** Wall-clock time of the event in ms since the epoch (fractional). */
  time: number;
  /** Fields decoded from the eBPF event struct (names from its BTF), plus any added by handlers. */
  data: Record<string, unknown>;
}

export type Emit = (ev: TrackerEvent) => void;

/** How an exporter shows one field in table and CSV output. */
export interface Column {
  /** Field name in `data` (dotted path for nested fields, e.g. "container.name"). */
  key: string;
  /** Header text; defaults to key upper-cased. */
  header?: string;
  /** Minimum column width in plain text. */
  width?: number;
  /** Turn the value into text; default: String(value), '' for undefined. */
  format?: (value: unknown, ev: TrackerEvent) => string;
}
