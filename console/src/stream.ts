/** A live stream that reconnects: what the pages use to follow /events and /alerts/stream. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, messageOf } from './api.js';
import { readSse, type SseMessage } from './sse.js';

export interface StreamState {
  /** connecting, live, or the reason it is down (and that it retries). */
  status: 'connecting' | 'live' | 'down';
  error?: string;
  /** Messages the agent dropped for this client (it fell behind): its `dropped` events. */
  dropped: number;
}

const RETRY_MS = [500, 1000, 2000, 5000, 10000];

/**
 * Follows `path` while the component is mounted; `onMessage` sees every message (the latest
 * function given is used). A 401 stops it (the app asks for the token, then mounts the page anew).
 */
export function useSse(path: string | null, onMessage: (m: SseMessage) => void): StreamState {
  const [state, setState] = useState<StreamState>({ status: 'connecting', dropped: 0 });
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connect = (): void => {
      setState((s) => ({ ...s, status: 'connecting' }));
      void readSse(
        path,
        (m) => {
          if (m.event === 'ready') {
            attempt = 0;
            setState((s) => ({ ...s, status: 'live', error: undefined }));
          } else if (m.event === 'dropped') {
            try {
              const n = (JSON.parse(m.data) as { dropped?: number }).dropped ?? 0;
              setState((s) => ({ ...s, dropped: n }));
            } catch {
              // a malformed count: nothing to show
            }
          }
          handler.current(m);
        },
        abort.signal,
      ).then(
        () => retry('the agent closed the stream'),
        (e: unknown) => {
          if (abort.signal.aborted) return;
          if (e instanceof ApiError && e.status === 401) return setState((s) => ({ ...s, status: 'down', error: 'the token was refused' }));
          retry(messageOf(e));
        },
      );
    };
    const retry = (why: string): void => {
      if (abort.signal.aborted) return;
      const ms = RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]!;
      setState((s) => ({ ...s, status: 'down', error: `${why}; retrying in ${ms / 1000} s` }));
      timer = setTimeout(connect, ms);
    };
    connect();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [path]);
  return state;
}

/** Calls `f` now and every `ms` while mounted (and again when `deps` change). */
export function usePoll(f: () => void | Promise<void>, ms: number, deps: unknown[] = []): void {
  const fn = useRef(f);
  fn.current = f;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      try {
        await fn.current();
      } finally {
        if (!stopped) timer = setTimeout(() => void tick(), ms);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}
