/**
 * The prom-client → OTel bridge and the log records, without the kernel: a registry's counter,
 * gauge, histogram and summary become the right OTel data; startOtel sends them and a
 * pipeline's events to a loopback receiver; the gate counts what it turns away. No root needed.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { DataPointType, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { Alert } from '../../src/alerts/types.js';
import { alertAttributes, emitAlert, EventLogSink, LogGate, SEVERITY } from '../../src/otel/logs.js';
import { RegistryMetricProducer } from '../../src/otel/metrics.js';
import { startOtel } from '../../src/otel/index.js';
import { FailureLog } from '../../src/otel/exporters.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { defaultConfig } from '../../src/agent/config.js';
import { waitFor } from '../helpers.js';
import { startHttpReceiver, type HttpReceiver } from './receiver.js';

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: 'demo_execs_total', help: 'execs', labelNames: ['container', 'container_id', 'image', 'comm'], registers: [r] }).inc({ container: 'web', container_id: 'c1', image: 'nginx:1.27', comm: 'sh' }, 3);
  new Gauge({ name: 'demo_running', help: 'running', labelNames: ['tracker'], registers: [r] }).set({ tracker: 'process' }, 2);
  const h = new Histogram({ name: 'demo_latency_seconds', help: 'latency', labelNames: ['family'], buckets: [0.1, 1], registers: [r] });
  for (const v of [0.05, 0.5, 0.7, 5]) h.observe({ family: 'ipv4' }, v);
  const s = new Summary({ name: 'demo_size_bytes', help: 'size', percentiles: [0.5], registers: [r] });
  s.observe(10);
  return r;
}

const byName = (ms: MetricData[], n: string): MetricData => ms.find((m) => m.descriptor.name === n)!;

describe('otel bridge', () => {
  test('counter, gauge, histogram and summary → OTel metric data', async () => {
    const reg = registry();
    const p = new RegistryMetricProducer({ registry: reg, scope: { name: 'eunomia' }, resource: resourceFromAttributes({}) });
    const { resourceMetrics, errors } = await p.collect();
    assert.deepEqual(errors, []);
    const ms = resourceMetrics.scopeMetrics[0]!.metrics;

    const c = byName(ms, 'demo_execs_total') as SumMetricData;
    assert.equal(c.dataPointType, DataPointType.SUM);
    assert.equal(c.isMonotonic, true);
    assert.equal(c.descriptor.description, 'execs');
    assert.deepEqual(c.dataPoints[0]!.attributes, { 'container.name': 'web', 'container.id': 'c1', 'container.image.name': 'nginx', 'container.image.tags': ['1.27'], comm: 'sh' });
    assert.equal(c.dataPoints[0]!.value, 3);
    assert.ok(hrTimeToMilliseconds(c.dataPoints[0]!.startTime) <= performance.timeOrigin + 1, 'cumulative since the process started');

    assert.equal(byName(ms, 'demo_running').dataPointType, DataPointType.GAUGE);

    const h = byName(ms, 'demo_latency_seconds') as HistogramMetricData;
    assert.equal(h.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(h.descriptor.unit, 's');
    assert.equal(h.dataPoints.length, 1);
    assert.deepEqual(h.dataPoints[0]!.attributes, { family: 'ipv4' });
    assert.deepEqual(h.dataPoints[0]!.value.buckets, { boundaries: [0.1, 1], counts: [1, 2, 1] });
    assert.equal(h.dataPoints[0]!.value.count, 4);
    assert.equal(h.dataPoints[0]!.value.sum, 6.25);

    assert.equal(byName(ms, 'demo_size_bytes').dataPointType, DataPointType.GAUGE);
    assert.deepEqual(byName(ms, 'demo_size_bytes').dataPoints[0]!.attributes, { quantile: 0.5 });
    assert.equal((byName(ms, 'demo_size_bytes_count') as SumMetricData).dataPoints[0]!.value, 1);

    // A counter that went down was reset: its start time moves to now.
    (reg.getSingleMetric('demo_execs_total') as Counter).reset();
    (reg.getSingleMetric('demo_execs_total') as Counter).inc({ container: 'web', container_id: 'c1', image: 'nginx:1.27', comm: 'sh' }, 1);
    const again = byName((await p.collect()).resourceMetrics.scopeMetrics[0]!.metrics, 'demo_execs_total') as SumMetricData;
    assert.ok(hrTimeToMilliseconds(again.dataPoints[0]!.startTime) > performance.timeOrigin + 1);
  });

  test('a metric whose collect throws loses its own family only', async () => {
    const reg = registry();
    new Gauge({ name: 'broken', help: 'x', registers: [reg], collect() { throw new Error('boom'); } });
    const { resourceMetrics, errors } = await new RegistryMetricProducer({ registry: reg, scope: { name: 'e' }, resource: resourceFromAttributes({}) }).collect();
    assert.equal(errors.length, 1);
    assert.ok(byName(resourceMetrics.scopeMetrics[0]!.metrics, 'demo_execs_total'));
  });

  test('alert severity and attributes', () => {
    assert.equal(SEVERITY.emergency, SeverityNumber.FATAL);
    assert.equal(SEVERITY.critical, SeverityNumber.ERROR2);
    assert.equal(SEVERITY.notice, SeverityNumber.INFO2);
    const a: Alert = {
      time: new Date().toISOString(), rule: 'r', name: 'R', priority: 'critical', tags: ['t'], message: 'm', source: 'process',
      process: { pid: 5, comm: 'sh', exe: '/bin/sh', args: ['sh', '-c', 'x'], ppid: 4, parents: [{ pid: 4, comm: 'bash' }] },
      container: { id: 'abc', full_id: 'abcdef', name: 'web', image: 'nginx', runtime: 'docker' },
      k8s: { pod: 'p', namespace: 'ns' },
    };
    assert.deepEqual(alertAttributes(a), {
      'eunomia.rule.id': 'r', 'eunomia.rule.name': 'R', 'eunomia.alert.priority': 'critical', 'eunomia.alert.tags': ['t'], 'eunomia.alert.source': 'process',
      'process.pid': 5, 'process.executable.name': 'sh', 'process.executable.path': '/bin/sh', 'process.command_args': ['sh', '-c', 'x'], 'process.parent_pid': 4,
      'eunomia.process.parents': ['bash[4]'],
      'container.id': 'abcdef', 'container.name': 'web', 'container.image.name': 'nginx', 'container.runtime.name': 'docker',
      'k8s.pod.name': 'p', 'k8s.namespace.name': 'ns',
    });
  });

  test('the gate turns records away past its limit, and counts them', () => {
    const emitted: unknown[] = [];
    const logger = { emit: (r: unknown) => emitted.push(r) } as unknown as Logger;
    let taken = 0;
    const gate = new LogGate(logger, 2, () => taken);
    const sink = new EventLogSink(gate, ['process'], () => 0);
    const ev = (tracker: string) => ({ tracker, instance: 1, time: Date.now(), data: { pid: 1, big: 2n ** 60n, args: ['a'], nested: { x: 1 } } });
    for (let i = 0; i < 3; i++) sink.write(ev('process'));
    sink.write(ev('files')); // not asked for: neither written nor dropped
    assert.deepEqual(sink.stats(), { written: 2, dropped: 1 });
    taken = 2; // the exporter took them
    assert.ok(emitAlert(gate, { time: new Date().toISOString(), rule: 'r', name: 'R', priority: 'debug', tags: [], message: 'm', source: 'process' }));
    const attrs = (emitted[0] as { attributes: Record<string, unknown> }).attributes;
    assert.deepEqual(attrs, { 'eunomia.tracker': 'process', 'eunomia.instance': 1, pid: 1, big: (2n ** 60n).toString(), args: ['a'] });
    gate.closed = true;
    sink.write(ev('process'));
    assert.deepEqual(sink.stats(), { written: 2, dropped: 2 });
  });

  test('failures are logged once a minute at most, with the count', () => {
    const lines: string[] = [];
    let now = 0;
    const f = new FailureLog((l) => lines.push(l), 60_000, () => now);
    f.failed('metrics', new Error('ECONNREFUSED'));
    f.failed('metrics', new Error('ECONNREFUSED'));
    now = 61_000;
    f.failed('logs', new Error('timeout'));
    assert.deepEqual(lines, ['otel: metrics export failed: ECONNREFUSED', 'otel: logs export failed (2 failures since the last message): timeout']);
  });

  describe('startOtel over HTTP', () => {
    let rx: HttpReceiver;
    after(() => rx?.close());

    test('metrics and event records reach the receiver; off and nothing-to-do give undefined', async () => {
      rx = await startHttpReceiver();
      const pipeline = new Pipeline();
      const lines: string[] = [];
      const deps = { registry: registry(), pipeline, log: (l: string) => lines.push(l), env: {} };
      assert.equal(await startOtel(defaultConfig().otel, deps), undefined, 'off without an endpoint');
      assert.equal(await startOtel({ ...defaultConfig().otel, enabled: true, metrics: false }, deps), undefined, 'alerts without an analyzer, no events');
      const otel = (await startOtel({ ...defaultConfig().otel, endpoint: rx.url, intervalMs: 200, events: ['process'] }, deps))!;
      pipeline.push({ tracker: 'process', instance: 1, time: Date.now(), data: { type: 'exec', pid: 42, comm: 'sh', container: { id: 'host', full_id: 'host', name: 'host' } } });
      await waitFor(() => rx.metrics().some((m) => m.name === 'demo_latency_seconds') && rx.logs().length > 0, 'metrics and a log record', 5000);
      const h = rx.metrics().find((m) => m.name === 'demo_latency_seconds')!;
      assert.equal(h.kind, 'histogram');
      assert.deepEqual(h.points[0]!.point.explicitBounds, [0.1, 1]);
      assert.deepEqual((h.points[0]!.point.bucketCounts as string[]).map(Number), [1, 2, 1]);
      const l = rx.logs()[0]!;
      assert.equal(l.body, 'process');
      assert.deepEqual(l.attributes, { 'eunomia.tracker': 'process', 'eunomia.instance': 1, type: 'exec', pid: 42, comm: 'sh' }, 'no container attributes for the host');
      assert.equal(l.resource['service.name'], 'eunomia');
      await otel.close();
      assert.deepEqual(pipeline.sinkNames(), [], 'close takes the sink out');
      assert.ok(lines.some((x) => x.startsWith('otel: metrics every 0.2 s to ')), lines.join('\n'));
    });
  });
});
