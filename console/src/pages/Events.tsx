/**
 * Live events: every instance's events from GET /events, newest first, in a virtualised table.
 * The table holds still while the reader hovers it or has scrolled down (new rows are held and
 * counted: "N new"); column filters apply to every row in the page, a filter expression (the
 * rules' language) is evaluated by the agent over its stored history (GET /query). The filters
 * are in the address.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Detail } from '../components/Detail.js';
import { VirtualTable, type VColumn } from '../components/VirtualTable.js';
import { COLUMNS, compileFilters, equals, filtersAsCondition, fromStored, fromStream, type EventRow, type Filters } from '../events.js';
import { coverage, historyError, query, RANGES, type QueryAnswer } from '../query.js';
import { writeParams } from '../route.js';
import { useSse } from '../stream.js';

/** Rows kept in the page; older ones are let go (and counted). */
export const MAX_ROWS = 20_000;
const HISTORY_LIMIT = 1000;

const FILTERABLE = new Set(['tracker', 'container', 'pid', 'comm']);
const TABLE_COLUMNS: VColumn<EventRow>[] = COLUMNS.map((c) => ({ id: c.id, title: c.title, value: c.value, filterable: FILTERABLE.has(c.id) }));

function filtersOf(params: URLSearchParams): Filters {
  const f: Filters = {};
  for (const c of COLUMNS) {
    const v = params.get(`f.${c.id}`);
    if (v) f[c.id] = v;
  }
  return f;
}

interface History {
  state: 'idle' | 'loading' | 'ok' | 'error';
  message?: string;
  answer?: QueryAnswer;
}

export function EventsPage({ params }: { params: URLSearchParams }) {
  const filters = filtersOf(params);
  const filterKey = JSON.stringify(filters);
  const q = params.get('q') ?? '';
  const range = params.get('range') ?? '15m';
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  const match = useMemo(() => compileFilters(filters), [filterKey]);
  const all = useRef<EventRow[]>([]); // every row, newest first
  const shown = useRef<EventRow[]>([]); // those that match, newest first
  const held = useRef<EventRow[]>([]); // come in while paused, oldest first
  const incoming = useRef<EventRow[]>([]);
  const frame = useRef(0);
  const [, setVersion] = useState(0);
  const [newCount, setNewCount] = useState(0);
  const [discarded, setDiscarded] = useState(0);
  const [hover, setHover] = useState(false);
  const [scrolled, setScrolled] = useState(false);
  const [manual, setManual] = useState(false);
  const [selected, setSelected] = useState<number | undefined>();
  const [history, setHistory] = useState<History>({ state: 'idle' });
  const paused = hover || scrolled || manual;
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const matchRef = useRef(match);
  matchRef.current = match;

  /** `batch` oldest first, into the table (newest first), within MAX_ROWS. */
  const add = (batch: EventRow[]): void => {
    if (!batch.length) return;
    const newest = batch.reverse();
    const all2 = newest.concat(all.current);
    if (all2.length > MAX_ROWS) {
      setDiscarded((n) => n + all2.length - MAX_ROWS);
      all2.length = MAX_ROWS;
    }
    all.current = all2;
    const fresh = newest.filter(matchRef.current);
    if (fresh.length) {
      const s = fresh.concat(shown.current);
      if (s.length > MAX_ROWS) s.length = MAX_ROWS;
      shown.current = s;
    }
    setVersion((v) => v + 1);
  };

  const flush = (): void => {
    frame.current = 0;
    const batch = incoming.current;
    incoming.current = [];
    if (!pausedRef.current) return add(batch);
    held.current.push(...batch);
    if (held.current.length > MAX_ROWS) {
      setDiscarded((n) => n + held.current.length - MAX_ROWS);
      held.current.splice(0, held.current.length - MAX_ROWS);
    }
    const n = batch.filter(matchRef.current).length;
    if (n) setNewCount((c) => c + n);
  };

  // Held rows go in when the reader lets go (leaves the table, scrolls back up, resumes).
  useEffect(() => {
    if (paused || !held.current.length) return;
    const h = held.current;
    held.current = [];
    setNewCount(0);
    add(h);
  }, [paused]);

  useEffect(() => {
    shown.current = all.current.filter(match);
    setVersion((v) => v + 1);
  }, [match]);

  const stream = useSse(
    '/events',
    (m) => {
      if (m.event !== 'message') return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(m.data) as Record<string, unknown>;
      } catch {
        return;
      }
      incoming.current.push(fromStream(o));
      // Once a frame at most, whatever the rate; a tab that gets no frames (hidden) has the timer.
      if (!frame.current) {
        const run = (): void => {
          cancelAnimationFrame(raf);
          clearTimeout(timer);
          flush();
        };
        const raf = requestAnimationFrame(run);
        const timer = setTimeout(run, 100);
        frame.current = raf;
      }
    },
  );

  // The history: what the agent stored that matches the expression and the column filters
  // (at once when the page opens; after a pause in typing when the filters change).
  const opened = useRef(false);
  useEffect(() => {
    const abort = new AbortController();
    const where = [q ? `(${q})` : '', ...filtersAsCondition(filters)].filter(Boolean).join(' and ');
    const timer = setTimeout(() => {
      setHistory({ state: 'loading' });
      query({ where, from: `-${range}`, limit: HISTORY_LIMIT }, abort.signal).then(
        (answer) => {
          const to = Date.parse(answer.window.to);
          const rows = (answer.rows ?? []).map(fromStored);
          // Live rows after the window, then the window's rows: none twice.
          all.current = all.current.filter((r) => !r.history && r.time > to).concat(rows);
          shown.current = all.current.filter(matchRef.current);
          setVersion((v) => v + 1);
          setHistory({ state: 'ok', answer });
        },
        (e: unknown) => {
          if (abort.signal.aborted) return;
          setHistory({ state: 'error', message: historyError(e) });
        },
      );
    }, opened.current ? 300 : 0);
    opened.current = true;
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [q, range, filterKey]);

  const setParam = (k: string, v: string): void => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v);
    else p.delete(k);
    writeParams('events', p);
  };
  const resume = (): void => {
    setManual(false);
    setScrolled(false);
    document.querySelector('.vt-body')?.scrollTo({ top: 0 });
  };
  const sel = selected === undefined ? undefined : all.current.find((r) => r.key === selected);
  const rows = shown.current;

  return (
    <section class="page events">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setParam('q', draft.trim());
        }}
      >
        <input class="expr" name="q" placeholder='filter expression, e.g. comm = "sh" and container.name startswith "web"' value={draft} onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)} />
        <select value={range} onChange={(e) => setParam('range', (e.currentTarget as HTMLSelectElement).value)} title="history range">
          {RANGES.map((r) => (
            <option key={r} value={r}>
              last {r}
            </option>
          ))}
        </select>
        <button type="submit">Search</button>
        <button type="button" onClick={() => setManual(!manual)} class={manual ? 'on' : ''}>
          {manual ? 'Resume' : 'Pause'}
        </button>
        {paused && newCount > 0 ? (
          <button type="button" class="new-rows" onClick={resume}>
            {newCount} new
          </button>
        ) : null}
      </form>
      <div class="status-line">
        <span class={`stream ${stream.status}`}>{stream.status === 'live' ? (paused ? 'paused' : 'live') : stream.status}</span>
        {stream.error ? <span class="error"> {stream.error}</span> : null}
        <span>
          {' '}
          {rows.length} shown of {all.current.length}
        </span>
        {discarded ? <span> · {discarded} older rows let go</span> : null}
        {stream.dropped ? <span class="warn"> · the agent dropped {stream.dropped} events for this page (it fell behind)</span> : null}
        <span class={`history ${history.state}`}>
          {' · '}
          {history.state === 'loading' ? 'history: loading…' : history.state === 'error' ? history.message : history.answer ? `history: ${history.answer.rows?.length ?? 0} rows, ${coverage(history.answer)}` : ''}
        </span>
        {q ? <span class="note"> · the expression selects the history; live rows follow the column filters</span> : null}
      </div>
      <div class="split">
        <VirtualTable
          rows={rows}
          columns={TABLE_COLUMNS}
          rowKey={(r) => r.key}
          selected={selected}
          onSelect={(r) => setSelected(r.key)}
          onCellClick={(c, v) => setParam(`f.${c.id}`, `=${v}`)}
          onScrollTop={(t) => setScrolled(t > 0)}
          onHover={setHover}
          rowClass={(r) => (r.history ? 'hist' : '')}
          empty={stream.status === 'live' ? 'no events match yet' : 'connecting to the agent…'}
          header={
            <div class="vt-filters">
              {COLUMNS.map((c) => (
                <span key={c.id} class={`cell col-${c.id}`}>
                  {c.id === 'time' ? null : (
                    <input
                      name={`f.${c.id}`}
                      placeholder={c.id === 'event' ? 'contains…' : '=exact, !not, contains'}
                      value={filters[c.id] ?? ''}
                      onChange={(e) => setParam(`f.${c.id}`, (e.currentTarget as HTMLInputElement).value)}
                    />
                  )}
                </span>
              ))}
            </div>
          }
        />
        {sel ? (
          <Detail
            title={`${sel.tracker} #${sel.instance} ${new Date(sel.time).toISOString()}${sel.history ? ' (history)' : ''}`}
            value={{ time: new Date(sel.time).toISOString(), tracker: sel.tracker, instance: sel.instance, ...sel.data }}
            onField={(path, v) => {
              const f = path === 'tracker' ? 'evt.tracker' : path;
              if (path === 'time' || path === 'instance') return;
              setParam('q', [q ? `(${q})` : '', equals(f, v)].filter(Boolean).join(' and '));
            }}
            onClose={() => setSelected(undefined)}
          />
        ) : null}
      </div>
    </section>
  );
}
