/** A Server-Sent Events reader for the tests and the bench: wait for a message by type or content. */
import { sseMessages } from '../../src/cli/sse.js';

export interface SseMessage {
  event: string;
  data: unknown;
}

export interface SseStream {
  /** The next message of this event type ("message" for events); earlier others are skipped. */
  next(event: string, ms?: number): Promise<unknown>;
  /** The first event ("message") whose data satisfies `pred`. */
  until(pred: (data: Record<string, unknown>) => boolean, ms?: number): Promise<unknown>;
  close(): void;
}

export async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const ctl = new AbortController();
  const res = await fetch(url, { headers, signal: ctl.signal });
  if (!res.ok || !res.body) throw new Error(`stream ${url}: ${res.status} ${await res.text()}`);
  const queue: SseMessage[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void (async () => {
    try {
      for await (const m of sseMessages(res.body as unknown as AsyncIterable<Uint8Array>)) {
        queue.push({ event: m.event, data: JSON.parse(m.data) });
        wake?.();
      }
    } catch {
      // aborted
    }
    ended = true;
    wake?.();
  })();

  const take = async (match: (m: SseMessage) => boolean, what: string, ms: number): Promise<unknown> => {
    const end = Date.now() + ms;
    for (;;) {
      const i = queue.findIndex(match);
      if (i >= 0) {
        const [m] = queue.splice(0, i + 1).slice(-1);
        return m!.data;
      }
      if (ended) throw new Error(`stream ended before ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, Math.min(left, 100));
      });
    }
  };
  return {
    next: (event, ms = 10_000) => take((m) => m.event === event, `"${event}" message`, ms),
    until: (pred, ms = 10_000) => take((m) => m.event === 'message' && pred(m.data as Record<string, unknown>), 'matching event', ms),
    close: () => ctl.abort(),
  };
}
