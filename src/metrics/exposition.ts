/**
 * The registry in the Prometheus text format. Tracker families render their own text (label
 * text kept per series); everything else goes through prom-client.
 */
import type { Registry } from 'prom-client';
import { Family } from './family.js';

export async function exposition(registry: Registry): Promise<string> {
  const parts: string[] = [];
  for (const m of registry.getMetricsAsArray() as unknown[]) {
    if (m instanceof Family) {
      m.appendText(parts);
      continue;
    }
    const text = await registry.getSingleMetricAsString((m as { name: string }).name);
    if (text) parts.push(text, text.endsWith('\n') ? '' : '\n');
  }
  return parts.join('');
}
