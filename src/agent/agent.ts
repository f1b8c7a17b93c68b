/**
 * The long-running agent: trackers and hot-loaded programs (one table of instances), the
 * pipeline with container enrichment, live streams and an optional output. The HTTP API
 * (http.ts) and the CLI drive it; it knows nothing of HTTP.
 */
import { systemClock } from '../core/clock.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { preflight } from '../core/kernel.js';
import { TrackerManager } from '../runtime/manager.js';
import type { NativeBinding } from '../core/native.js';
import type { TrackerInstance, TrackerStats } from '../runtime/tracker.js';
import { enrichHandler, startContainers, type Containers } from '../containers/index.js';
import { createSink, openOutput } from '../exporters/index.js';
import { parseProgramPackage, programDescriptor, type HotloadLimits } from '../hotload/index.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { Sink } from '../pipeline/types.js';
import { findTracker, trackers } from '../trackers/registry.js';
import type { OptionValues } from '../runtime/types.js';
import type { ServerConfig } from './config.js';
import { EventStreams } from './streams.js';
import { jsonlSink, logSink, webhookSink, type AlertSink } from '../alerts/index.js';
import { Analyzer } from '../analyzer/analyzer.js';
import { loadRules } from '../rules/index.js';
import { createRegistry, enableBpfStats, MetricsExporter, registerAgentMetrics, registerAlertMetrics, TrackerTotals } from '../metrics/index.js';
import type { Registry } from 'prom-client';
import type { OtelExport } from '../otel/index.js';
import { resolveSettings } from '../otel/settings.js';

export interface InstanceView {
  id: number;
  name: string;
  kind: 'tracker' | 'program';
  options: OptionValues;
  startedAt: string;
  stats: TrackerStats;
}

export interface AgentDeps {
  native: NativeBinding;
  log: (line: string) => void;
}

const builtIn = new Set(trackers.map((t) => t.name));

/** Rules (built-in, then the config's files), alert sinks, throttling. */
function analyzerFor(config: ServerConfig, deps: AgentDeps): Analyzer {
  const rules = loadRules(config.rules.files);
  if (config.rules.disable.length) rules.disable(config.rules.disable);
  const sinks: AlertSink[] = [logSink(process.stderr)];
  if (config.rules.alertFile) sinks.push(jsonlSink(config.rules.alertFile));
  if (config.rules.webhook) sinks.push(webhookSink(config.rules.webhook));
  deps.log(`security rules: ${rules.rules().filter((r) => r.enabled).length} on; alerts to the log${config.rules.alertFile ? `, ${config.rules.alertFile}` : ''}${config.rules.webhook ? `, ${config.rules.webhook}` : ''}`);
  return new Analyzer({ rules, sinks, selfPid: process.pid, throttle: { burst: config.rules.burst, intervalMs: config.rules.intervalMs } });
}

export class Agent {
  readonly startedAt = Date.now();
  private readonly started = new Map<number, { at: number; kind: InstanceView['kind'] }>();
  private closing?: Promise<void>;
  /** What stopped instances counted: the agent's counters never go down. */
  private readonly totals = new TrackerTotals();
  /** Turns the kernel's BPF run-time stats off again. */
  private bpfStatsOff?: () => void;
  /** OTLP export, when on (config [otel], OTEL_EXPORTER_OTLP_*). */
  otel?: OtelExport;

  private constructor(
    readonly config: ServerConfig,
    readonly manager: TrackerManager,
    readonly pipeline: Pipeline,
    readonly containers: Containers | undefined,
    readonly streams: EventStreams,
    private readonly limits: Partial<HotloadLimits>,
    /** The security analyzer, when rules are on. */
    readonly analyzer: Analyzer | undefined,
    /** Prometheus metrics of this agent (served by `eunomia server` on --metrics-listen). */
    readonly metrics: Registry,
  ) {}

  /** What hot-loaded packages are checked against (config [hotload]). */
  get hotloadLimits(): Partial<HotloadLimits> {
    return this.limits;
  }

  static async start(config: ServerConfig, deps: AgentDeps): Promise<Agent> {
    preflight(deps.native);
    const analyzer = config.rules.enabled ? analyzerFor(config, deps) : undefined;
    const containers = config.containers ? await startContainers(deps.native, { log: deps.log }) : undefined;
    const streams = new EventStreams();
    const metrics = createRegistry();
    const exporter = new MetricsExporter(metrics, trackers, { maxSeries: config.metrics.maxSeries, seriesTtlMs: config.metrics.seriesTtlMs });
    // The analyzer is a sink: it changes no event. Containers enrich first, so rules see container and pod.
    const sinks: Sink[] = [streams, exporter, ...(analyzer ? [analyzer.sink()] : [])];
    if (config.output) sinks.push(createSink({ format: config.output.format, output: openOutput(config.output.path), multiTracker: true }));
    const handlers = containers ? [enrichHandler(containers.resolver)] : [];
    const pipeline = new Pipeline({ handlers, sinks });
    const manager = new TrackerManager({ native: deps.native, clock: systemClock(), emit: pipeline.push, containers: containers?.resolver });
    const limits: Partial<HotloadLimits> = { maxObjectBytes: config.hotload.maxObjectBytes };
    if (config.hotload.allowProgramTypes) limits.allowedProgramTypes = config.hotload.allowProgramTypes;
    if (analyzer) registerAlertMetrics(metrics, analyzer);
    const agent = new Agent(config, manager, pipeline, containers, streams, limits, analyzer, metrics);
    if (config.metrics.bpfStats) agent.bpfStatsOff = enableBpfStats(deps.native, deps.log);
    registerAgentMetrics(metrics, { manager, pipeline, native: deps.native, totals: agent.totals, bpfStats: agent.bpfStatsOff !== undefined });
    try {
      // The OpenTelemetry SDK weighs ~24 MiB of memory: it is loaded only when export is on.
      if (resolveSettings(config.otel)) {
        const { startOtel } = await import('../otel/index.js');
        agent.otel = await startOtel(config.otel, { registry: metrics, analyzer, pipeline, log: deps.log });
      }
      for (const t of config.trackers) agent.startTracker(t.name, t.options);
    } catch (e) {
      await agent.close();
      throw e;
    }
    return agent;
  }

  private track(inst: TrackerInstance, kind: InstanceView['kind']): TrackerInstance {
    this.started.set(inst.id, { at: Date.now(), kind });
    return inst;
  }

  startTracker(name: string, options: OptionValues = {}): TrackerInstance {
    this.assertOpen();
    return this.track(this.manager.start(findTracker(name), options), 'tracker');
  }

  /** Loads a program package (any format parseProgramPackage takes) as a new instance. */
  startProgram(pkg: unknown, options: OptionValues = {}): TrackerInstance {
    this.assertOpen();
    const parsed = parseProgramPackage(pkg, this.limits);
    return this.track(this.manager.start(programDescriptor(parsed), { ...parsed.options, ...options }), 'program');
  }

  /** Hot update: a new program in place of instance `id`, which keeps its id and its streams. */
  async replaceProgram(id: number, pkg: unknown, options: OptionValues = {}): Promise<TrackerInstance> {
    this.assertOpen();
    if (this.started.get(id)?.kind !== 'program') throw this.notProgram(id);
    const parsed = parseProgramPackage(pkg, this.limits);
    const inst = await this.manager.replace(id, programDescriptor(parsed), { ...parsed.options, ...options });
    this.started.set(id, { at: Date.now(), kind: 'program' });
    return inst;
  }

  private notProgram(id: number): EunomiaError {
    return this.manager.get(id)
      ? new EunomiaError(ErrorCodes.REQUEST, `instance ${id} is a built-in tracker, not a hot-loaded program: only programs can be replaced`)
      : new EunomiaError(ErrorCodes.NOT_FOUND, `no tracker instance with id ${id}`);
  }

  async stop(id: number): Promise<TrackerStats> {
    const inst = this.manager.get(id);
    const stats = await this.manager.stop(id);
    if (inst) this.totals.retire({ name: inst.name, stats, programs: inst.programStats() });
    this.started.delete(id);
    this.streams.end(id, { id, stats });
    return stats;
  }

  view(inst: TrackerInstance): InstanceView {
    const s = this.started.get(inst.id);
    return {
      id: inst.id,
      name: inst.name,
      kind: s?.kind ?? (builtIn.has(inst.name) ? 'tracker' : 'program'),
      options: inst.options,
      startedAt: new Date(s?.at ?? this.startedAt).toISOString(),
      stats: inst.stats(),
    };
  }

  get(id: number): InstanceView {
    const inst = this.manager.get(id);
    if (!inst) throw new EunomiaError(ErrorCodes.NOT_FOUND, `no tracker instance with id ${id}`);
    return this.view(inst);
  }

  list(): InstanceView[] {
    return this.manager.list().map((i) => this.get(i.id));
  }

  private assertOpen(): void {
    if (this.closing) throw new EunomiaError(ErrorCodes.STATE, 'the agent is stopping');
  }

  /** Stops every instance, then the pipeline and the container resolver. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.manager.stopAll();
      // After the trackers, before the pipeline: the last events and metrics still go out.
      await this.otel?.close();
      await this.pipeline.close();
      await this.containers?.close();
      this.closeBpfStats();
    })();
    return this.closing;
  }

  /** Exit path: synchronous teardown (the kernel would also release everything with our fds). */
  closeNow(): void {
    this.manager.stopAllNow();
    this.containers?.closeNow();
    this.closeBpfStats();
  }

  private closeBpfStats(): void {
    this.bpfStatsOff?.();
  }
}
