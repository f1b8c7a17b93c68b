/**
 * Alerts: counts by rule, priority and container over the chosen window (GET /query with
 * `kind=alert` and `group=`), the list with each alert's process chain and container, new
 * ones as they are raised (GET /alerts/stream), and which the reader has acknowledged — kept
 * in this browser (localStorage), not in the agent.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import { Bars, bucket } from '../components/Bars.js';
import { Detail } from '../components/Detail.js';
import { text } from '../events.js';
import { historyError, query, RANGES, coverage, type QueryAnswer } from '../query.js';
import { writeParams } from '../route.js';
import { useSse } from '../stream.js';

export interface Alert {
  time: string;
  rule: string;
  name?: string;
  priority: string;
  message: string;
  source?: string;
  process?: { pid?: number; comm?: string; exe?: string; args?: string[]; parents?: { pid: number; comm: string }[] };
  container?: { id?: string; name?: string; image?: string };
  k8s?: { namespace?: string; pod?: string };
  suppressed?: number;
}

const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];
const LIST_MAX = 2000;
const BUCKETS = 30;
const ACK_KEY = 'eunomia.acknowledged';
const ACK_MAX = 10_000;

const DIMENSIONS = [
  { id: 'rule', title: 'By rule', get: (a: Alert) => a.rule },
  { id: 'priority', title: 'By priority', get: (a: Alert) => a.priority },
  { id: 'container', field: 'container.name', title: 'By container', get: (a: Alert) => a.container?.name ?? '' },
] as const;

export function alertKey(a: Alert): string {
  return `${a.time}|${a.rule}|${a.container?.id ?? ''}|${a.process?.pid ?? ''}`;
}

function loadAcks(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(ACK_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

function saveAcks(s: Set<string>): void {
  // The newest acknowledgements, within a bound: localStorage holds a few MB.
  localStorage.setItem(ACK_KEY, JSON.stringify([...s].slice(-ACK_MAX)));
}

/** `sh(42) ← bash(40) ← sshd(1)`: the process and its ancestors, as the alert names them. */
export function chain(a: Alert): string {
  const p = a.process;
  if (!p) return '';
  const me = `${p.comm ?? '?'}(${p.pid ?? '?'})`;
  return [me, ...(p.parents ?? []).map((x) => `${x.comm}(${x.pid})`)].join(' ← ');
}

const RANGE_MS: Record<string, number> = { '5m': 300e3, '15m': 900e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };

interface Loaded {
  alerts: Alert[];
  groups: Record<string, Map<string, number>> | null;
  answer?: QueryAnswer;
  error?: string;
  from: number;
  to: number;
}

export function AlertsPage({ params }: { params: URLSearchParams }) {
  const range = params.get('range') ?? '1h';
  const showAcked = params.get('acked') === '1';
  const chosen: Record<string, string | null> = { rule: params.get('rule'), priority: params.get('priority'), container: params.get('container') };
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [live, setLive] = useState<Alert[]>([]);
  const [acks, setAcks] = useState(loadAcks);
  const [selected, setSelected] = useState<string | undefined>();

  useEffect(() => {
    const abort = new AbortController();
    const from = `-${range}`;
    setLive([]);
    (async (): Promise<Loaded> => {
      const now = Date.now();
      try {
        const [rows, ...groups] = await Promise.all([
          query({ kind: 'alert', from, limit: 10_000 }, abort.signal),
          ...DIMENSIONS.map((d) => query({ kind: 'alert', from, group: 'field' in d ? d.field : d.id }, abort.signal)),
        ]);
        const g: Record<string, Map<string, number>> = {};
        DIMENSIONS.forEach((d, i) => {
          const f = 'field' in d ? d.field : d.id;
          g[d.id] = new Map((groups[i]!.groups ?? []).map((x) => [text(x.key[f]), x.count]));
        });
        return { alerts: (rows.rows ?? []).map((r) => r.record as unknown as Alert), groups: g, answer: rows, from: Date.parse(rows.window.from), to: Date.parse(rows.window.to) };
      } catch (e) {
        if (abort.signal.aborted) throw e;
        // No history: the analyzer's latest alerts (GET /alerts) are still there to show.
        const error = historyError(e);
        const from2 = now - (RANGE_MS[range] ?? 3600e3);
        try {
          const recent = await api<{ enabled: boolean; alerts: Alert[] }>('/alerts', { signal: abort.signal });
          const alerts = recent.alerts.filter((a) => Date.parse(a.time) >= from2).reverse();
          return { alerts, groups: null, error: recent.enabled ? `${error} — showing the agent's latest alerts` : `${error}; security rules are off`, from: from2, to: now };
        } catch (e2) {
          return { alerts: [], groups: null, error: `${error}; latest alerts: ${messageOf(e2)}`, from: from2, to: now };
        }
      }
    })().then(setLoaded, () => undefined);
    return () => abort.abort();
  }, [range]);

  const stream = useSse(
    '/alerts/stream',
    (m) => {
      if (m.event !== 'alert') return;
      try {
        const a = JSON.parse(m.data) as Alert;
        setLive((l) => [a, ...l].slice(0, LIST_MAX));
      } catch {
        // not an alert
      }
    },
  );

  // Newest first; an alert seen on the stream and in the history once.
  const all = useMemo(() => {
    const seen = new Set<string>();
    const out: Alert[] = [];
    for (const a of [...live, ...(loaded?.alerts ?? [])]) {
      const k = alertKey(a);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(a);
    }
    return out;
  }, [live, loaded]);

  const historyKeys = useMemo(() => new Set((loaded?.alerts ?? []).map(alertKey)), [loaded]);
  const to = Math.max(loaded?.to ?? Date.now(), ...live.map((a) => Date.parse(a.time)));
  const from = loaded?.from ?? to - (RANGE_MS[range] ?? 3600e3);
  const matching = all.filter((a) => DIMENSIONS.every((d) => chosen[d.id] === null || d.get(a) === chosen[d.id]));
  const list = matching.filter((a) => showAcked || !acks.has(alertKey(a))).slice(0, LIST_MAX);

  const setParam = (k: string, v: string | null): void => {
    const p = new URLSearchParams(params);
    if (v === null || v === '') p.delete(k);
    else p.set(k, v);
    writeParams('alerts', p);
  };
  const toggleAck = (a: Alert): void => {
    const s = new Set(acks);
    const k = alertKey(a);
    if (s.has(k)) s.delete(k);
    else s.add(k);
    saveAcks(s);
    setAcks(s);
  };
  const sel = selected === undefined ? undefined : all.find((a) => alertKey(a) === selected);
  const liveKeys = new Set(live.map(alertKey));

  return (
    <section class="page alerts">
      <div class="toolbar">
        <select value={range} onChange={(e) => setParam('range', (e.currentTarget as HTMLSelectElement).value)}>
          {RANGES.map((r) => (
            <option key={r} value={r}>
              last {r}
            </option>
          ))}
        </select>
        {DIMENSIONS.map((d) =>
          chosen[d.id] !== null ? (
            <button key={d.id} type="button" class="chip" title="remove this filter" onClick={() => setParam(d.id, null)}>
              {d.id} = {chosen[d.id] || '(none)'} ×
            </button>
          ) : null,
        )}
        <label>
          <input type="checkbox" checked={showAcked} onChange={(e) => setParam('acked', (e.currentTarget as HTMLInputElement).checked ? '1' : null)} /> show acknowledged
        </label>
      </div>
      <div class="status-line">
        <span class={`stream ${stream.status}`}>{stream.status}</span>
        {stream.error ? <span class="error"> {stream.error}</span> : null}
        <span class={`history ${loaded?.error ? 'error' : 'ok'}`}> · {loaded ? (loaded.error ?? `history: ${coverage(loaded.answer!)}`) : 'history: loading…'}</span>
      </div>
      <div class="panels">
        {DIMENSIONS.map((d) => {
          // Totals from the agent's group-by when it answered; else counted here.
          const counts = new Map<string, number>();
          if (loaded?.groups) for (const [k, n] of loaded.groups[d.id]!) counts.set(k, n);
          else for (const a of all) counts.set(d.get(a), (counts.get(d.get(a)) ?? 0) + 1);
          if (loaded?.groups) for (const a of live) if (!historyKeys.has(alertKey(a))) counts.set(d.get(a), (counts.get(d.get(a)) ?? 0) + 1);
          const order = [...counts].sort((x, y) => (d.id === 'priority' ? PRIORITIES.indexOf(x[0]) - PRIORITIES.indexOf(y[0]) : y[1] - x[1])).slice(0, 12);
          return (
            <div key={d.id} class={`panel dim-${d.id}`}>
              <h3>{d.title}</h3>
              <table>
                <tbody>
                  {order.map(([k, n]) => (
                    <tr key={k} class={chosen[d.id] === k ? 'selected' : ''}>
                      <td>
                        <span class="val" onClick={() => setParam(d.id, k)}>
                          {k || '(none)'}
                        </span>
                      </td>
                      <td class="num">{n}</td>
                      <td>
                        <Bars counts={bucket(all.filter((a) => d.get(a) === k).map((a) => Date.parse(a.time)), from, to, BUCKETS)} width={120} height={18} class="spark" />
                      </td>
                    </tr>
                  ))}
                  {order.length === 0 ? (
                    <tr>
                      <td class="muted">no alerts</td>
                    </tr>
                  ) : null}
                </tbody>
              </table>
            </div>
          );
        })}
      </div>
      <div class="timeline">
        <Bars
          counts={bucket(matching.map((a) => Date.parse(a.time)), from, to, 60)}
          width={900}
          height={60}
          label={(i, n) => `${new Date(from + ((to - from) * i) / 60).toLocaleTimeString()}: ${n}`}
        />
      </div>
      <div class="split">
        <table class="list alert-list">
          <thead>
            <tr>
              <th>ack</th>
              <th>Time</th>
              <th>Priority</th>
              <th>Rule</th>
              <th>Container</th>
              <th>Process chain</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => {
              const k = alertKey(a);
              return (
                <tr key={k} data-rule={a.rule} class={`prio-${a.priority}${acks.has(k) ? ' acked' : ''}${liveKeys.has(k) ? ' live' : ''}${k === selected ? ' selected' : ''}`} onClick={() => setSelected(k)}>
                  <td onClick={(e) => e.stopPropagation()}>
                    <input type="checkbox" title="acknowledged" checked={acks.has(k)} onChange={() => toggleAck(a)} />
                  </td>
                  <td>{new Date(a.time).toLocaleTimeString()}</td>
                  <td>{a.priority}</td>
                  <td>{a.rule}</td>
                  <td>{a.container?.name ?? ''}</td>
                  <td class="chain">{chain(a)}</td>
                  <td class="msg">{a.message}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {sel ? <Detail title={`${sel.rule} ${sel.time}`} value={sel} onClose={() => setSelected(undefined)} /> : null}
      </div>
      {list.length === 0 ? <p class="muted">No alerts{acks.size && !showAcked ? ' that are not acknowledged' : ''} in this window.</p> : null}
    </section>
  );
}
