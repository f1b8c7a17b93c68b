/**
 * The seed's `export_handlers` for instances started over /start: events of those instances
 * printed on the agent's stdout in the handler's format. (Every instance streams over the
 * API anyway; these are for watching the agent's terminal, as the original did.)
 */
import { createSink, openOutput, type Format } from '../exporters/index.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import type { Agent } from '../agent/agent.js';

/** Handler names the seed's API used, and what each means here. */
const FORMATS: Record<string, Format | 'enrichment' | 'none'> = {
  plain_text: 'plain',
  stdout: 'plain',
  json_format: 'json',
  csv: 'csv',
  container_info: 'enrichment', // containers are always attributed when the agent resolves them
  none: 'none',
  prometheus: 'none', // every instance's families are exported anyway (its note says so)
};
export const SEED_HANDLERS = new Set(Object.keys(FORMATS));

/** The original Eunomia's handlers that mean something else now: the note the answer carries. */
export const SEED_HANDLER_NOTES: Readonly<Record<string, string>> = {
  prometheus: 'export handler "prometheus" is deprecated (the original Eunomia\'s): read as on — the instance\'s metric families are exported on /metrics, as every instance\'s are (docs/metrics.md)',
};

export interface InstanceOutputs {
  attach(instance: number, handlers: string[]): void;
  close(): Promise<void>;
}

export function instanceOutputs(agent: Agent): InstanceOutputs {
  const sinks = new Map<Format, { sink: Sink; instances: Set<number> }>();
  return {
    attach(instance, handlers) {
      for (const h of handlers) {
        const f = FORMATS[h];
        if (f === undefined || f === 'enrichment' || f === 'none') continue;
        let out = sinks.get(f);
        if (!out) {
          const inner = createSink({ format: f, output: openOutput(undefined), name: `stdout-${f}`, multiTracker: true });
          const instances = new Set<number>();
          const sink: Sink = {
            name: inner.name,
            write: (ev: TrackerEvent) => instances.has(ev.instance) && inner.write(ev),
            stats: () => inner.stats(),
            close: () => inner.close(),
          };
          out = { sink, instances };
          sinks.set(f, out);
          agent.pipeline.addSink(sink);
        }
        out.instances.add(instance);
      }
    },
    async close() {
      sinks.clear();
    },
  };
}
