/**
 * Live event streams for API clients (Server-Sent Events): a pipeline sink that hands each
 * event to the clients watching its instance (or all instances). A slow client never slows
 * the agent: past its buffer limit its events are dropped, counted, and the count is sent to
 * it as a `dropped` event once it catches up.
 */
import { SseClient, DEFAULT_CLIENT_BUFFER, type SseOutput } from '../exporters/index.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';

export { DEFAULT_CLIENT_BUFFER };

export interface StreamTotals {
  clients: number;
  written: number;
  dropped: number;
}

export class EventStreams implements Sink {
  readonly name = 'streams';
  private readonly byInstance = new Map<number, Set<SseClient>>();
  private readonly everything = new Set<SseClient>();
  private readonly taps = new Map<number, (ev: TrackerEvent) => void>();
  private written = 0;
  private droppedTotal = 0;

  constructor(private readonly clientBuffer = DEFAULT_CLIENT_BUFFER) {}

  write(ev: TrackerEvent): void {
    this.taps.get(ev.instance)?.(ev);
    const subs = this.byInstance.get(ev.instance);
    if (subs) for (const c of subs) this.deliver(c, ev);
    for (const c of this.everything) this.deliver(c, ev);
  }

  private deliver(c: SseClient, ev: TrackerEvent): void {
    if (c.send(ev)) this.written++;
    else this.droppedTotal++;
  }

  /**
   * Starts an SSE response for one instance (or every instance with `instance` undefined).
   * The first message is `event: ready`, so a client knows from when it sees events.
   */
  open(res: SseOutput & { on(event: 'close', f: () => void): unknown }, instance: number | undefined, ready: unknown): void {
    const c = new SseClient(res, ready, this.clientBuffer);
    let set: Set<SseClient>;
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
  }

  /** An in-process reader of one instance's events (the API's timed profile); returns its removal. */
  tap(instance: number, f: (ev: TrackerEvent) => void): () => void {
    this.taps.set(instance, f);
    return () => void this.taps.delete(instance);
  }

  /** The instance is gone: its clients get an `end` event (with its final stats) and are closed. */
  end(instance: number, data: unknown): void {
    const set = this.byInstance.get(instance);
    if (!set) return;
    this.byInstance.delete(instance);
    for (const c of set) c.end('end', data);
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
    for (const c of this.everything) c.end('end', { reason: 'server stopping' });
    this.everything.clear();
  }
}
