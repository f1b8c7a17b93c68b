/**
 * The registry in the Prometheus text format. Tracker families write their own bytes (their
 * series' line texts kept in an arena); everything else goes through prom-client.
 */
import type { Registry } from 'prom-client';
import { Family } from './family.js';
import { TextWriter } from './text-writer.js';

/** Size of the last body: the next one starts with room for it, not growing (copying) up to it. */
let lastSize = 1 << 16;

/** The body of a scrape (UTF-8). */
export async function expositionBody(registry: Registry): Promise<Buffer> {
  const w = new TextWriter(lastSize + (lastSize >> 3));
  for (const m of registry.getMetricsAsArray() as unknown[]) {
    if (m instanceof Family) {
      m.render(w);
      continue;
    }
    const text = await registry.getSingleMetricAsString((m as { name: string }).name);
    if (text) w.text(text.endsWith('\n') ? text : `${text}\n`);
  }
  const body = w.result();
  lastSize = body.length;
  return body;
}

export async function exposition(registry: Registry): Promise<string> {
  return (await expositionBody(registry)).toString('utf8');
}
