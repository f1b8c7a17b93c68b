/** `eunomia run <tracker>`: one tracker, its events to stdout or a file, a summary at the end. */
import { join } from 'node:path';
import { readObject } from '../core/bpf-object.js';
import { systemClock } from '../core/clock.js';
import { objectDir } from '../core/paths.js';
import { preflight } from '../core/kernel.js';
import { TrackerManager } from '../runtime/manager.js';
import { loadNative } from '../core/native.js';
import type { TrackerStats } from '../runtime/tracker.js';
import { containerColumn, containerCsvColumns } from '../containers/columns.js';
import { enrichHandler, startContainers, type Containers } from '../containers/index.js';
import { createSink, openOutput } from '../exporters/index.js';
import type { Column } from '../pipeline/types.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { RunArgs } from './args.js';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createRegistry, enableBpfStats, MetricsExporter, registerAgentMetrics, startMetricsServer } from '../metrics/index.js';
import { parseListen } from '../agent/config.js';

export interface RunIo {
  stderr: NodeJS.WritableStream;
}

/** Operations an in-kernel aggregation map could not count: not lost events, so said apart ("" when none). */
export function notCounted(s: TrackerStats): string {
  return s.mapInsertFailures ? `, ${s.mapInsertFailures} not counted (in-kernel map full or out of memory)` : '';
}

export function summaryLine(name: string, s: TrackerStats, out: { written: number; dropped: number }): string {
  const lost = s.lostKernel + s.lostQueue + out.dropped;
  return (
    `${name}: ${s.events} events seen, ${lost} lost ` +
    `(kernel ring buffer ${s.lostKernel}, native queue ${s.lostQueue}, output ${out.dropped}), ` +
    `${s.decodeErrors} undecodable${notCounted(s)}, ${out.written} written`
  );
}

function signals(): { promise: Promise<string>; dispose: () => void } {
  let dispose = (): void => {};
  const promise = new Promise<string>((resolve) => {
    let count = 0;
    const on = (sig: NodeJS.Signals): void => {
      // A second signal means "now": the kernel detaches everything when our fds close.
      if (++count > 1) process.exit(130);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    dispose = () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    };
  });
  return { promise, dispose };
}

/** The tracker's columns, with the container's where its events carry one. */
function columnsOf(args: RunArgs, enriched: boolean): readonly Column[] {
  const cols = args.tracker.columns;
  if (!enriched || !args.tracker.event) return cols;
  return args.format === 'csv' ? [...cols, ...containerCsvColumns] : [containerColumn, ...cols];
}

export async function runTracker(args: RunArgs, io: RunIo): Promise<number> {
  const native = loadNative();
  preflight(native);
  const output = openOutput(args.output);
  const log = (line: string): void => void io.stderr.write(`eunomia: ${line}\n`);
  let containers: Containers | undefined;
  // The tracker's own object first: if the install is broken, that is the error to show.
  readObject(join(objectDir, args.tracker.object));
  if (args.containers) containers = await startContainers(native, { log });
  const columns = columnsOf(args, containers !== undefined);
  const sink = createSink({ format: args.format, output, columnsFor: () => columns, plainFor: () => args.tracker.plain });
  const handlers = containers ? [enrichHandler(containers.resolver)] : [];
  const prom = args.metricsListen ? prometheusFor(args) : undefined;
  const pipeline = new Pipeline({ handlers, sinks: [sink, ...(prom ? [prom.exporter] : [])] });
  const manager = new TrackerManager({ native, clock: systemClock(), emit: pipeline.push, containers: containers?.resolver });
  const sig = signals();
  let server: Server | undefined;
  let bpfStatsOff: (() => void) | undefined;
  try {
    if (prom) {
      if (args.bpfStats) bpfStatsOff = enableBpfStats(native, log);
      registerAgentMetrics(prom.registry, { manager, pipeline, native, bpfStats: bpfStatsOff !== undefined });
      const { host, port } = parseListen(args.metricsListen!, '--metrics-listen');
      server = await startMetricsServer(prom.registry, host, port);
      log(`Prometheus metrics on http://${args.metricsListen}/metrics`);
    }
    const inst = manager.start(args.tracker, args.options);
    for (const s of inst.unmatchedContainers) log(`no container "${s}" yet: its events will show once it starts`);
    io.stderr.write(`eunomia: ${args.tracker.name} tracker started${args.seconds ? ` for ${args.seconds}s` : ''}; Ctrl-C to stop\n`);
    // `eunomia run … | head`: when the reader goes away, stop like any Unix tool would.
    const brokenPipe = new Promise((r) => output.on('error', (e: NodeJS.ErrnoException) => e.code === 'EPIPE' && r(e)));
    const waits: Promise<unknown>[] = [sig.promise, brokenPipe];
    let timer: NodeJS.Timeout | undefined;
    if (args.seconds) waits.push(new Promise((r) => (timer = setTimeout(r, args.seconds! * 1000))));
    await Promise.race(waits);
    clearTimeout(timer);
    const stats = await manager.stop(inst.id);
    // The summary is printed even when the output failed (disk full…); the error follows it.
    const closed = await pipeline.close().then(() => undefined, (e: unknown) => e);
    io.stderr.write(summaryLine(args.tracker.name, stats, sink.stats()) + '\n');
    const errors = pipeline.stats().errors;
    if (errors > 0) io.stderr.write(`eunomia: ${errors} pipeline errors, first: ${pipeline.stats().errorSamples[0]?.message}\n`);
    if (closed) throw closed;
    return 0;
  } finally {
    sig.dispose();
    manager.stopAllNow();
    containers?.closeNow();
    server?.close();
    bpfStatsOff?.();
  }
}

/** The tracker's metric families in a registry of their own, as a pipeline sink. */
function prometheusFor(args: RunArgs): { registry: Registry; exporter: MetricsExporter } {
  const registry = createRegistry();
  return { registry, exporter: new MetricsExporter(registry, [args.tracker]) };
}
