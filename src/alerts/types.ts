/** A security alert, as it reaches people: log lines, JSON lines, webhooks, the API. */

/** Falco's priority scale, most severe first. */
export const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface AlertProcess {
  pid?: number;
  comm?: string;
  exe?: string;
  args?: string[];
  ppid?: number;
  /** Ancestors, parent first. */
  parents?: { pid: number; comm: string }[];
}

export interface Alert {
  /** ISO-8601 time of the event that raised it. */
  time: string;
  rule: string;
  name: string;
  priority: Priority;
  tags: string[];
  message: string;
  /** The tracker whose event matched. */
  source: string;
  process?: AlertProcess;
  container?: Record<string, unknown>;
  k8s?: Record<string, unknown>;
  /** Alerts of the same rule and container held back since the previous one that went out. */
  suppressed?: number;
}

/** Where alerts go. `send` never blocks and never throws: what cannot be sent is counted. */
export interface AlertSink {
  readonly name: string;
  send(alert: Alert): void;
  stats(): { sent: number; dropped: number; failed: number };
  close(): Promise<void>;
}
