/**
 * Live event streams for API clients (Server-Sent Events): a pipeline sink that hands each
 * event to the clients watching its instance (or all instances). A slow client never slows
 * the agent: past its buffer limit its events are dropped, counted, and the count is sent to
 * it as a `dropped` event once it catches up.
 */
import type { ServerResponse } from 'node:http';
import { jsonLine } from '../exporters/index.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';

export const DEFAULT_CLIENT_BUFFER = 4 * 1024 * 1024;

class Client {
  dropped = 0;
  private reported = 0;
  constructor(
    readonly res: ServerResponse,
    private readonly limit: number,
  ) {}

  send(ev: TrackerEvent): boolean {
    if (this.res.writableLength > this.limit) {
      this.dropped++;
      return false;
    }
    if (this.dropped > this.reported) {
      this.res.write(`event: dropped\ndata: {"dropped":${this.dropped}}\n\n`);
      this.reported = this.dropped;
    }
    // jsonLine ends with "\n"; one more ends the SSE message.
    this.res.write(`data: ${jsonLine(ev)}\n`);
    return true;
  }

  event(name: string, data: unknown): void {
    this.res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}

export interface StreamTotals {
  clients: number;
  written: number;
  dropped: number;
}

export class EventStreams implements Sink {
  readonly name = 'streams';
  private readonly byInstance = new Map<number, Set<Client>>();
  private readonly everything = new Set<Client>();
  private written = 0;
  private droppedTotal = 0;

  constructor(private readonly clientBuffer = DEFAULT_CLIENT_BUFFER) {}

  write(ev: TrackerEvent): void {
    const subs = this.byInstance.get(ev.instance);
    if (subs) for (const c of subs) this.deliver(c, ev);
    for (const c of this.everything) this.deliver(c, ev);
  }

  private deliver(c: Client, ev: TrackerEvent): void {
    if (c.send(ev)) this.written++;
    else this.droppedTotal++;
  }

  /**
   * Starts an SSE response for one instance (or every instance with `instance` undefined).
   * The first message is `event: ready`, so a client knows from when it sees events.
   */
  open(res: ServerResponse, instance: number | undefined, ready: unknown): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const c = new Client(res, this.clientBuffer);
    let set: Set<Client>;
    if (instance === undefined) set = this.everything;
    else {
      set = this.byInstance.get(instance) ?? new Set();
      this.byInstance.set(instance, set);
    }
    set.add(c);
    res.on('close', () => {
      set.delete(c);
      if (instance !== undefined && set.size === 0) this.byInstance.delete(instance);
    });
    c.event('ready', ready);
  }

  /** The instance is gone: its clients get an `end` event (with its final stats) and are closed. */
  end(instance: number, data: unknown): void {
    const set = this.byInstance.get(instance);
    if (!set) return;
    this.byInstance.delete(instance);
    for (const c of set) {
      c.event('end', data);
      c.res.end();
    }
  }

  totals(): StreamTotals {
    let clients = this.everything.size;
    for (const s of this.byInstance.values()) clients += s.size;
    return { clients, written: this.written, dropped: this.droppedTotal };
  }

  stats(): { written: number; dropped: number } {
    return { written: this.written, dropped: this.droppedTotal };
  }

  async close(): Promise<void> {
    for (const id of [...this.byInstance.keys()]) this.end(id, { id, reason: 'server stopping' });
    for (const c of this.everything) {
      c.event('end', { reason: 'server stopping' });
      c.res.end();
    }
    this.everything.clear();
  }
}
