/**
 * The agent: what `eunomia run`, `eunomia safe` and `eunomia server` all are, with different
 * parts switched on — trackers and hot-loaded programs (one table of instances), the pipeline
 * with container enrichment, the security rules and the trackers they need, metrics, OTLP,
 * live streams and the outputs. The faces (CLI, HTTP API) drive it; it knows nothing of them.
 */
import { systemClock } from '../core/clock.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { preflight } from '../core/kernel.js';
import { TrackerManager } from '../runtime/manager.js';
import { loadNative, type NativeBinding } from '../core/native.js';
import type { TrackerInstance, TrackerStats } from '../runtime/tracker.js';
import { containerScopes, enrichHandler, startContainers, type ContainerResolver, type Containers } from '../containers/index.js';
import { createSink, openOutput } from '../exporters/index.js';
import { parseProgramPackage, programDescriptor, type HotloadLimits } from '../hotload/index.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { Handler, Sink } from '../pipeline/types.js';
import { findTracker, trackers as catalogue } from '../trackers/registry.js';
import type { OptionValues, SkippedProgram, TrackerDescriptor } from '../runtime/types.js';
import type { ScopeInstaller } from '../runtime/scope.js';
import type { ServerConfig, TrackerConfig } from './config.js';
import { EventStreams } from './streams.js';
import type { Analyzer } from '../analyzer/analyzer.js';
import type { RuleSet } from '../rules/index.js';
import type { TrackerTotals } from '../metrics/index.js';
import type { Registry } from 'prom-client';
import type { OtelExport } from '../otel/index.js';
import { resolveSettings } from '../otel/settings.js';
import { storeOptions } from '../store/config.js';
import type { EventStore } from '../store/index.js';

export interface InstanceView {
  id: number;
  name: string;
  kind: 'tracker' | 'program';
  options: OptionValues;
  startedAt: string;
  stats: TrackerStats;
  /** Programs of its object it did not load, and why (not on this kernel; an alternative runs). */
  skipped: readonly SkippedProgram[];
  /** What of a hot-loaded package is not done as its own runner would (ecli: a second sampled map). */
  warnings?: string[];
  /** "finished": a timed instance that stopped, kept with its final counters (the last MAX_FINISHED). */
  state: 'running' | 'finished';
  /** A timed instance's run, in seconds: it stops itself then, and its events are stored. */
  duration?: number;
  /** When a timed instance stops (running), or stopped (finished; any instance stopped while timed). */
  stopsAt?: string;
  stoppedAt?: string;
}

/** How an instance is started. */
export interface StartOptions {
  /** Seconds (1 to MAX_DURATION_S) after which it stops itself; its events are stored meanwhile. */
  duration?: number;
}

export const MAX_DURATION_S = 86_400;
/** Finished timed instances kept for GET /instances (the oldest go first). */
export const MAX_FINISHED = 100;

function checkDuration(d: unknown): number | undefined {
  if (d === undefined) return undefined;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DURATION_S) {
    throw new EunomiaError(ErrorCodes.REQUEST, `duration must be a whole number of seconds from 1 to ${MAX_DURATION_S}, got ${JSON.stringify(d) ?? String(d)}`);
  }
  return d;
}

export interface AgentDeps {
  /** Default: the shipped addon (loadNative()). */
  native?: NativeBinding;
  /** Status lines; default: stderr, prefixed "eunomia: ". */
  log?: (line: string) => void;
  /** Trackers that can be started by name (default: the whole catalogue); their metric families are registered. */
  trackers?: readonly TrackerDescriptor[];
  /** Stages of the caller's own, after container enrichment (so they see the container) and before the sinks (so rules and outputs see what they add). */
  handlers?: Handler[];
  /** More sinks after the agent's own (`eunomia run`: its table, JSON or CSV printer). */
  sinks?: Sink[];
  /** Prometheus metrics: the registry, the trackers' families and the agent's counters (default on). */
  metrics?: boolean;
  /** Live streams for API clients (default on; `run` has no API). */
  streams?: boolean;
  /**
   * The event store, when the config's [store] enables it. Default: as `streams` (the store
   * is read through the API: `run` and `seccomp record`, which have none, keep no store).
   */
  store?: boolean;
  /**
   * Called once every tracker's load is under way on the worker threads: the main thread is
   * free until they verify (`eunomia server` builds its API then).
   */
  loading?: () => void;
}

/**
 * What the agent starts: the configured trackers, then (rules on, `rules.trackers`) each
 * tracker an enabled rule needs that is not running yet, with default options, in catalogue
 * order — so that every enabled rule can fire.
 */
export function trackersToStart(config: ServerConfig, rules: RuleSet | undefined, known: readonly TrackerDescriptor[] = catalogue): TrackerConfig[] {
  const out = [...config.trackers];
  if (!rules || !config.rules.trackers) return out;
  const needed = new Set(rules.rules().filter((r) => r.enabled).flatMap((r) => r.events));
  const running = new Set(out.map((t) => t.name));
  for (const t of known) if (needed.has(t.name) && !running.has(t.name) && t.startedByRules !== false) out.push({ name: t.name, options: {} });
  return out;
}

/** The rule set the config asks for: the built-in rules, then its files, less those it disables. */
export async function ruleSetOf(config: ServerConfig): Promise<RuleSet> {
  const { loadRules } = await import('../rules/index.js');
  const rules = loadRules(config.rules.files);
  if (config.rules.disable.length) rules.disable(config.rules.disable);
  return rules;
}

/** Rules, alert sinks, throttling; loaded only when rules are on. */
async function analyzerFor(config: ServerConfig, log: (line: string) => void): Promise<Analyzer> {
  const [rules, { Analyzer }, { jsonlSink, logSink, webhookSink }] = await Promise.all([ruleSetOf(config), import('../analyzer/analyzer.js'), import('../alerts/index.js')]);
  const sinks = [logSink(process.stderr)];
  if (config.rules.alertFile) sinks.push(jsonlSink(config.rules.alertFile));
  if (config.rules.webhook) sinks.push(webhookSink(config.rules.webhook));
  log(`security rules: ${rules.rules().filter((r) => r.enabled).length} on; alerts to the log${config.rules.alertFile ? `, ${config.rules.alertFile}` : ''}${config.rules.webhook ? `, ${config.rules.webhook}` : ''}`);
  return new Analyzer({ rules, sinks, selfPid: process.pid, throttle: { burst: config.rules.burst, intervalMs: config.rules.intervalMs } });
}

export class Agent {
  readonly startedAt = Date.now();
  private readonly started = new Map<number, { at: number; kind: InstanceView['kind']; warnings?: string[] }>();
  private closing?: Promise<void>;
  /** What stopped instances counted, for the metrics: the agent's counters never go down. */
  private totals?: TrackerTotals;
  /** Turns the kernel's BPF run-time stats off again. */
  private bpfStatsOff?: () => void;
  /** OTLP export, when on (config [otel], OTEL_EXPORTER_OTLP_*). */
  otel?: OtelExport;
  /** The event store (config [store], docs/store.md); undefined when it is off. */
  store?: EventStore;
  /** Timed instances running: when each stops. */
  private readonly timed = new Map<number, { duration: number; stopsAt: number; timer: NodeJS.Timeout }>();
  /** Timed instances that stopped, oldest first. */
  private readonly finished = new Map<number, InstanceView>();
  /** Timed instances being stopped: out of the manager's table, not finished yet. */
  private readonly stopping = new Map<number, InstanceView>();

  private constructor(
    readonly config: ServerConfig,
    readonly manager: TrackerManager,
    readonly pipeline: Pipeline,
    readonly containers: Containers | undefined,
    readonly streams: EventStreams,
    private readonly limits: Partial<HotloadLimits>,
    /** The security analyzer, when rules are on. */
    readonly analyzer: Analyzer | undefined,
    /** Prometheus metrics of this agent; none with metrics off. */
    private readonly registry: Registry | undefined,
    /** Trackers it starts by name. */
    readonly trackers: readonly TrackerDescriptor[],
  ) {}

  /** Prometheus metrics of this agent (served by `eunomia server` on --metrics-listen); an error with metrics off. */
  get metrics(): Registry {
    if (!this.registry) throw new EunomiaError(ErrorCodes.STATE, 'this agent runs without metrics (AgentDeps.metrics false): start it with metrics on to read them');
    return this.registry;
  }

  /** What hot-loaded packages are checked against (config [hotload]). */
  get hotloadLimits(): Partial<HotloadLimits> {
    return this.limits;
  }

  /**
   * Start order, in parallel where it can be: the configured trackers load on worker threads
   * (BpfObject.loadAsync) while the rules compile and the container watcher loads; they attach
   * once the pipeline is whole, so no event goes by the rules. The runtimes are asked in the
   * background. Then the trackers the rules need; those that select containers by name wait
   * for the runtimes' first answer, so that their names are known.
   */
  static async start(config: ServerConfig, deps: AgentDeps = {}): Promise<Agent> {
    const native = deps.native ?? loadNative();
    const log = deps.log ?? ((line: string): void => void process.stderr.write(`eunomia: ${line}\n`));
    preflight(native);
    const known = deps.trackers ?? catalogue;
    // Bound once the parts are ready; nothing reaches them before (the trackers attach after).
    const late: { pipeline?: Pipeline; scope?: ScopeInstaller; containers?: ContainerResolver } = {};
    const manager = new TrackerManager({
      native,
      clock: systemClock(),
      emit: (ev) => late.pipeline!.push(ev),
      scope: config.containers ? (obj, name, sc) => late.scope!(obj, name, sc) : undefined,
      containers: config.containers ? { idsOf: (s) => late.containers?.find(s).map((c) => c.id) ?? [] } : undefined,
    });
    // prom-client (~80 modules) only with metrics on: `eunomia run` has none unless asked.
    const withMetrics = deps.metrics !== false;
    // Names checked before anything starts: a throw after would leave the containers running.
    const byName = (t: TrackerConfig): boolean => t.options?.container !== undefined;
    const early = config.trackers.filter((t) => !byName(t)).map((t) => ({ d: findTracker(t.name, known), options: t.options }));
    const containersStarting = config.containers ? startContainers(native, { log }) : undefined;
    // better-sqlite3 and the writer's thread only with the store on. Its thread starts while the
    // trackers load; it is waited for (ready) once they are under way.
    const storeOpening = config.store.enabled && (deps.store ?? deps.streams !== false) ? import('../store/index.js').then((m) => m.EventStore.start(storeOptions(config.store), { log })) : undefined;
    const partsReady = Promise.all([config.rules.enabled ? analyzerFor(config, log) : undefined, containersStarting, withMetrics ? import('../metrics/index.js') : undefined, storeOpening]);
    // They attach once the pipeline and the container scope are in place (`wired`).
    let wire = (): void => {};
    let unwire = (_e: unknown): void => {};
    const wired = new Promise<void>((resolve, reject) => ((wire = resolve), (unwire = reject)));
    const earlyStarts = early.map(({ d, options }) => manager.startAsync(d, options, wired));
    // Their failures are read below (allSettled); until then, not an unhandled rejection.
    for (const p of earlyStarts) p.catch(() => undefined);
    let parts: Awaited<typeof partsReady>;
    try {
      parts = await partsReady;
    } catch (e) {
      // A part failed (a rule file, the install): what did start stops again.
      unwire(e);
      await Promise.allSettled(earlyStarts);
      await manager.stopAll();
      await containersStarting?.then((c) => c.close(), () => undefined);
      await storeOpening?.then((s) => s.close(), () => undefined);
      throw e;
    }
    const [analyzer, containers, metricsLib, store] = parts;
    const streams = new EventStreams();
    const metrics = metricsLib?.createRegistry();
    // The analyzer is a sink: it changes no event. Containers enrich first, so rules see container and pod.
    const sinks: Sink[] = deps.streams === false ? [] : [streams];
    if (metricsLib && metrics) sinks.push(new metricsLib.MetricsExporter(metrics, known, { maxSeries: config.metrics.maxSeries, seriesTtlMs: config.metrics.seriesTtlMs, originalNames: config.metrics.originalNames }));
    if (analyzer) sinks.push(analyzer.sink());
    if (store) {
      sinks.push(store.sink());
      if (analyzer) analyzer.subscribe((a) => store.alert(a));
      log(`event store ${store.path}: events of ${config.store.trackers.join(', ') || 'no tracker'} (and of timed instances)${config.store.alerts.enabled && analyzer ? ', alerts' : ''}`);
    }
    if (config.output) sinks.push(createSink({ format: config.output.format, output: openOutput(config.output.path), multiTracker: true }));
    sinks.push(...(deps.sinks ?? []));
    const handlers = [...(containers ? [enrichHandler(containers.resolver)] : []), ...(deps.handlers ?? [])];
    const pipeline = (late.pipeline = new Pipeline({ handlers, sinks }));
    if (containers) {
      late.scope = containerScopes(containers.resolver);
      late.containers = containers.resolver;
    }
    wire();
    const limits: Partial<HotloadLimits> = { maxObjectBytes: config.hotload.maxObjectBytes };
    if (config.hotload.allowProgramTypes) limits.allowedProgramTypes = config.hotload.allowProgramTypes;
    const agent = new Agent(config, manager, pipeline, containers, streams, limits, analyzer, metrics, known);
    agent.store = store;
    if (metricsLib && metrics) {
      if (store) metricsLib.registerStoreMetrics(metrics, store);
      agent.totals = new metricsLib.TrackerTotals();
      if (analyzer) metricsLib.registerAlertMetrics(metrics, analyzer);
      if (config.metrics.bpfStats) agent.bpfStatsOff = metricsLib.enableBpfStats(native, log);
      metricsLib.registerAgentMetrics(metrics, { manager, pipeline, native, totals: agent.totals, bpfStats: agent.bpfStatsOff !== undefined });
    }
    try {
      // The OpenTelemetry SDK weighs ~24 MiB of memory: it is loaded only when export is on.
      if (resolveSettings(config.otel)) {
        if (!metrics) throw new EunomiaError(ErrorCodes.CONFIG, 'OTLP export needs the agent\'s metrics on');
        const { startOtel } = await import('../otel/index.js');
        agent.otel = await startOtel(config.otel, { registry: metrics, analyzer, pipeline, log });
      }
      const rest = trackersToStart(config, analyzer?.rules, known).filter((t) => byName(t) || !config.trackers.includes(t));
      // A container chosen by name is found through the runtimes: wait for their first answer.
      if (containers && rest.some(byName)) await containers.ready;
      const restStarts = rest.map((t) => manager.startAsync(findTracker(t.name, known), t.options));
      deps.loading?.();
      const storeReady = store?.ready();
      // Read below, once the trackers have settled; until then not an unhandled rejection.
      storeReady?.catch(() => undefined);
      const started = await Promise.allSettled([...earlyStarts, ...restStarts]);
      for (const r of started) if (r.status === 'fulfilled') agent.track(r.value, 'tracker');
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      await storeReady;
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

  /** Starts a tracker by name; with `duration`, it stops itself after that many seconds (a timed instance). */
  startTracker(name: string, options: OptionValues = {}, how: StartOptions = {}): TrackerInstance {
    this.assertOpen();
    const duration = checkDuration(how.duration);
    return this.timeIt(this.track(this.manager.start(findTracker(name, this.trackers), options), 'tracker'), duration);
  }

  /** Loads a program package (any format parseProgramPackage takes) as a new instance; `duration` as for startTracker. */
  startProgram(pkg: unknown, options: OptionValues = {}, how: StartOptions = {}): TrackerInstance {
    this.assertOpen();
    const duration = checkDuration(how.duration);
    const parsed = parseProgramPackage(pkg, this.limits);
    const inst = this.track(this.manager.start(programDescriptor(parsed), { ...parsed.options, ...options }), 'program');
    if (parsed.ecli?.warnings.length) this.started.get(inst.id)!.warnings = parsed.ecli.warnings;
    return this.timeIt(inst, duration);
  }

  /**
   * A timed instance: its events are stored whatever `store.trackers` says (an aggregating
   * tracker's reports too, the last one at its stop), and it stops itself after `duration` s.
   * The store is told now, before any of its events can reach the pipeline (they come from
   * the reader's callbacks, after this tick).
   */
  private timeIt(inst: TrackerInstance, duration: number | undefined): TrackerInstance {
    if (duration === undefined) return inst;
    this.store?.keepInstance(inst.id);
    const timer = setTimeout(() => void this.stop(inst.id).catch(() => undefined), duration * 1000);
    // A library caller that forgets the agent is not kept alive by it.
    timer.unref();
    this.timed.set(inst.id, { duration, stopsAt: Date.now() + duration * 1000, timer });
    return inst;
  }

  /** A stopped timed instance is kept (the last MAX_FINISHED); the oldest is forgotten, by the store too. */
  private finish(view: InstanceView): void {
    this.finished.set(view.id, view);
    for (const id of this.finished.keys()) {
      if (this.finished.size <= MAX_FINISHED) break;
      this.finished.delete(id);
      this.store?.forgetInstance(id);
    }
  }

  /** Hot update: a new program in place of instance `id`, which keeps its id and its streams. */
  async replaceProgram(id: number, pkg: unknown, options: OptionValues = {}): Promise<TrackerInstance> {
    this.assertOpen();
    if (this.started.get(id)?.kind !== 'program') throw this.notProgram(id);
    const parsed = parseProgramPackage(pkg, this.limits);
    const inst = await this.manager.replace(id, programDescriptor(parsed), { ...parsed.options, ...options });
    this.started.set(id, { at: Date.now(), kind: 'program', ...(parsed.ecli?.warnings.length ? { warnings: parsed.ecli.warnings } : {}) });
    return inst;
  }

  private notProgram(id: number): EunomiaError {
    return this.manager.get(id)
      ? new EunomiaError(ErrorCodes.REQUEST, `instance ${id} is a built-in tracker, not a hot-loaded program: only programs can be replaced`)
      : new EunomiaError(ErrorCodes.NOT_FOUND, `no tracker instance with id ${id}`);
  }

  async stop(id: number): Promise<TrackerStats> {
    const inst = this.manager.get(id);
    const done = inst ? undefined : this.finished.get(id);
    if (done) throw new EunomiaError(ErrorCodes.STATE, `instance ${id} finished at ${done.stoppedAt}: there is nothing to stop`);
    const before = inst && this.timed.has(id) ? this.view(inst) : undefined;
    if (before) this.stopping.set(id, before);
    let stats: TrackerStats;
    try {
      stats = await this.manager.stop(id);
    } finally {
      this.stopping.delete(id);
    }
    if (inst) this.totals?.retire({ name: inst.name, stats, programs: inst.programStats() });
    const t = this.timed.get(id);
    if (t) {
      clearTimeout(t.timer);
      this.timed.delete(id);
      if (before) {
        const { stopsAt: _, ...rest } = before;
        this.finish({ ...rest, state: 'finished', stats, stoppedAt: new Date().toISOString() });
      }
    }
    this.started.delete(id);
    this.streams.end(id, { id, stats });
    return stats;
  }

  /**
   * An accumulating instance's rows now (TrackerInstance.snapshot), each with the container
   * its cgroup belongs to (id, name, image), as the events' enrichment would say.
   */
  snapshot(id: number): Record<string, unknown>[] {
    const inst = this.running(id);
    const resolver = this.containers?.resolver;
    return inst.snapshot().map((row) => {
      const cid = typeof row.cgroup_id === 'number' ? resolver?.containerOfCgroup(row.cgroup_id) : undefined;
      const info = cid ? resolver!.get(cid) : undefined;
      return cid ? { ...row, container: { id: cid.slice(0, 12), full_id: cid, name: info?.name ?? '', image: info?.image ?? '' } } : row;
    });
  }

  /** The containers an instance selected that were running when selected (full ids; ScopeHandle.joinedRunning). */
  joinedRunning(id: number): string[] {
    return this.running(id).containersJoinedRunning;
  }

  private running(id: number): TrackerInstance {
    const inst = this.manager.get(id);
    if (!inst) throw new EunomiaError(ErrorCodes.NOT_FOUND, `no tracker instance with id ${id}`);
    return inst;
  }

  view(inst: TrackerInstance): InstanceView {
    const s = this.started.get(inst.id);
    const t = this.timed.get(inst.id);
    return {
      id: inst.id,
      name: inst.name,
      kind: s?.kind ?? (this.trackers.includes(inst.descriptor) ? 'tracker' : 'program'),
      options: inst.options,
      startedAt: new Date(s?.at ?? this.startedAt).toISOString(),
      stats: inst.stats(),
      skipped: inst.skipped,
      ...(s?.warnings ? { warnings: s.warnings } : {}),
      state: 'running',
      ...(t ? { duration: t.duration, stopsAt: new Date(t.stopsAt).toISOString() } : {}),
    };
  }

  /** A running instance, or a timed one that finished (one of the last MAX_FINISHED). */
  get(id: number): InstanceView {
    const inst = this.manager.get(id);
    if (inst) return this.view(inst);
    const done = this.finished.get(id) ?? this.stopping.get(id);
    if (done) return { ...done };
    throw new EunomiaError(ErrorCodes.NOT_FOUND, `no tracker instance with id ${id}`);
  }

  /** The running instances; with `finished`, the timed ones that finished too, all by id. */
  list(opts: { finished?: boolean } = {}): InstanceView[] {
    const running = this.manager.list().map((i) => this.get(i.id));
    if (!opts.finished || this.finished.size === 0) return running;
    return [...running, ...[...this.finished.values()].map((v) => ({ ...v }))].sort((a, b) => a.id - b.id);
  }

  private assertOpen(): void {
    if (this.closing) throw new EunomiaError(ErrorCodes.STATE, 'the agent is stopping');
  }

  /** Stops every instance, then the pipeline, the store and the container resolver. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.clearTimers();
      await this.manager.stopAll();
      // After the trackers, before the pipeline: the last events and metrics still go out.
      await this.otel?.close();
      await this.pipeline.close();
      // After the pipeline and the analyzer (one of its sinks): their last rows are written.
      await this.store?.close();
      await this.containers?.close();
      this.closeBpfStats();
    })();
    return this.closing;
  }

  /** Exit path: synchronous teardown (the kernel would also release everything with our fds). */
  closeNow(): void {
    this.clearTimers();
    this.manager.stopAllNow();
    this.store?.closeNow();
    this.containers?.closeNow();
    this.closeBpfStats();
  }

  private clearTimers(): void {
    for (const t of this.timed.values()) clearTimeout(t.timer);
  }

  private closeBpfStats(): void {
    this.bpfStatsOff?.();
  }
}
