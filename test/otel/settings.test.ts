/** OTLP settings from the config and the OTEL_* variables: defaults, precedence, errors. No root needed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { labelAttributes } from '../../src/otel/metrics.js';
import { imageAttributes } from '../../src/otel/semconv.js';
import { parseKeyValueList, resolveSettings } from '../../src/otel/settings.js';
import type { OtelConfig } from '../../src/agent/config.js';
import { defaultConfig } from '../../src/agent/config.js';

const cfg = (o: Partial<OtelConfig> = {}): OtelConfig => ({ ...defaultConfig().otel, ...o });

function configError(fn: () => unknown, naming: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEunomiaError(e, 'E_CONFIG'), `expected E_CONFIG, got ${String(e)}`);
    assert.ok(e.message.includes(naming), `message should name ${naming}: ${e.message}`);
    return true;
  });
}

describe('otel settings', () => {
  test('off by default; on with an endpoint in the config or the environment, or enabled = true', () => {
    assert.equal(resolveSettings(cfg(), {}), undefined);
    assert.ok(resolveSettings(cfg({ endpoint: 'http://c:4318' }), {}));
    assert.ok(resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }));
    assert.ok(resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs' }));
    assert.equal(resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), undefined, 'a blank variable is unset');
    assert.equal(resolveSettings(cfg({ enabled: false, endpoint: 'http://c:4318' }), {}), undefined);
    assert.equal(resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.ok(resolveSettings(cfg({ enabled: true }), { OTEL_SDK_DISABLED: 'true' }), 'the config wins over OTEL_SDK_DISABLED');
  });

  test('defaults: http/protobuf to localhost:4318, every 60 s, service eunomia', () => {
    const s = resolveSettings(cfg({ enabled: true }), {})!;
    assert.deepEqual(s.metrics, { protocol: 'http/protobuf', url: 'http://localhost:4318/v1/metrics', headers: {} });
    assert.deepEqual(s.logs, { protocol: 'http/protobuf', url: 'http://localhost:4318/v1/logs', headers: {} });
    assert.equal(s.intervalMs, 60_000);
    assert.equal(s.exportTimeoutMs, 30_000);
    assert.equal(s.serviceName, 'eunomia');
    const g = resolveSettings(cfg({ enabled: true, protocol: 'grpc' }), {})!;
    assert.equal(g.metrics!.url, 'http://localhost:4317');
    assert.equal(g.logs!.url, 'http://localhost:4317');
  });

  test('signals follow metrics, alerts and events', () => {
    const s = resolveSettings(cfg({ enabled: true, metrics: false, alerts: false }), {})!;
    assert.equal(s.metrics, undefined);
    assert.equal(s.logs, undefined);
    const e = resolveSettings(cfg({ enabled: true, alerts: false, events: ['process', 'process'] }), {})!;
    assert.ok(e.logs);
    assert.deepEqual(e.events, ['process']);
  });

  test('environment: endpoints, per-signal endpoints as they are, protocols, headers, interval, resource', () => {
    const s = resolveSettings(cfg(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/base/',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:9999/custom',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-team=sec',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-team=metrics',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
      OTEL_METRIC_EXPORT_TIMEOUT: '20000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_SERVICE_NAME: 'edr',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,service.name=ignored,team=a%2Cb',
    })!;
    assert.equal(s.metrics!.url, 'https://collector:4318/base/v1/metrics');
    assert.equal(s.logs!.url, 'http://logs:9999/custom');
    assert.deepEqual(s.metrics!.headers, { authorization: 'Bearer abc', 'x-team': 'metrics' });
    assert.deepEqual(s.logs!.headers, { authorization: 'Bearer abc', 'x-team': 'sec' });
    assert.equal(s.intervalMs, 15_000);
    assert.equal(s.exportTimeoutMs, 15_000, 'never longer than the interval');
    assert.equal(s.requestTimeoutMs, 3000);
    assert.equal(s.serviceName, 'edr');
    assert.deepEqual(s.resourceAttributes, { 'deployment.environment.name': 'prod', team: 'a,b' });
    assert.equal(resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_RESOURCE_ATTRIBUTES: 'service.name=svc' })!.serviceName, 'svc');

    const g = resolveSettings(cfg(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
    })!;
    assert.deepEqual([g.metrics!.protocol, g.metrics!.url], ['grpc', 'http://collector:4317']);
    assert.deepEqual([g.logs!.protocol, g.logs!.url], ['http/protobuf', 'http://collector:4317/v1/logs']);
  });

  test('the config file wins over the environment', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://env-metrics:4318/v1/metrics',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
    };
    const s = resolveSettings(cfg({ endpoint: 'http://file:4317', protocol: 'grpc', intervalMs: 500 }), env)!;
    assert.deepEqual([s.metrics!.protocol, s.metrics!.url], ['grpc', 'http://file:4317']);
    assert.deepEqual([s.logs!.protocol, s.logs!.url], ['grpc', 'http://file:4317']);
    assert.equal(s.intervalMs, 500);
    assert.equal(s.exportTimeoutMs, 500);
  });

  test('bad values are E_CONFIG naming the key or variable', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    configError(() => resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), 'OTEL_EXPORTER_OTLP_ENDPOINT');
    configError(() => resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c' }), 'OTEL_EXPORTER_OTLP_ENDPOINT');
    configError(() => resolveSettings(cfg(), { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'not a url' }), 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
    configError(() => resolveSettings(cfg({ endpoint: 'c:4318' }), {}), 'otel.endpoint');
    configError(() => resolveSettings(cfg({ enabled: true, protocol: 'thrift' as never }), {}), 'otel.protocol');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), 'OTEL_EXPORTER_OTLP_PROTOCOL');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'udp' }), 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }), 'OTEL_EXPORTER_OTLP_HEADERS');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'a=%zz' }), 'OTEL_EXPORTER_OTLP_LOGS_HEADERS');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_METRIC_EXPORT_INTERVAL: '10s' }), 'OTEL_METRIC_EXPORT_INTERVAL');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_METRIC_EXPORT_INTERVAL: '5' }), 'OTEL_METRIC_EXPORT_INTERVAL');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_METRIC_EXPORT_TIMEOUT: '-1' }), 'OTEL_METRIC_EXPORT_TIMEOUT');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_EXPORTER_OTLP_TIMEOUT: 'x' }), 'OTEL_EXPORTER_OTLP_TIMEOUT');
    configError(() => resolveSettings(cfg(), { ...on, OTEL_RESOURCE_ATTRIBUTES: '=x' }), 'OTEL_RESOURCE_ATTRIBUTES');
    configError(() => resolveSettings(cfg({ enabled: true, intervalMs: 10 }), {}), 'otel.interval_ms');
    // A value that is not used is not an error: the config's protocol stands in for the variable.
    assert.ok(resolveSettings(cfg({ protocol: 'grpc' }), { ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'bogus' }));
  });

  test('key=value lists', () => {
    assert.deepEqual(parseKeyValueList('X', ' a = 1 ,, b=x%3Dy '), { a: '1', b: 'x=y' });
  });

  test('metric labels and images → semantic-convention attributes', () => {
    assert.deepEqual(labelAttributes({ container: 'web', container_id: 'abc', image: 'reg:5000/app:1.2', pod: 'p', namespace: 'ns', comm: 'sh', le: '1' }, 'le'), {
      'container.name': 'web',
      'container.id': 'abc',
      'container.image.name': 'reg:5000/app',
      'container.image.tags': ['1.2'],
      'k8s.pod.name': 'p',
      'k8s.namespace.name': 'ns',
      comm: 'sh',
    });
    assert.deepEqual(labelAttributes({ container: '', container_id: '', comm: 'bash' }), { comm: 'bash' }, 'empty labels (host processes) are left out');
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(imageAttributes(digest), { 'container.image.id': digest });
    assert.deepEqual(imageAttributes(`app@${digest}`), { 'container.image.name': 'app', 'container.image.repo_digests': [`app@${digest}`] });
    assert.deepEqual(imageAttributes('busybox'), { 'container.image.name': 'busybox' });
  });
});
