/**
 * Health: the agent's own figures (GET /self, GET /status) — CPU, memory, event loop, events
 * and what was dropped where, queue depths, kernel memory of its eBPF maps, the store.
 */
import { useRef, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import { Bars } from '../components/Bars.js';
import { bytes, count, duration } from '../format.js';
import { usePoll } from '../stream.js';
// The agent's own declaration (types only: nothing of src/ is bundled).
import type { StoreStats } from '../../../src/store/types.js';


export interface SelfAnswer {
  pid: number;
  node: string;
  uptimeSeconds: number;
  cpu: { userSeconds: number; systemSeconds: number; percent: number; percentSinceStart: number };
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  events: { decoded: number; pipelineIn: number; pipelineOut: number; streamed: number };
  drops: Record<string, number | null>;
  queues: { pipeline: number; streamClients: number; store: number | null };
  mapMemory: { maps: number; bytes: number };
  store: StoreStats | null;
  containers: { containers: number; cgroupsKnown: number; runtimeErrors: number; runtimes: string[] } | null;
  alerts: Record<string, unknown> | null;
}

interface StatusAnswer {
  version: string;
  instances: number;
  containerRuntimes: string[];
}

const HISTORY = 60;

const DROP_LABELS: Record<string, string> = {
  kernel: 'kernel ring buffer full',
  readerQueue: "reader's queue to JavaScript full",
  undecodable: 'records that could not be decoded',
  mapInsertFailures: 'in-kernel maps full (counts short)',
  pipeline: 'pipeline stages (errors, full outputs)',
  streams: 'live-stream clients that fell behind',
  store: "store writer's queue full",
};

function Card({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <div class="card">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

function Row({ k, v, warn }: { k: string; v: string; warn?: boolean }) {
  return (
    <tr class={warn ? 'warn' : ''}>
      <th>{k}</th>
      <td class="num">{v}</td>
    </tr>
  );
}

export function HealthPage() {
  const [self, setSelf] = useState<SelfAnswer | null>(null);
  const [status, setStatus] = useState<StatusAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const series = useRef<{ cpu: number[]; rss: number[]; rate: number[]; last?: { at: number; decoded: number } }>({ cpu: [], rss: [], rate: [] });
  usePoll(
    async () => {
      try {
        const [s, st] = await Promise.all([api<SelfAnswer>('/self'), api<StatusAnswer>('/status')]);
        const h = series.current;
        const now = performance.now();
        const push = (a: number[], v: number): void => {
          a.push(v);
          if (a.length > HISTORY) a.shift();
        };
        push(h.cpu, s.cpu.percent);
        push(h.rss, s.memory.rss);
        if (h.last) push(h.rate, Math.max(0, (s.events.decoded - h.last.decoded) / ((now - h.last.at) / 1000)));
        h.last = { at: now, decoded: s.events.decoded };
        setSelf(s);
        setStatus(st);
        setError(null);
      } catch (e) {
        setError(messageOf(e));
      }
    },
    2000,
    [],
  );
  if (!self) return <section class="page health">{error ? <p class="error">{error}</p> : <p class="muted">loading…</p>}</section>;
  const h = series.current;
  const st = self.store;
  return (
    <section class="page health">
      {error ? <p class="error">{error}</p> : null}
      <div class="cards">
        <Card title="Agent">
          <table class="kv">
            <tbody>
              <Row k="version" v={status?.version ?? ''} />
              <Row k="pid" v={String(self.pid)} />
              <Row k="node" v={self.node} />
              <Row k="up" v={duration(self.uptimeSeconds)} />
              <Row k="instances" v={String(status?.instances ?? '')} />
              <Row k="container runtimes" v={status?.containerRuntimes.join(', ') || 'none'} />
            </tbody>
          </table>
        </Card>
        <Card title="CPU">
          <p class="big" data-figure="cpu">
            {self.cpu.percent.toFixed(1)} %
          </p>
          <Bars counts={h.cpu} width={220} height={40} slots={HISTORY} />
          <table class="kv">
            <tbody>
              <Row k="since start" v={`${self.cpu.percentSinceStart.toFixed(1)} %`} />
              <Row k="user / system" v={`${self.cpu.userSeconds.toFixed(1)} s / ${self.cpu.systemSeconds.toFixed(1)} s`} />
              <Row k="event loop p50 / p99 / max" v={self.eventLoop ? `${self.eventLoop.p50Ms.toFixed(1)} / ${self.eventLoop.p99Ms.toFixed(1)} / ${self.eventLoop.maxMs.toFixed(1)} ms` : 'measuring…'} />
            </tbody>
          </table>
        </Card>
        <Card title="Memory">
          <p class="big" data-figure="rss">
            {bytes(self.memory.rss)}
          </p>
          <Bars counts={h.rss} width={220} height={40} slots={HISTORY} />
          <table class="kv">
            <tbody>
              <Row k="JS heap used / total" v={`${bytes(self.memory.heapUsed)} / ${bytes(self.memory.heapTotal)}`} />
              <Row k="external / array buffers" v={`${bytes(self.memory.external)} / ${bytes(self.memory.arrayBuffers)}`} />
              <Row k="eBPF maps (kernel)" v={`${bytes(self.mapMemory.bytes)} in ${self.mapMemory.maps} maps`} />
            </tbody>
          </table>
        </Card>
        <Card title="Events">
          <p class="big">{h.rate.length ? `${Math.round(h.rate[h.rate.length - 1]!)} /s` : '…'}</p>
          <Bars counts={h.rate} width={220} height={40} slots={HISTORY} />
          <table class="kv">
            <tbody>
              <Row k="decoded" v={count(self.events.decoded)} />
              <Row k="through the pipeline" v={`${count(self.events.pipelineIn)} in, ${count(self.events.pipelineOut)} out`} />
              <Row k="to live streams" v={count(self.events.streamed)} />
            </tbody>
          </table>
        </Card>
        <Card title="Dropped">
          <table class="kv drops">
            <tbody>
              {Object.entries(self.drops).map(([k, v]) => (
                <Row key={k} k={DROP_LABELS[k] ?? k} v={v === null ? 'n/a' : count(v)} warn={!!v} />
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Queues">
          <table class="kv">
            <tbody>
              <Row k="events held for a container's name" v={count(self.queues.pipeline)} />
              <Row k="live-stream clients" v={count(self.queues.streamClients)} />
              <Row k="rows waiting for the store" v={self.queues.store === null ? 'n/a' : count(self.queues.store)} />
            </tbody>
          </table>
        </Card>
        <Card title="Store">
          {st ? (
            <table class="kv">
              <tbody>
                <Row k="file" v={st.path} />
                <Row k="size (with WAL)" v={bytes(st.fileBytes)} />
                {(['events', 'alerts'] as const).map((kind) => (
                  <Row key={kind} k={kind} v={`${count(st[kind].rows)} rows, ${bytes(st[kind].bytes)}; ${count(st[kind].written)} written, ${count(st[kind].evictedCap)} evicted (cap), ${count(st[kind].evictedTtl)} expired, ${count(st[kind].dropped)} dropped`} warn={st[kind].dropped > 0} />
                ))}
                <Row k="queued" v={count(st.queued)} />
              </tbody>
            </table>
          ) : (
            <p class="muted">no store: history is off (--no-store) or this agent has none</p>
          )}
        </Card>
        <Card title="Containers">
          {self.containers ? (
            <table class="kv">
              <tbody>
                <Row k="known" v={count(self.containers.containers)} />
                <Row k="cgroups known" v={count(self.containers.cgroupsKnown)} />
                <Row k="runtimes answering" v={self.containers.runtimes.join(', ') || 'none'} />
                <Row k="runtime errors" v={count(self.containers.runtimeErrors)} warn={self.containers.runtimeErrors > 0} />
              </tbody>
            </table>
          ) : (
            <p class="muted">container attribution is off</p>
          )}
        </Card>
      </div>
    </section>
  );
}
