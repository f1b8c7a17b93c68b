/**
 * Server-Sent Events to one client: every SSE message the agent sends (live events, alerts)
 * is framed here. A slow client never slows the agent: past its buffer limit its messages are
 * dropped, counted, and the count is sent to it as a `dropped` event once it catches up.
 */
import { jsonLine } from './json.js';
import type { TrackerEvent } from '../pipeline/types.js';

/** What an SSE client writes to: an HTTP response (node:http's ServerResponse is one). */
export interface SseOutput {
  readonly writableLength: number;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
}

export const DEFAULT_CLIENT_BUFFER = 4 * 1024 * 1024;

export class SseClient {
  dropped = 0;
  private reported = 0;

  /** Sends the stream's headers, then `event: ready` with `ready` (so a client knows from when it sees messages). */
  constructor(
    readonly res: SseOutput,
    ready: unknown,
    private readonly limit = DEFAULT_CLIENT_BUFFER,
  ) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    this.event('ready', ready);
  }

  /** A tracker event as an unnamed message; false when dropped (the client is behind). */
  send(ev: TrackerEvent): boolean {
    if (!this.room()) return false;
    // jsonLine ends with "\n"; one more ends the SSE message.
    this.res.write(`data: ${jsonLine(ev)}\n`);
    return true;
  }

  /** A named message (alert, end, …); dropped and counted like events when the client is behind. */
  message(name: string, data: unknown): boolean {
    if (!this.room()) return false;
    this.event(name, data);
    return true;
  }

  /** The last message (always written), then the end of the stream. */
  end(name: string, data: unknown): void {
    this.event(name, data);
    this.res.end();
  }

  private room(): boolean {
    if (this.res.writableLength > this.limit) {
      this.dropped++;
      return false;
    }
    if (this.dropped > this.reported) {
      this.event('dropped', { dropped: this.dropped });
      this.reported = this.dropped;
    }
    return true;
  }

  private event(name: string, data: unknown): void {
    this.res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
