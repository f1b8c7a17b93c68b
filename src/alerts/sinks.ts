/** Where alerts go: a log line, a JSON lines file, a webhook. None blocks; every loss is counted. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Alert, AlertSink } from './types.js';

/** One readable line per alert: time, PRIORITY, rule, message (container and pod inside it). */
export function alertLine(a: Alert): string {
  const extra = a.suppressed ? ` (+${a.suppressed} more held back)` : '';
  return `${a.time} ${a.priority.toUpperCase()} ${a.rule}: ${a.message}${extra}\n`;
}

/** Alerts as lines on a stream (the agent's log). Past `maxBufferedBytes` waiting, dropped and counted. */
export function logSink(out: NodeJS.WritableStream & { writableLength?: number }, maxBufferedBytes = 1 << 20): AlertSink {
  let sent = 0;
  let dropped = 0;
  return {
    name: 'log',
    send(a) {
      if ((out.writableLength ?? 0) > maxBufferedBytes) {
        dropped++;
        return;
      }
      out.write(alertLine(a));
      sent++;
    },
    stats: () => ({ sent, dropped, failed: 0 }),
    close: async () => {},
  };
}

/** Alerts as JSON lines appended to a file. */
export function jsonlSink(path: string, maxBufferedBytes = 8 << 20): AlertSink {
  let sent = 0;
  let dropped = 0;
  let failed = 0;
  let error: Error | undefined;
  const file: WriteStream = createWriteStream(path, { flags: 'a' });
  file.on('error', (e) => {
    error = e;
  });
  return {
    name: `file:${path}`,
    send(a) {
      if (error) {
        failed++;
        return;
      }
      if (file.writableLength > maxBufferedBytes) {
        dropped++;
        return;
      }
      file.write(JSON.stringify(a) + '\n');
      sent++;
    },
    stats: () => ({ sent, dropped, failed }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        file.end(() => (error ? reject(new EunomiaError(ErrorCodes.IO, `alert file ${path}: ${error.message}`)) : resolve()));
      }),
  };
}

export interface WebhookOptions {
  /** Attempts per alert, the first included. Default 4. */
  attempts?: number;
  /** Delay before the first retry; doubles each time. Default 500 ms. */
  retryMs?: number;
  timeoutMs?: number;
  /** Alerts waiting to be posted; beyond that new ones are dropped and counted. Default 1000. */
  maxQueue?: number;
  headers?: Record<string, string>;
}

/**
 * Each alert POSTed as JSON, one at a time in order, retried with back-off on a network error
 * or a 5xx (a 4xx is the receiver refusing it: not retried, counted as failed).
 */
export function webhookSink(url: string, opts: WebhookOptions = {}): AlertSink {
  const attempts = opts.attempts ?? 4;
  const retryMs = opts.retryMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxQueue = opts.maxQueue ?? 1000;
  const queue: Alert[] = [];
  let sent = 0;
  let dropped = 0;
  let failed = 0;
  let running: Promise<void> | undefined;
  let closing = false;
  const ctl = new AbortController();

  const post = async (a: Alert): Promise<'ok' | 'retry' | 'refused'> => {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body: JSON.stringify(a),
        signal: AbortSignal.any([ctl.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      return res.status >= 500 ? 'retry' : 'refused';
    } catch {
      return 'retry';
    }
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const a = queue[0]!;
      let outcome: 'ok' | 'retry' | 'refused' = 'retry';
      for (let i = 0; i < attempts && outcome === 'retry' && !ctl.signal.aborted; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, retryMs * 2 ** (i - 1)));
        outcome = await post(a);
      }
      queue.shift();
      if (outcome === 'ok') sent++;
      else failed++;
    }
  };

  return {
    name: `webhook:${url}`,
    send(a) {
      if (closing || queue.length >= maxQueue) {
        dropped++;
        return;
      }
      queue.push(a);
      running ??= drain().finally(() => (running = undefined));
    },
    stats: () => ({ sent, dropped, failed }),
    /** Gives what is queued `graceMs` to go out, then gives up on the rest (counted as failed). */
    async close(graceMs: number = 2000) {
      closing = true;
      const t = setTimeout(() => ctl.abort(), graceMs);
      await running;
      clearTimeout(t);
      failed += queue.length;
      queue.length = 0;
    },
  } as AlertSink & { close(graceMs?: number): Promise<void> };
}
