/**
 * The security analyzer, a pipeline sink (`sink()`): it changes no event; those a rule
 * matches become alerts (with the process's parent chain, container and pod), throttled
 * per rule and container, sent to the alert sinks and kept for the API.
 */
import type { Alert, AlertProcess, AlertSink } from '../alerts/index.js';
import { Throttle, type ThrottleOptions } from '../alerts/index.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import type { Match, RuleSet } from '../rules/index.js';
import { ProcessTree } from './process-tree.js';

export interface AnalyzerOptions {
  rules: RuleSet;
  sinks?: AlertSink[];
  throttle?: ThrottleOptions;
  tree?: ProcessTree;
  /** Eunomia's own pid: its actions (and its children's) never alert. */
  selfPid?: number;
  /** Alerts kept for GET /alerts. Default 1000. */
  keep?: number;
}

export interface AnalyzerStats {
  /** Rule matches, before throttling. */
  matched: number;
  /** Alerts that went out. */
  alerts: number;
  /** Held back by the throttle. */
  suppressed: number;
  /** Matches on Eunomia's own processes, ignored. */
  ownIgnored: number;
  /** Matches per rule id, before throttling. */
  byRule: Record<string, number>;
  /** Alerts that went out, per rule id. */
  alertsByRule: Record<string, number>;
  /** Held back by the throttle, per rule id. */
  suppressedByRule: Record<string, number>;
}

type Listener = (a: Alert) => void;

export class Analyzer {
  private readonly throttle: Throttle;
  readonly tree: ProcessTree;
  private readonly sinks: AlertSink[];
  private readonly recentAlerts: Alert[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly st: AnalyzerStats = { matched: 0, alerts: 0, suppressed: 0, ownIgnored: 0, byRule: {}, alertsByRule: {}, suppressedByRule: {} };

  /** The rule set in force (for its rules' names and priorities). */
  get rules(): RuleSet {
    return this.opts.rules;
  }

  constructor(private readonly opts: AnalyzerOptions) {
    this.throttle = new Throttle(opts.throttle);
    this.tree = opts.tree ?? new ProcessTree();
    this.sinks = opts.sinks ?? [];
  }

  /** Checks one event against the rules (the process tracker's also feed the process tree). */
  check(ev: TrackerEvent): void {
    if (ev.tracker === 'process') this.tree.observe(ev.data);
    const matches = this.opts.rules.match(ev);
    for (let i = 0; i < matches.length; i++) this.raise(ev, matches[i]!);
  }

  /** The analyzer as a pipeline sink: a sink costs less per event than a handler stage (no forwarding). */
  sink(): Sink {
    let checked = 0;
    return {
      name: 'analyzer',
      write: (ev) => {
        checked++;
        this.check(ev);
      },
      stats: () => ({ written: checked, dropped: 0 }),
      close: () => this.close(),
    };
  }

  private own(pid: unknown): boolean {
    const self = this.opts.selfPid;
    if (self === undefined || typeof pid !== 'number') return false;
    if (pid === self) return true;
    // Up the ppid links: the agent itself may be unknown to the tree, its children are not.
    let cur = this.tree.get(pid);
    for (let depth = 0; cur && depth < 16; depth++) {
      if (cur.ppid === self) return true;
      cur = cur.ppid > 1 ? this.tree.get(cur.ppid) : undefined;
    }
    return false;
  }

  private raise(ev: TrackerEvent, m: Match): void {
    const d = ev.data;
    if (this.own(d.pid)) {
      this.st.ownIgnored++;
      return;
    }
    this.st.matched++;
    this.st.byRule[m.rule] = (this.st.byRule[m.rule] ?? 0) + 1;
    const alert: Alert = { time: new Date(ev.time).toISOString(), rule: m.rule, name: m.name, priority: m.priority, tags: m.tags, message: m.message, source: ev.tracker };
    if (d.container && typeof d.container === 'object') alert.container = d.container as Record<string, unknown>;
    if (d.k8s && typeof d.k8s === 'object') alert.k8s = d.k8s as Record<string, unknown>;
    const out = this.throttle.admit(alert);
    if (!out) {
      this.st.suppressed++;
      this.st.suppressedByRule[m.rule] = (this.st.suppressedByRule[m.rule] ?? 0) + 1;
      return;
    }
    // Only for alerts that go out: an alert storm should not walk the process tree per match.
    out.process = processOf(d, this.tree);
    this.st.alerts++;
    this.st.alertsByRule[m.rule] = (this.st.alertsByRule[m.rule] ?? 0) + 1;
    this.recentAlerts.push(out);
    if (this.recentAlerts.length > (this.opts.keep ?? 1000)) this.recentAlerts.shift();
    for (const s of this.sinks) s.send(out);
    for (const l of this.listeners) l(out);
  }

  /** The latest alerts, oldest first. */
  recent(): Alert[] {
    return [...this.recentAlerts];
  }

  /** Live alerts (for the API's stream); returns the unsubscribe function. */
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  stats(): AnalyzerStats {
    return { ...this.st, byRule: { ...this.st.byRule }, alertsByRule: { ...this.st.alertsByRule }, suppressedByRule: { ...this.st.suppressedByRule } };
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}

function processOf(d: Record<string, unknown>, tree: ProcessTree): AlertProcess {
  const pid = typeof d.pid === 'number' ? d.pid : undefined;
  const known = pid !== undefined ? tree.get(pid) : undefined;
  const p: AlertProcess = {};
  if (pid !== undefined) p.pid = pid;
  const comm = typeof d.comm === 'string' ? d.comm : known?.comm;
  if (comm !== undefined) p.comm = comm;
  const exe = typeof d.exe === 'string' ? d.exe : known?.exe;
  if (exe !== undefined) p.exe = exe;
  const args = Array.isArray(d.args) ? d.args.map(String) : known?.args;
  if (args !== undefined) p.args = args;
  if (typeof d.ppid === 'number') p.ppid = d.ppid;
  if (pid !== undefined) p.parents = tree.parents(pid).map((n) => ({ pid: n.pid, comm: n.comm }));
  return p;
}
