/**
 * Trackers: the running instances with their rate, their drops by stage and the kernel memory
 * of their maps; starting a tracker with its options (POST /instances), stopping one
 * (DELETE), loading a hot-load package or a bare eBPF object (POST /instances {program}) and
 * replacing a loaded program in place (PUT /instances/:id).
 */
import { useRef, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import { usePoll } from '../stream.js';
import { bytes } from '../format.js';

interface Stats {
  events: number;
  decodeErrors: number;
  lostKernel: number;
  lostQueue: number;
  mapInsertFailures: number;
}

interface Instance {
  id: number;
  name: string;
  kind: 'tracker' | 'program';
  options: Record<string, unknown>;
  startedAt: string;
  stats: Stats;
  skipped?: { program: string; reason: string }[];
  warnings?: string[];
}

interface OptionInfo {
  name: string;
  flag: string;
  type: 'uint' | 'bool' | 'string' | 'global';
  description: string;
  default?: unknown;
}

interface TrackerInfo {
  name: string;
  summary: string;
  options: OptionInfo[];
}

interface SelfInstances {
  instances: { id: number; mapMemory: { maps: number; bytes: number } }[];
  mapMemory: { maps: number; bytes: number };
}

const ELF = [0x7f, 0x45, 0x4c, 0x46];

function base64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/**
 * What POST/PUT /instances takes as `program` for a file: a bare ELF object becomes Eunomia's
 * package `{name, object}` (with `event` if given); JSON is sent as it is (the agent reads
 * every package format and says what is wrong).
 */
export async function programOf(file: File, event: string): Promise<unknown> {
  const buf = new Uint8Array(await file.arrayBuffer());
  if (ELF.every((b, i) => buf[i] === b)) {
    const name = file.name.replace(/(\.bpf)?\.o$/, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || 'program';
    return { name, object: base64(buf), ...(event ? { event } : {}) };
  }
  const textValue = new TextDecoder().decode(buf);
  try {
    return JSON.parse(textValue) as unknown;
  } catch {
    return textValue;
  }
}

export function TrackersPage() {
  const [instances, setInstances] = useState<Instance[]>([]);
  const [rates, setRates] = useState<Record<number, number>>({});
  const [self, setSelf] = useState<SelfInstances | null>(null);
  const [catalogue, setCatalogue] = useState<TrackerInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const last = useRef<{ at: number; events: Map<number, number> } | null>(null);

  const refresh = async (): Promise<void> => {
    try {
      const [list, s] = await Promise.all([api<{ instances: Instance[] }>('/instances'), api<SelfInstances>('/self').catch(() => null)]);
      const now = performance.now();
      const prev = last.current;
      if (prev) {
        const r: Record<number, number> = {};
        for (const i of list.instances) {
          const before = prev.events.get(i.id);
          if (before !== undefined) r[i.id] = Math.max(0, (i.stats.events - before) / ((now - prev.at) / 1000));
        }
        setRates(r);
      }
      last.current = { at: now, events: new Map(list.instances.map((i) => [i.id, i.stats.events])) };
      setInstances(list.instances);
      setSelf(s);
      setError(null);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  usePoll(refresh, 2000, []);
  usePoll(
    async () => {
      if (catalogue.length) return;
      try {
        setCatalogue((await api<{ trackers: TrackerInfo[] }>('/trackers')).trackers);
      } catch (e) {
        setError(messageOf(e));
      }
    },
    30_000,
    [],
  );

  const act = async (what: string, f: () => Promise<unknown>): Promise<void> => {
    setNotice(`${what}…`);
    try {
      await f();
      setNotice(`${what}: done`);
    } catch (e) {
      setNotice(`${what}: ${messageOf(e)}`);
    }
    await refresh();
  };
  const memOf = (id: number): string => {
    const m = self?.instances.find((i) => i.id === id)?.mapMemory;
    return m ? `${bytes(m.bytes)} (${m.maps} maps)` : 'n/a';
  };

  return (
    <section class="page trackers">
      <div class="status-line">
        {error ? <span class="error">{error}</span> : <span>{instances.length} instances</span>}
        {notice ? <span class="notice"> · {notice}</span> : null}
        {self ? (
          <span class="muted">
            {' '}
            · kernel memory of all the agent's eBPF maps: {bytes(self.mapMemory.bytes)} ({self.mapMemory.maps} maps)
          </span>
        ) : null}
      </div>
      <table class="list instance-list">
        <thead>
          <tr>
            <th>ID</th>
            <th>Name</th>
            <th>Kind</th>
            <th>Started</th>
            <th class="num">Events</th>
            <th class="num">Events/s</th>
            <th class="num" title="the kernel's ring buffer was full">Lost: kernel</th>
            <th class="num" title="the reader's queue to JavaScript was full">Lost: queue</th>
            <th class="num">Undecodable</th>
            <th class="num" title="in-kernel aggregation maps had no room">Map full</th>
            <th>Map memory</th>
            <th>Options</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {instances.map((i) => (
            <tr key={i.id} data-id={i.id} data-name={i.name}>
              <td>{i.id}</td>
              <td>
                {i.name}
                {i.warnings?.length ? <span class="badge warn" title={i.warnings.join('\n')}>warnings</span> : null}
                {i.skipped?.length ? <span class="badge" title={i.skipped.map((s) => `${s.program}: ${s.reason}`).join('\n')}>{i.skipped.length} skipped</span> : null}
              </td>
              <td>{i.kind}</td>
              <td>{new Date(i.startedAt).toLocaleTimeString()}</td>
              <td class="num">{i.stats.events}</td>
              <td class="num">{rates[i.id] === undefined ? '' : rates[i.id]!.toFixed(1)}</td>
              <td class={`num${i.stats.lostKernel ? ' warn' : ''}`}>{i.stats.lostKernel}</td>
              <td class={`num${i.stats.lostQueue ? ' warn' : ''}`}>{i.stats.lostQueue}</td>
              <td class="num">{i.stats.decodeErrors}</td>
              <td class="num">{i.stats.mapInsertFailures}</td>
              <td>{memOf(i.id)}</td>
              <td class="opts">
                {Object.entries(i.options)
                  .filter(([, v]) => v !== undefined && v !== false && v !== '')
                  .map(([k, v]) => `${k}=${String(v)}`)
                  .join(' ')}
              </td>
              <td class="actions">
                <button type="button" class="stop" onClick={() => void act(`stop ${i.id}`, () => api(`/instances/${i.id}`, { method: 'DELETE' }))}>
                  Stop
                </button>
                {i.kind === 'program' ? <ReplaceButton id={i.id} onDone={(what, f) => void act(what, f)} /> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="forms">
        <StartForm catalogue={catalogue} onStart={(body) => void act(`start ${body.tracker}`, () => api('/instances', { method: 'POST', body }))} />
        <UploadForm onLoad={(program) => void act('load program', () => api('/instances', { method: 'POST', body: { program } }))} />
      </div>
    </section>
  );
}

function StartForm({ catalogue, onStart }: { catalogue: TrackerInfo[]; onStart(body: { tracker: string; options: Record<string, unknown>; duration?: number }): void }) {
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [duration, setDuration] = useState('');
  const t = catalogue.find((x) => x.name === name);
  return (
    <form
      class="start-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!t) return;
        const options: Record<string, unknown> = {};
        for (const o of t.options) {
          const v = values[o.name];
          if (v === undefined || v === '' || v === false) continue;
          options[o.name] = o.type === 'uint' && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
        }
        onStart({ tracker: t.name, options, ...(duration ? { duration: Number(duration) } : {}) });
      }}
    >
      <h3>Start a tracker</h3>
      <select
        name="tracker"
        value={name}
        onChange={(e) => {
          setName((e.currentTarget as HTMLSelectElement).value);
          setValues({});
        }}
      >
        <option value="">choose…</option>
        {catalogue.map((x) => (
          <option key={x.name} value={x.name}>
            {x.name}
          </option>
        ))}
      </select>
      {t ? <p class="muted">{t.summary}</p> : null}
      {t ? (
        <table class="fields">
          <tbody>
            {t.options.map((o) => (
              <tr key={o.name}>
                <th>
                  <label for={`opt-${o.name}`}>{o.name}</label>
                </th>
                <td>
                  {o.type === 'bool' ? (
                    <input id={`opt-${o.name}`} name={o.name} type="checkbox" checked={values[o.name] === true} onChange={(e) => setValues({ ...values, [o.name]: (e.currentTarget as HTMLInputElement).checked })} />
                  ) : (
                    <input
                      id={`opt-${o.name}`}
                      name={o.name}
                      inputMode={o.type === 'uint' ? 'numeric' : 'text'}
                      placeholder={o.default !== undefined ? String(o.default) : ''}
                      value={typeof values[o.name] === 'string' ? (values[o.name] as string) : ''}
                      onInput={(e) => setValues({ ...values, [o.name]: (e.currentTarget as HTMLInputElement).value })}
                    />
                  )}
                </td>
                <td class="muted">{o.description}</td>
              </tr>
            ))}
            <tr>
              <th>
                <label for="opt-duration">duration (s)</label>
              </th>
              <td>
                <input id="opt-duration" name="duration" type="number" min={1} value={duration} onInput={(e) => setDuration((e.currentTarget as HTMLInputElement).value)} />
              </td>
              <td class="muted">optional: the instance stops itself after this many seconds</td>
            </tr>
          </tbody>
        </table>
      ) : null}
      <button type="submit" disabled={!t}>
        Start
      </button>
    </form>
  );
}

function UploadForm({ onLoad }: { onLoad(program: unknown): void }) {
  const file = useRef<HTMLInputElement>(null);
  const [event, setEvent] = useState('');
  return (
    <form
      class="upload-form"
      onSubmit={(e) => {
        e.preventDefault();
        const f = file.current?.files?.[0];
        if (f) void programOf(f, event.trim()).then(onLoad);
      }}
    >
      <h3>Load a program</h3>
      <p class="muted">A hot-load package (JSON: Eunomia's, the seed's, eunomia-bpf's) or a compiled eBPF object (.bpf.o).</p>
      <input ref={file} type="file" name="program" accept=".json,.o" />
      <input name="event" placeholder="event struct (for a bare object, if needed)" value={event} onInput={(e) => setEvent((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit">Load</button>
    </form>
  );
}

function ReplaceButton({ id, onDone }: { id: number; onDone(what: string, f: () => Promise<unknown>): void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" onClick={() => input.current?.click()}>
        Replace…
      </button>
      <input
        ref={input}
        class="hidden"
        type="file"
        accept=".json,.o"
        onChange={(e) => {
          const f = (e.currentTarget as HTMLInputElement).files?.[0];
          if (f) onDone(`replace ${id}`, async () => api(`/instances/${id}`, { method: 'PUT', body: { program: await programOf(f, '') } }));
        }}
      />
    </>
  );
}
