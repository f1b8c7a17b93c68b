/**
 * Server-Sent Events read through fetch: EventSource cannot send the Authorization header, so
 * the console reads the stream's body itself and parses it as the HTML standard says
 * (fields `event`, `data` — several joined by "\n" — and `id`; `:` comments; CR, LF or CRLF).
 */
import { authHeaders, errorOf } from './api.js';

export interface SseMessage {
  event: string;
  data: string;
}

export class SseParser {
  private buf = '';
  private event = '';
  private data: string[] = [];
  /** The last chunk ended with CR: a LF starting the next one belongs to that line end. */
  private afterCr = false;

  /** Feeds decoded text; returns the messages it completed. */
  push(text: string): SseMessage[] {
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = false;
    this.buf += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buf.indexOf('\r', start);
      const lf = this.buf.indexOf('\n', start);
      let end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      const line = this.buf.slice(start, end);
      if (this.buf[end] === '\r') {
        if (end + 1 === this.buf.length) this.afterCr = true;
        else if (this.buf[end + 1] === '\n') end++;
      }
      start = end + 1;
      this.line(line, out);
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

/**
 * Opens `path` as an event stream and hands each message to `onMessage` until the stream ends
 * (resolves), fails (rejects) or `signal` aborts. A refused request rejects with its ApiError.
 */
export async function readSse(path: string, onMessage: (m: SseMessage) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(path, { headers: authHeaders({ accept: 'text/event-stream' }), cache: 'no-store', credentials: 'omit', signal });
  if (!res.ok) throw await errorOf(res);
  if (!res.body) throw new Error('the stream has no body');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    for (const m of parser.push(decoder.decode(value, { stream: true }))) onMessage(m);
  }
}
