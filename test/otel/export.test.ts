/**
 * OTLP export from a real agent to test receivers on loopback: HTTP/protobuf and gRPC get the
 * registry's metrics, a real alert (a container reading /etc/shadow) and real events as log
 * records with the right resource and attributes; a receiver that is down costs counted
 * failures and nothing else.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { loadNative } from '../../src/core/native.js';
import { startOtel, type OtelExport } from '../../src/otel/index.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig, type OtelConfig } from '../../src/agent/config.js';
import { TEST_IMAGE, dockerAsync, needsDocker, removeContainers, uniqueName } from '../docker.js';
import { waitFor } from '../helpers.js';
import { startGrpcReceiver, startHttpReceiver, type GrpcReceiver, type HttpReceiver, type ReceivedLog, type ReceivedMetric, type Receiver } from './receiver.js';

/** OTEL_* of the environment the tests run in must not change what they check. */
const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '2000' };
const otelConfig = (o: Partial<OtelConfig>): OtelConfig => ({ ...defaultConfig().otel, enabled: true, intervalMs: 500, ...o });

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('OTLP export from the agent', { skip: needsDocker }, () => {
  let agent: Agent;
  let http: HttpReceiver;
  let grpc: GrpcReceiver;
  let viaHttp: OtelExport;
  let viaGrpc: OtelExport;
  let down: OtelExport;
  let downGrpc: OtelExport;
  const lines: string[] = [];
  const name = uniqueName('otel');

  before(async () => {
    http = await startHttpReceiver();
    grpc = await startGrpcReceiver();
    const config = { ...defaultConfig(), trackers: [{ name: 'process', options: {} }, { name: 'opensnoop', options: {} }] };
    config.rules.trackers = false; // these two only
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    const deps = { registry: agent.metrics, analyzer: agent.analyzer, pipeline: agent.pipeline, log: (l: string) => lines.push(l), env };
    viaHttp = (await startOtel(otelConfig({ endpoint: http.url, protocol: 'http/protobuf', events: ['process'] }), { ...deps, env: { ...env, OTEL_EXPORTER_OTLP_HEADERS: 'x-test=eunomia', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test' } }))!;
    viaGrpc = (await startOtel(otelConfig({ endpoint: grpc.url, protocol: 'grpc' }), { ...deps, env: { ...env, OTEL_SERVICE_NAME: 'eunomia-grpc', OTEL_EXPORTER_OTLP_HEADERS: 'x-test=grpc' } }))!;
    down = (await startOtel(otelConfig({ endpoint: `http://127.0.0.1:${await closedPort()}`, events: ['process'] }), deps))!;
    downGrpc = (await startOtel(otelConfig({ endpoint: `http://127.0.0.1:${await closedPort()}`, protocol: 'grpc' }), deps))!;
    // The alert: a container reads /etc/shadow (rule sensitive_file_read, priority warning).
    await dockerAsync('run', '--name', name, TEST_IMAGE, 'cat', '/etc/shadow');
  });

  after(async () => {
    await Promise.all([viaHttp?.close(), viaGrpc?.close(), down?.close(), downGrpc?.close()]);
    await agent?.close();
    await Promise.all([http?.close(), grpc?.close()]);
    removeContainers(name);
  });

  const alertLog = (r: Receiver): ReceivedLog | undefined => r.logs().find((l) => l.attributes['eunomia.rule.id'] === 'sensitive_file_read' && l.attributes['container.name'] === name);
  const metric = (r: Receiver, n: string): ReceivedMetric[] => r.metrics().filter((m) => m.name === n);
  const alertCounted = (r: Receiver): boolean =>
    metric(r, 'eunomia_alerts_total').some((m) => m.points.some((p) => p.attributes.rule === 'sensitive_file_read' && Number(p.point.asDouble) >= 1));

  function checkAlertLog(r: Receiver): ReceivedLog {
    const l = alertLog(r)!;
    assert.ok(l, 'an alert log record from the container');
    assert.equal(l.record.severityNumber, 'SEVERITY_NUMBER_WARN');
    assert.equal(l.record.severityText, 'warning');
    assert.match(String(l.body), new RegExp(`opened /etc/shadow in ${name}`));
    assert.equal(l.attributes['eunomia.rule.name'], 'Sensitive file opened');
    assert.equal(l.attributes['eunomia.alert.priority'], 'warning');
    assert.deepEqual(l.attributes['eunomia.alert.tags'], ['T1003.008']);
    assert.equal(l.attributes['eunomia.alert.source'], 'opensnoop');
    assert.equal(l.attributes['process.executable.name'], 'cat');
    assert.equal(typeof l.attributes['process.pid'], 'number');
    assert.match(String(l.attributes['container.id']), /^[0-9a-f]{64}$/);
    assert.equal(l.attributes['container.image.name'], 'eunomia-test/busybox');
    assert.deepEqual(l.attributes['container.image.tags'], [TEST_IMAGE.split(':')[1]]);
    assert.equal(l.scope, 'eunomia');
    // The event's time, not the export's.
    assert.ok(Math.abs(Number(BigInt(l.record.timeUnixNano as string) / 1_000_000n) - Date.now()) < 60_000);
    return l;
  }

  function checkMetrics(r: Receiver): void {
    const alerts = metric(r, 'eunomia_alerts_total');
    assert.ok(alerts.length > 0, 'eunomia_alerts_total exported');
    const sum = alerts.at(-1)!;
    assert.equal(sum.kind, 'sum');
    assert.equal(sum.data.isMonotonic, true);
    assert.equal(sum.data.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    assert.ok(sum.points.some((p) => p.attributes.rule === 'sensitive_file_read' && p.attributes.priority === 'warning'));
    // Every family of the registry goes out.
    const names = new Set(r.metrics().map((m) => m.name));
    for (const m of agent.metrics.getMetricsAsArray()) {
      const t = (m as unknown as { type: string }).type;
      assert.ok(names.has(m.name) || t === 'summary', `${m.name} exported`);
    }
    assert.ok(metric(r, 'eunomia_events_total').some((m) => m.points.some((p) => p.attributes.tracker === 'process' && Number(p.point.asDouble) > 0)), 'eunomia_events_total{tracker=process}');
    // A tracker family, with the container as semantic-convention attributes.
    assert.ok(metric(r, 'eunomia_process_execs_total').some((m) => m.points.some((p) => p.attributes['container.name'] === name && p.attributes.comm === 'cat')), 'eunomia_process_execs_total{container.name, comm=cat}');
    // A gauge and a histogram of the default process metrics.
    const gauge = metric(r, 'process_resident_memory_bytes').at(-1)!;
    assert.equal(gauge.kind, 'gauge');
    assert.equal(gauge.unit, 'By');
    const hist = metric(r, 'nodejs_gc_duration_seconds').at(-1);
    if (hist) {
      assert.equal(hist.kind, 'histogram');
      for (const { point } of hist.points) {
        const counts = (point.bucketCounts as string[]).map(Number);
        assert.equal(counts.length, (point.explicitBounds as number[]).length + 1);
        assert.equal(counts.reduce((a, b) => a + b, 0), Number(point.count));
      }
    }
  }

  test('HTTP/protobuf: metrics, resource, alert and event log records', async () => {
    await waitFor(() => !!alertLog(http) && alertCounted(http), 'the alert as a log record and in eunomia_alerts_total over HTTP', 20_000);
    checkMetrics(http);
    const res = http.metrics()[0]!.resource;
    assert.equal(res['service.name'], 'eunomia');
    assert.equal(res['host.name'], hostname());
    assert.equal(res['os.type'], 'linux');
    assert.equal(res['process.pid'], process.pid);
    assert.equal(res['deployment.environment.name'], 'test');
    assert.equal(typeof res['service.version'], 'string');
    assert.equal(typeof res['service.instance.id'], 'string');
    assert.equal(http.headers['x-test'], 'eunomia');

    const l = checkAlertLog(http);
    assert.deepEqual(l.resource, res);

    // The container's exec of cat, from the process tracker (in otel.events).
    await waitFor(() => http.logs().some((x) => x.body === 'process' && x.attributes['container.name'] === name && x.attributes.type === 'exec'), 'the exec event as a log record', 10_000);
    const ev = http.logs().find((x) => x.body === 'process' && x.attributes['container.name'] === name && x.attributes.type === 'exec')!;
    assert.equal(ev.record.severityNumber, 'SEVERITY_NUMBER_INFO');
    assert.equal(ev.attributes['eunomia.tracker'], 'process');
    assert.equal(ev.attributes.comm, 'cat');
    assert.equal(typeof ev.attributes.pid, 'number');
    assert.match(String(ev.attributes['container.id']), /^[0-9a-f]{64}$/);
    assert.ok(!http.logs().some((x) => x.body === 'opensnoop'), 'only the trackers in otel.events');

    // The receiver has the data before the exporter has its answer.
    await waitFor(() => viaHttp.stats().metricExports.ok > 0 && viaHttp.stats().logExports.ok > 0, 'exports counted', 5000);
    const st = viaHttp.stats();
    assert.equal(st.metricExports.failed, 0);
    assert.equal(st.logRecords.dropped, 0);
    assert.ok(st.logRecords.alerts.emitted >= 1);
    const sink = agent.pipeline.stats().sinks.find((s) => s.name === 'otel')!;
    assert.ok(sink.written > 0);
  });

  test('gRPC: metrics and alert log records', async () => {
    await waitFor(() => !!alertLog(grpc) && alertCounted(grpc), 'the alert as a log record and in eunomia_alerts_total over gRPC', 20_000);
    checkMetrics(grpc);
    checkAlertLog(grpc);
    const res = grpc.metrics()[0]!.resource;
    assert.equal(res['service.name'], 'eunomia-grpc');
    assert.equal(res['host.name'], hostname());
    assert.deepEqual(grpc.metadata['x-test'], 'grpc');
    assert.ok(!grpc.logs().some((l) => l.attributes['eunomia.tracker'] !== undefined), 'no events asked for over gRPC');
    assert.ok(grpc.requests.every((r) => r.startsWith('grpc ')));
  });

  test('a receiver that is down: failures counted and logged, the agent goes on', async () => {
    const failedBoth = (o: OtelExport): boolean => o.stats().metricExports.failed > 0 && o.stats().logExports.failed > 0;
    // The alert's log record may go in a later batch than the first failed one: wait for it too.
    await waitFor(() => failedBoth(down) && failedBoth(downGrpc) && down.stats().logRecords.alerts.failed >= 1, 'failed exports to be counted (HTTP and gRPC), the alert among them', 20_000);
    assert.equal(downGrpc.stats().metricExports.ok, 0);
    const st = down.stats();
    assert.equal(st.metricExports.ok, 0);
    assert.ok(st.logRecords.failed > 0);
    assert.ok(st.logRecords.alerts.failed >= 1);
    assert.ok(lines.some((l) => /^otel: metrics export failed: .*ECONNREFUSED/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^otel: logs export failed: .*ECONNREFUSED/.test(l)), lines.join('\n'));
    // The down export's sink counts the lost event records as dropped.
    const sink = agent.pipeline.stats().sinks.find((s) => s.name === 'otel-2')!;
    assert.ok(sink.dropped > 0, JSON.stringify(sink));
    // Still running: the other exports keep going, and the agent answers.
    const before = http.metricRequests.length;
    await waitFor(() => http.metricRequests.length > before, 'another export to the live receiver', 5000);
    assert.ok(agent.list().length === 2);
    const t = Date.now();
    await Promise.all([down.close(), downGrpc.close()]);
    assert.ok(Date.now() - t < 6000, 'close does not hang on a dead collector');
  });
});
