/**
 * A test OTLP receiver on loopback: HTTP (POST /v1/metrics, /v1/logs with protobuf bodies) and
 * gRPC (the collector's MetricsService and LogsService). Requests are decoded with the official
 * opentelemetry-proto definitions (from an npm package: see PROTO_DIR), through
 * @grpc/proto-loader (protobufjs).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { repoRoot } from '../helpers.js';

// The OTLP .proto files as an npm package ships them (devDependency "otlp-protos", an alias of
// @opentelemetry/otlp-grpc-exporter-base 0.34, the last SDK package that carried them). Older
// than the SDK's wire format, which only adds fields: fields it lacks (LogRecord.event_name)
// are skipped when decoding, as protobuf does.
const PROTO_DIR = join(repoRoot, 'node_modules/otlp-protos/build/protos');
const METRICS_SERVICE = 'opentelemetry.proto.collector.metrics.v1.MetricsService';
const LOGS_SERVICE = 'opentelemetry.proto.collector.logs.v1.LogsService';

/** Decoded protobuf, as proto-loader gives it (camelCase fields, oneofs named, 64-bit ints as strings). */
type Msg = Record<string, unknown>;

let definition: protoLoader.PackageDefinition | undefined;
function protos(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(
    ['opentelemetry/proto/collector/metrics/v1/metrics_service.proto', 'opentelemetry/proto/collector/logs/v1/logs_service.proto'],
    { includeDirs: [PROTO_DIR], longs: String, enums: String, oneofs: true, defaults: false },
  );
  return definition;
}

function method(service: string): protoLoader.MethodDefinition<object, object> {
  return (protos()[service] as protoLoader.ServiceDefinition).Export as protoLoader.MethodDefinition<object, object>;
}

/** An AnyValue as a plain value (arrays and maps too). */
export function anyValue(v: Msg | undefined): unknown {
  if (!v) return undefined;
  const which = v.value as string | undefined;
  if (!which) return undefined;
  const x = v[which];
  switch (which) {
    case 'intValue':
      return Number(x);
    case 'arrayValue':
      return (((x as Msg).values as Msg[] | undefined) ?? []).map((e) => anyValue(e));
    case 'kvlistValue':
      return attrs((x as Msg).values as Msg[] | undefined);
    case 'bytesValue':
      return Buffer.from(x as Uint8Array);
    default:
      return x;
  }
}

/** KeyValue list → object. */
export function attrs(list: Msg[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key as string] = anyValue(kv.value as Msg | undefined);
  return out;
}

export interface ReceivedMetric {
  resource: Record<string, unknown>;
  scope: string;
  name: string;
  description?: string;
  unit?: string;
  /** 'sum' | 'gauge' | 'histogram' | … (the oneof's name). */
  kind: string;
  data: Msg;
  points: { attributes: Record<string, unknown>; point: Msg }[];
}

export interface ReceivedLog {
  resource: Record<string, unknown>;
  scope: string;
  record: Msg;
  attributes: Record<string, unknown>;
  body: unknown;
}

export class Receiver {
  readonly metricRequests: Msg[] = [];
  readonly logRequests: Msg[] = [];
  /** Every request, as "<transport> <signal>". */
  readonly requests: string[] = [];
  /** Answer with this HTTP status / gRPC code instead of success. */
  failWith?: { http: number; grpc: grpc.status };

  metrics(): ReceivedMetric[] {
    const out: ReceivedMetric[] = [];
    for (const req of this.metricRequests) {
      for (const rm of (req.resourceMetrics as Msg[] | undefined) ?? []) {
        const resource = attrs(((rm.resource as Msg | undefined)?.attributes as Msg[] | undefined) ?? []);
        for (const sm of (rm.scopeMetrics as Msg[] | undefined) ?? []) {
          const scope = ((sm.scope as Msg | undefined)?.name as string | undefined) ?? '';
          for (const m of (sm.metrics as Msg[] | undefined) ?? []) {
            const kind = m.data as string;
            const data = m[kind] as Msg;
            const points = ((data.dataPoints as Msg[] | undefined) ?? []).map((p) => ({ attributes: attrs(p.attributes as Msg[] | undefined), point: p }));
            out.push({ resource, scope, name: m.name as string, description: m.description as string, unit: m.unit as string, kind, data, points });
          }
        }
      }
    }
    return out;
  }

  logs(): ReceivedLog[] {
    const out: ReceivedLog[] = [];
    for (const req of this.logRequests) {
      for (const rl of (req.resourceLogs as Msg[] | undefined) ?? []) {
        const resource = attrs(((rl.resource as Msg | undefined)?.attributes as Msg[] | undefined) ?? []);
        for (const sl of (rl.scopeLogs as Msg[] | undefined) ?? []) {
          const scope = ((sl.scope as Msg | undefined)?.name as string | undefined) ?? '';
          for (const r of (sl.logRecords as Msg[] | undefined) ?? []) {
            out.push({ resource, scope, record: r, attributes: attrs(r.attributes as Msg[] | undefined), body: anyValue(r.body as Msg | undefined) });
          }
        }
      }
    }
    return out;
  }
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export interface HttpReceiver extends Receiver {
  url: string;
  /** Request headers seen, last request first overwritten. */
  headers: Record<string, string | string[] | undefined>;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const r = new Receiver() as HttpReceiver;
  r.headers = {};
  const routes: Record<string, [string, Msg[]]> = { '/v1/metrics': [METRICS_SERVICE, r.metricRequests], '/v1/logs': [LOGS_SERVICE, r.logRequests] };
  const server: Server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (req.method !== 'POST' || !route) {
      res.writeHead(404).end();
      return;
    }
    if (req.headers['content-type'] !== 'application/x-protobuf') {
      res.writeHead(415).end();
      return;
    }
    body(req).then(
      (buf) => {
        r.headers = req.headers;
        const m = method(route[0]);
        r.requests.push(`http ${req.url}`);
        if (r.failWith) {
          res.writeHead(r.failWith.http).end();
          return;
        }
        route[1].push(m.requestDeserialize(buf) as Msg);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(m.responseSerialize({}));
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return r;
}

export interface GrpcReceiver extends Receiver {
  url: string;
  metadata: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startGrpcReceiver(): Promise<GrpcReceiver> {
  const r = new Receiver() as GrpcReceiver;
  r.metadata = {};
  const server = new grpc.Server();
  const handler = (signal: string, store: Msg[]): grpc.handleUnaryCall<Msg, Msg> => (call, callback) => {
    r.requests.push(`grpc ${signal}`);
    r.metadata = call.metadata.getMap();
    if (r.failWith) {
      callback({ code: r.failWith.grpc, details: 'test receiver told to fail' });
      return;
    }
    store.push(call.request);
    callback(null, {});
  };
  server.addService(protos()[METRICS_SERVICE] as grpc.ServiceDefinition, { Export: handler('metrics', r.metricRequests) });
  server.addService(protos()[LOGS_SERVICE] as grpc.ServiceDefinition, { Export: handler('logs', r.logRequests) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  r.url = `http://127.0.0.1:${port}`;
  r.close = () => new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return r;
}
