/** GET /metrics for Prometheus, on its own port (127.0.0.1:8528 by default), apart from the control API. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { expositionBody } from './exposition.js';

export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: Eunomia serves GET /metrics here\n');
      return;
    }
    expositionBody(registry).then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType, 'content-length': body.length }).end(body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new EunomiaError(ErrorCodes.CONFIG, `cannot serve metrics on ${host}:${port}: ${e.message}`)));
    server.listen(port, host, resolve);
  });
  return server;
}
