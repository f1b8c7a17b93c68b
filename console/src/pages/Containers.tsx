/**
 * Containers the agent knows (GET /containers): image, runtime, pod, namespaces; one chosen
 * shows its labels and mounts, its recent events and alerts from the store, and two tools
 * that run on demand: a 10 s flame graph (POST /profile) and a seccomp recording (a seccomp
 * instance and its profile so far).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import { clock, fromStored, summary, text } from '../events.js';
import { historyError, query, type StoredRowJson } from '../query.js';
import { hrefOf, writeParams } from '../route.js';
import { usePoll } from '../stream.js';
import { chain, type Alert } from './Alerts.js';

export interface ContainerView {
  id: string;
  fullId: string;
  name: string;
  image: string;
  runtime: string;
  state: string;
  privileged: boolean;
  pid: number | null;
  k8s: { namespace?: string; pod?: string; podUid?: string; container?: string } | null;
  labels: Record<string, string>;
  hostMounts: string[];
  namespaces: Record<string, number> | null;
  cgroups: number;
}

interface ContainersAnswer {
  enabled: boolean;
  runtimes: string[];
  containers: ContainerView[];
}

export function ContainersPage({ params }: { params: URLSearchParams }) {
  const all = params.get('all') === 'true';
  const chosen = params.get('id');
  const [answer, setAnswer] = useState<ContainersAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  usePoll(
    async () => {
      try {
        setAnswer(await api<ContainersAnswer>(`/containers${all ? '?all=true' : ''}`));
        setError(null);
      } catch (e) {
        setError(messageOf(e));
      }
    },
    5000,
    [all],
  );
  const set = (k: string, v: string | null): void => {
    const p = new URLSearchParams(params);
    if (v === null) p.delete(k);
    else p.set(k, v);
    writeParams('containers', p);
  };
  const list = answer?.containers ?? [];
  const sel = list.find((c) => c.id === chosen);
  return (
    <section class="page containers">
      <div class="toolbar">
        <label>
          <input type="checkbox" checked={all} onChange={(e) => set('all', (e.currentTarget as HTMLInputElement).checked ? 'true' : null)} /> also stopped ones
        </label>
        <span class="muted">{answer ? (answer.enabled ? `runtimes: ${answer.runtimes.join(', ') || 'none answering'}` : 'container attribution is off (--no-containers)') : 'loading…'}</span>
        {error ? <span class="error">{error}</span> : null}
      </div>
      <div class="split">
        <table class="list container-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>ID</th>
              <th>Image</th>
              <th>Runtime</th>
              <th>State</th>
              <th>Pod</th>
              <th>Namespaces (mnt / pid / net)</th>
              <th>Labels</th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.fullId} data-id={c.id} class={c.id === chosen ? 'selected' : ''} onClick={() => set('id', c.id)}>
                <td>
                  {c.name}
                  {c.privileged ? <span class="badge warn">privileged</span> : null}
                </td>
                <td class="mono">{c.id}</td>
                <td>{c.image}</td>
                <td>{c.runtime}</td>
                <td>{c.state}</td>
                <td>{c.k8s?.pod ? `${c.k8s.namespace ?? ''}/${c.k8s.pod}` : ''}</td>
                <td class="mono">{c.namespaces ? `${c.namespaces.mnt ?? '?'} / ${c.namespaces.pid ?? '?'} / ${c.namespaces.net ?? '?'}` : ''}</td>
                <td>{Object.keys(c.labels).length}</td>
              </tr>
            ))}
            {answer && list.length === 0 ? (
              <tr>
                <td class="muted" colSpan={8}>
                  no {all ? '' : 'running '}containers
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {sel ? <ContainerDetail c={sel} onClose={() => set('id', null)} /> : null}
      </div>
    </section>
  );
}

function useHistory(kind: 'event' | 'alert', container: string): { rows: StoredRowJson[]; error?: string } | null {
  const [r, setR] = useState<{ rows: StoredRowJson[]; error?: string } | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    setR(null);
    query({ kind, container, from: '-24h', limit: 50 }, abort.signal).then(
      (a) => setR({ rows: a.rows ?? [] }),
      (e: unknown) => !abort.signal.aborted && setR({ rows: [], error: historyError(e) }),
    );
    return () => abort.abort();
  }, [kind, container]);
  return r;
}

function base64Text(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function ContainerDetail({ c, onClose }: { c: ContainerView; onClose(): void }) {
  const events = useHistory('event', c.id);
  const alerts = useHistory('alert', c.id);
  const [flame, setFlame] = useState<{ state: string; svg?: string }>({ state: '' });
  const [seccomp, setSeccomp] = useState<{ id?: number; state: string; profile?: string }>({ state: '' });
  const profile = async (): Promise<void> => {
    setFlame({ state: 'profiling for 10 s…' });
    try {
      const svg = await api<string>('/profile', { method: 'POST', body: { seconds: 10, format: 'svg', options: { container: c.fullId } } });
      setFlame({ state: '', svg });
    } catch (e) {
      setFlame({ state: `flame graph: ${messageOf(e)}` });
    }
  };
  const record = async (): Promise<void> => {
    try {
      const inst = await api<{ id: number }>('/instances', { method: 'POST', body: { tracker: 'seccomp', options: { container: c.fullId } } });
      setSeccomp({ id: inst.id, state: `recording as instance ${inst.id}` });
    } catch (e) {
      setSeccomp({ state: `seccomp: ${messageOf(e)}` });
    }
  };
  const showProfile = async (): Promise<void> => {
    try {
      setSeccomp((s) => ({ ...s, profile: undefined }));
      const text2 = await api<string>(`/instances/${seccomp.id}/seccomp?format=summary`);
      setSeccomp((s) => ({ ...s, profile: text2 }));
    } catch (e) {
      setSeccomp((s) => ({ ...s, state: `seccomp: ${messageOf(e)}` }));
    }
  };
  const stopRecording = async (): Promise<void> => {
    try {
      await api(`/instances/${seccomp.id}`, { method: 'DELETE' });
      setSeccomp((s) => ({ state: `instance ${s.id} stopped`, ...(s.profile ? { profile: s.profile } : {}) }));
    } catch (e) {
      setSeccomp((s) => ({ ...s, state: `seccomp: ${messageOf(e)}` }));
    }
  };
  return (
    <aside class="detail container-detail">
      <div class="detail-head">
        <strong>{c.name}</strong>
        <button type="button" class="link" onClick={onClose}>
          close
        </button>
      </div>
      <table class="fields">
        <tbody>
          <tr>
            <th>id</th>
            <td class="mono">{c.fullId}</td>
          </tr>
          <tr>
            <th>image</th>
            <td>{c.image}</td>
          </tr>
          <tr>
            <th>runtime / state</th>
            <td>
              {c.runtime} / {c.state}
              {c.pid ? ` (pid ${c.pid})` : ''}
            </td>
          </tr>
          {c.k8s ? (
            <tr>
              <th>pod</th>
              <td>
                {c.k8s.namespace ?? ''}/{c.k8s.pod ?? ''} {c.k8s.container ? `(container ${c.k8s.container})` : ''}
              </td>
            </tr>
          ) : null}
          <tr>
            <th>namespaces</th>
            <td class="mono">{c.namespaces ? Object.entries(c.namespaces).map(([k, v]) => `${k}:${v}`).join(' ') : 'not running'}</td>
          </tr>
          <tr>
            <th>cgroups</th>
            <td>{c.cgroups}</td>
          </tr>
          {Object.entries(c.labels).map(([k, v]) => (
            <tr key={k} class="label">
              <th>label {k}</th>
              <td>{v}</td>
            </tr>
          ))}
          {c.hostMounts.map((m) => (
            <tr key={m}>
              <th>host mount</th>
              <td>{m}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <a href={hrefOf('events', { 'f.container': `=${c.name}` })}>live events</a> · <a href={hrefOf('alerts', { container: c.name })}>alerts</a>
      </p>
      <h4>Recent events (stored)</h4>
      {events === null ? <p class="muted">loading…</p> : events.error ? <p class="history error">{events.error}</p> : null}
      <ul class="mini">
        {(events?.rows ?? []).map((r) => {
          const ev = fromStored(r);
          return (
            <li key={r.id}>
              <span class="mono">{clock(ev.time)}</span> {ev.tracker} {text(ev.data.comm)} {summary(ev.data)}
            </li>
          );
        })}
      </ul>
      <h4>Recent alerts</h4>
      {alerts === null ? <p class="muted">loading…</p> : alerts.error ? <p class="history error">{alerts.error}</p> : null}
      <ul class="mini">
        {(alerts?.rows ?? []).map((r) => {
          const a = r.record as unknown as Alert;
          return (
            <li key={r.id}>
              <span class="mono">{new Date(a.time).toLocaleTimeString()}</span> {a.priority} {a.rule}: {a.message} — {chain(a)}
            </li>
          );
        })}
      </ul>
      <h4>Flame graph</h4>
      <button type="button" onClick={() => void profile()} disabled={flame.state.startsWith('profiling')}>
        Profile 10 s
      </button>{' '}
      <span class="muted">{flame.state}</span>
      {/* An image: whatever the SVG holds, nothing in it runs (and the page's policy allows data: images only). */}
      {flame.svg ? <img class="flame" alt={`flame graph of ${c.name}`} src={`data:image/svg+xml;base64,${base64Text(flame.svg)}`} /> : null}
      <h4>Seccomp profile</h4>
      {seccomp.id === undefined || seccomp.state.endsWith('stopped') ? (
        <button type="button" onClick={() => void record()}>
          Record
        </button>
      ) : (
        <>
          <button type="button" onClick={() => void showProfile()}>
            Profile so far
          </button>{' '}
          <button type="button" onClick={() => void stopRecording()}>
            Stop recording
          </button>
        </>
      )}{' '}
      <span class="muted">{seccomp.state}</span>
      {seccomp.profile ? <pre class="json">{seccomp.profile}</pre> : null}
    </aside>
  );
}
