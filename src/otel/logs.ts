/**
 * Alerts and selected trackers' events as OTLP log records. Records go through the SDK's
 * batch processor; a gate in front of it bounds what waits for export, and counts what it
 * turns away, so a slow or absent collector costs bounded memory and nothing is lost silently.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import type { Alert, Priority } from '../alerts/types.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import {
  ATTR_PROCESS_COMMAND_ARGS,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_EXECUTABLE_PATH,
  ATTR_PROCESS_PARENT_PID,
  ATTR_PROCESS_PID,
  containerAttributes,
} from './semconv.js';

export const ALERT_EVENT_NAME = 'eunomia.alert';
export const TRACKER_EVENT_NAME = 'eunomia.event';

/** Falco's priorities (syslog's levels) → OTel severity, as the OTel log data model maps syslog. */
export const SEVERITY: Readonly<Record<Priority, SeverityNumber>> = {
  emergency: SeverityNumber.FATAL,
  alert: SeverityNumber.ERROR3,
  critical: SeverityNumber.ERROR2,
  error: SeverityNumber.ERROR,
  warning: SeverityNumber.WARN,
  notice: SeverityNumber.INFO2,
  informational: SeverityNumber.INFO,
  debug: SeverityNumber.DEBUG,
};

export function alertAttributes(a: Alert): Attributes {
  const out: Attributes = {
    'eunomia.rule.id': a.rule,
    'eunomia.rule.name': a.name,
    'eunomia.alert.priority': a.priority,
    'eunomia.alert.tags': a.tags,
    'eunomia.alert.source': a.source,
  };
  if (a.suppressed) out['eunomia.alert.suppressed'] = a.suppressed;
  const p = a.process;
  if (p) {
    if (p.pid !== undefined) out[ATTR_PROCESS_PID] = p.pid;
    if (p.comm !== undefined) out[ATTR_PROCESS_EXECUTABLE_NAME] = p.comm;
    if (p.exe !== undefined) out[ATTR_PROCESS_EXECUTABLE_PATH] = p.exe;
    if (p.args !== undefined) out[ATTR_PROCESS_COMMAND_ARGS] = p.args;
    if (p.ppid !== undefined) out[ATTR_PROCESS_PARENT_PID] = p.ppid;
    // The ancestry as "comm[pid]", parent first: attributes are flat, so no array of objects.
    if (p.parents?.length) out['eunomia.process.parents'] = p.parents.map((q) => `${q.comm}[${q.pid}]`);
  }
  return containerAttributes(a.container, a.k8s, out);
}

/** A field as an attribute value: scalars and arrays of one scalar type; objects are left out. */
function attributeValue(v: unknown): AttributeValue | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return v;
    case 'bigint':
      // 64-bit kernel values (ids, addresses) beyond 2^53 keep every digit as text.
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    default:
      break;
  }
  if (!Array.isArray(v) || v.length === 0) return undefined;
  if (v.every((x) => typeof x === 'string')) return v as string[];
  if (v.every((x) => typeof x === 'number')) return v as number[];
  if (v.every((x) => typeof x === 'boolean')) return v as boolean[];
  return undefined;
}

export function eventAttributes(ev: TrackerEvent): Attributes {
  const out: Attributes = { 'eunomia.tracker': ev.tracker, 'eunomia.instance': ev.instance };
  for (const [k, v] of Object.entries(ev.data)) {
    if (k === 'container' || k === 'k8s') continue;
    const a = attributeValue(v);
    if (a !== undefined) out[k] = a;
  }
  return containerAttributes(ev.data.container, ev.data.k8s, out);
}

/**
 * Bounds the records between emit and the exporter. The batch processor would drop silently
 * past its own queue size; below it (`limit` ≤ its maxQueueSize), it never has to.
 */
export class LogGate {
  emitted = 0;
  dropped = 0;
  /** After close: the SDK would ignore records silently, so they are counted as dropped here. */
  closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly limit: number,
    /** Records that reached the exporter so far. */
    private readonly taken: () => number,
  ) {}

  emit(record: Parameters<Logger['emit']>[0]): boolean {
    if (this.closed || this.emitted - this.taken() >= this.limit) {
      this.dropped++;
      return false;
    }
    this.emitted++;
    this.logger.emit(record);
    return true;
  }
}

export function emitAlert(gate: LogGate, a: Alert): boolean {
  return gate.emit({
    eventName: ALERT_EVENT_NAME,
    timestamp: new Date(a.time),
    severityNumber: SEVERITY[a.priority] ?? SeverityNumber.UNSPECIFIED,
    severityText: a.priority,
    body: a.message,
    attributes: alertAttributes(a),
  });
}

/** The pipeline sink for the trackers in `otel.events`; other trackers' events pass by uncounted. */
export class EventLogSink implements Sink {
  private written = 0;
  private refused = 0;
  private readonly trackers: ReadonlySet<string>;

  constructor(
    private readonly gate: LogGate,
    trackers: readonly string[],
    /** Event records whose export failed (lost after they were written). */
    private readonly failed: () => number,
    readonly name = 'otel',
  ) {
    this.trackers = new Set(trackers);
  }

  write(ev: TrackerEvent): void {
    if (!this.trackers.has(ev.tracker)) return;
    const ok = this.gate.emit({
      eventName: TRACKER_EVENT_NAME,
      timestamp: ev.time,
      severityNumber: SeverityNumber.INFO,
      body: ev.tracker,
      attributes: eventAttributes(ev),
    });
    if (ok) this.written++;
    else this.refused++;
  }

  /** dropped: turned away (queue full) or lost in a failed export; written: the others (sent or on their way). */
  stats(): { written: number; dropped: number } {
    const failed = this.failed();
    return { written: this.written - failed, dropped: this.refused + failed };
  }

  async close(): Promise<void> {
    // Flushing is startOtel's close(): the logger provider is shared with the alerts.
  }
}
