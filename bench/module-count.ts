/**
 * `node --import dist/bench/module-count.js bin/eunomia.js …`: prints to stderr, at exit, how
 * many modules the command loaded — ES modules through the loader hooks this file registers
 * (the same file runs as the hooks, off the main thread), CommonJS ones (Fastify, prom-client,
 * gRPC…) from require's cache.
 */
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

/** Shared with the hooks thread: the count is exact at exit, with no message in flight. */
let counter: Int32Array | undefined;

/** Hooks side: counts every module the ESM loader loads. */
export function initialize(data: { counter: Int32Array }): void {
  counter = data.counter;
}

export async function load(url: string, context: unknown, next: (url: string, context: unknown) => Promise<unknown>): Promise<unknown> {
  if (counter) Atomics.add(counter, 0, 1);
  return next(url, context);
}

if (isMainThread) {
  const shared = new Int32Array(new SharedArrayBuffer(4));
  register(import.meta.url, { data: { counter: shared } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => process.stderr.write(`modules: ${Atomics.load(shared, 0)} ES, ${Object.keys(cache).length} CommonJS\n`));
}
