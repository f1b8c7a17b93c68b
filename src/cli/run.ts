/** `eunomia run <tracker>`: one tracker, its events to stdout or a file, a summary at the end. */
import { join } from 'node:path';
import { readObject } from '../core/bpf-object.js';
import { objectDir } from '../core/paths.js';
import { loadNative } from '../core/native.js';
import type { TrackerStats } from '../runtime/tracker.js';
import { containerColumn, containerCsvColumns } from '../containers/columns.js';
import { createSink, openOutput } from '../exporters/index.js';
import type { Column, Sink } from '../pipeline/types.js';
import type { RunArgs } from './args.js';
import { stopSignals } from './signals.js';
import type { Server } from 'node:http';
import { Agent } from '../agent/agent.js';
import { defaultConfig, parseListen, type ServerConfig } from '../agent/config.js';

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

/** The tracker's columns, with the container's where its events carry one. */
function columnsOf(args: RunArgs, enriched: boolean): readonly Column[] {
  const cols = args.tracker.columns;
  if (!enriched || !args.tracker.event) return cols;
  return args.format === 'csv' ? [...cols, ...containerCsvColumns] : [containerColumn, ...cols];
}

/** `run`'s agent: one tracker, no rules, no API; metrics only with --prometheus. */
function runConfig(args: RunArgs): ServerConfig {
  const config = defaultConfig();
  config.trackers = [{ name: args.tracker.name, options: args.options }];
  config.containers = args.containers;
  config.rules.enabled = false;
  config.metrics.bpfStats = args.bpfStats;
  // OTLP is the server's: its environment variables do not turn it on for `run`.
  config.otel.enabled = false;
  return config;
}

export async function runTracker(args: RunArgs, io: RunIo): Promise<number> {
  const native = loadNative();
  const output = openOutput(args.output);
  const log = (line: string): void => void io.stderr.write(`eunomia: ${line}\n`);
  for (const n of args.notes) log(n);
  // The tracker's own object first: if the install is broken, that is the error to show
  // (the agent's preflight then checks privileges, BTF and tracefs).
  if (!args.tracker.objectBytes) readObject(join(objectDir, args.tracker.object));
  const columns = columnsOf(args, args.containers);
  const sink = createSink({ format: args.format, output, columnsFor: () => columns, plainFor: () => args.tracker.plain });
  // What the tracker writes when it stops (the profile's --svg FILE): every row it reports.
  const files = args.tracker.outputs?.(args.options);
  const sinks: Sink[] = [sink];
  if (files) sinks.push({ name: `${args.tracker.name} files`, write: (ev) => files.add(ev.data), stats: () => ({ written: 0, dropped: 0 }), close: async () => {} });
  const agent = await Agent.start(runConfig(args), { native, log, trackers: [args.tracker], sinks, metrics: args.metricsListen !== undefined, streams: false });
  const sig = stopSignals();
  let server: Server | undefined;
  try {
    if (args.metricsListen) {
      const { host, port } = parseListen(args.metricsListen, '--metrics-listen');
      const { startMetricsServer } = await import('../metrics/server.js');
      server = await startMetricsServer(agent.metrics, host, port);
      log(`Prometheus metrics on http://${args.metricsListen}/metrics`);
    }
    const inst = agent.manager.instancesNow()[0]!;
    for (const s of inst.unmatchedContainers) log(`no container "${s}" yet: its events will show once it starts`);
    for (const s of inst.skipped) log(`program ${s.program} not loaded: ${s.reason}`);
    io.stderr.write(`eunomia: ${args.tracker.name} tracker started${args.seconds ? ` for ${args.seconds}s` : ''}; Ctrl-C to stop\n`);
    // `eunomia run … | head`: when the reader goes away, stop like any Unix tool would.
    const brokenPipe = new Promise((r) => output.on('error', (e: NodeJS.ErrnoException) => e.code === 'EPIPE' && r(e)));
    const waits: Promise<unknown>[] = [sig.promise, brokenPipe];
    let timer: NodeJS.Timeout | undefined;
    if (args.seconds) waits.push(new Promise((r) => (timer = setTimeout(r, args.seconds! * 1000))));
    await Promise.race(waits);
    clearTimeout(timer);
    const stats = await agent.stop(inst.id);
    // The summary is printed even when the output failed (disk full…); the error follows it.
    const closed = await agent.pipeline.close().then(() => undefined, (e: unknown) => e);
    io.stderr.write(summaryLine(args.tracker.name, stats, sink.stats()) + '\n');
    if (files) for (const line of await files.finish()) log(line);
    const errors = agent.pipeline.stats().errors;
    if (errors > 0) io.stderr.write(`eunomia: ${errors} pipeline errors, first: ${agent.pipeline.stats().errorSamples[0]?.message}\n`);
    if (closed) throw closed;
    return 0;
  } finally {
    sig.dispose();
    agent.closeNow();
    server?.close();
  }
}
