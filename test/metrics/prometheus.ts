/**
 * A private Prometheus server for the tests: Debian's `prometheus` (scripts/test-env.sh
 * installs it) on a free loopback port, with its own config and storage in a temp dir, so it
 * neither needs nor disturbs a system Prometheus on :9090. Scrapes one target every second.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, isRoot } from '../helpers.js';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  for (const p of [`/usr/bin/${cmd}`, `/usr/local/bin/${cmd}`]) if (existsSync(p)) return p;
  return undefined;
}

export const prometheusBin = which('prometheus');
export const promtoolBin = which('promtool');
/**
 * For `{ skip: needsPrometheus }`. As root scripts/test-env.sh installs the package, so there
 * a missing binary is a failure of the test (see requirePrometheus), not a reason to skip.
 */
export const needsPrometheus: string | false =
  !isRoot && (!prometheusBin || !promtoolBin) && 'prometheus/promtool not installed (scripts/test-env.sh installs them as root)';

/** Throws when the binaries are missing: call it in tests that run as root. */
export function requirePrometheus(): { prometheus: string; promtool: string } {
  if (!prometheusBin || !promtoolBin) throw new Error('prometheus and promtool are not installed: run scripts/test-env.sh as root (Debian package "prometheus")');
  return { prometheus: prometheusBin, promtool: promtoolBin };
}

/** Runs promtool; never throws for a non-zero exit (the caller judges the output). */
export function promtool(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const { promtool: bin } = requirePrometheus();
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The error Prometheus answered for a query: its errorType and message. */
export class PromQLError extends Error {
  constructor(
    readonly expr: string,
    readonly errorType: string,
    readonly detail: string,
  ) {
    super(`${errorType}: ${detail}`);
  }
}

export interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}
/** `data` of a successful /api/v1/query. */
export interface QueryResult {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: Sample[] | [number, string];
}

export interface RuleState {
  name: string;
  query: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
  type: string;
}

export interface PrometheusOptions {
  /** host:port to scrape, e.g. the agent's --metrics-listen. */
  target: string;
  /** Scrape job name; the shipped dashboards and rules expect "eunomia". */
  job?: string;
  /** Rule files to load (absolute paths); evaluated every second. */
  ruleFiles?: string[];
}

export class Prometheus {
  private log = '';

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stderr!.on('data', (d: Buffer) => {
      this.log += d.toString();
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
    });
  }

  /** Starts Prometheus and resolves once it is ready and has scraped the target successfully. */
  static async start(opts: PrometheusOptions, timeoutMs = 30_000): Promise<Prometheus> {
    const { prometheus: bin } = requirePrometheus();
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-prometheus-'));
    const port = await freePort();
    const job = opts.job ?? 'eunomia';
    // JSON is YAML: no need to hand-write YAML
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: [{ job_name: job, static_configs: [{ targets: [opts.target] }] }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const child = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const p = new Prometheus(`http://127.0.0.1:${port}`, child, dir);
    try {
      await p.until(async () => (await fetch(`${p.url}/-/ready`)).ok, 'Prometheus to be ready', timeoutMs);
      await p.until(async () => (await p.targets()).some((t) => t.health === 'up'), `Prometheus to scrape ${opts.target}`, timeoutMs);
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  /** Polls `pred` (errors count as false) until it holds; fails with Prometheus's log. */
  async until(pred: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`Prometheus exited (${this.child.exitCode}) while waiting for ${what}:\n${this.log}`);
      if (await pred().catch(() => false)) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; Prometheus log:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] } };
    return body.data.activeTargets;
  }

  /** Every loaded rule with its health after its last evaluation. */
  async rules(): Promise<RuleState[]> {
    const body = (await (await fetch(`${this.url}/api/v1/rules`)).json()) as { data: { groups: { rules: RuleState[] }[] } };
    return body.data.groups.flatMap((g) => g.rules);
  }

  /** An instant query at the current time; throws PromQLError when Prometheus refuses it. */
  async query(expr: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }).toString(),
    });
    const text = await res.text();
    let body: { status: string; data?: QueryResult; errorType?: string; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new PromQLError(expr, `http ${res.status}`, text.slice(0, 500));
    }
    if (body.status !== 'success' || !body.data) throw new PromQLError(expr, body.errorType ?? `http ${res.status}`, body.error ?? text.slice(0, 500));
    return body.data;
  }

  /** Stops the server and removes its config and storage. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
