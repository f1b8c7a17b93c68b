/**
 * The shipped Grafana dashboards and Prometheus alert rules (deploy/) against the metrics we
 * export: every PromQL expression runs on a real Prometheus scraping a real `eunomia server`,
 * names only documented metrics (docs/metrics.md), and promtool accepts the config, the rules
 * and our /metrics output.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { dockerAsync, needsDocker, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { freePort, needsRoot, repoRoot, waitFor } from '../helpers.js';
import { needsPrometheus, Prometheus, PromQLError, promtool, requirePrometheus } from './prometheus.js';

const dashboardsDir = join(repoRoot, 'deploy/grafana/dashboards');
const promConfig = join(repoRoot, 'deploy/prometheus/prometheus.yml');
const alertRules = join(repoRoot, 'deploy/prometheus/eunomia-alerts.yml');
const DATASOURCE_UID = 'eunomia-prometheus';
const EXPECTED_UIDS = ['eunomia-agent', 'eunomia-containers', 'eunomia-files', 'eunomia-network', 'eunomia-overview', 'eunomia-security'];

// ---- reading the dashboards and rules

interface Target {
  expr?: string;
  refId?: string;
  format?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
  allValue?: string;
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

const dashboardFiles = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
const dashboards = dashboardFiles.map((file) => ({ file, json: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard }));

/** Every panel, rows' collapsed children included. */
function allPanels(panels: Panel[] = []): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels)]);
}

/** One expression and where it comes from, for the failure report. */
interface Expr {
  where: string;
  expr: string;
}

/**
 * A template variable's query as PromQL: `label_values(selector, label)` is what Grafana
 * answers from the series API; `group by (label) (selector)` selects the same series, so
 * Prometheus parses and runs the selector. `query_result(expr)` is plain PromQL.
 */
function variableExpr(q: string): string {
  const s = q.trim();
  const lv = /^label_values\(([\s\S]*)\)$/.exec(s);
  if (lv) {
    const args = lv[1]!;
    // the last comma outside braces and quotes separates the selector from the label
    let depth = 0;
    let quote = '';
    let cut = -1;
    for (let i = 0; i < args.length; i++) {
      const c = args[i]!;
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '{' || c === '(') depth++;
      else if (c === '}' || c === ')') depth--;
      else if (c === ',' && depth === 0) cut = i;
    }
    if (cut < 0) return `group by (${args.trim()}) ({${args.trim()}!=""})`;
    return `group by (${args.slice(cut + 1).trim()}) (${args.slice(0, cut).trim()})`;
  }
  const qr = /^query_result\(([\s\S]*)\)$/.exec(s);
  if (qr) return qr[1]!;
  throw new Error(`unsupported variable query (add it to variableExpr): ${q}`);
}

function dashboardExprs(): Expr[] {
  const out: Expr[] = [];
  for (const { file, json } of dashboards) {
    for (const p of allPanels(json.panels)) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${file}: panel "${p.title}" (${t.refId})`, expr: t.expr });
    }
    for (const v of json.templating?.list ?? []) {
      if (v.type !== 'query') continue;
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      if (q) out.push({ where: `${file}: variable $${v.name}`, expr: variableExpr(q) });
    }
  }
  return out;
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}
const rules = parseYaml(readFileSync(alertRules, 'utf8')) as RuleFile;

function ruleExprs(): Expr[] {
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `eunomia-alerts.yml: ${g.name}/${r.alert ?? r.record}`, expr: String(r.expr) })));
}

const allExprs = (): Expr[] => [...dashboardExprs(), ...ruleExprs()];

/** Grafana's variables, made concrete the way Grafana would before it sends the query. */
function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? m);
}
const regexQuote = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&'); // inside a PromQL "…" string

// ---- what docs/metrics.md promises

const docs = readFileSync(join(repoRoot, 'docs/metrics.md'), 'utf8').split(/^## From the original/m)[0]!; // old names are not ours
const documented = new Set<string>();
const documentedPrefixes: string[] = [];
for (const line of docs.split('\n')) {
  if (!line.startsWith('|')) continue;
  const cells = line.split('|').map((c) => c.trim());
  const histogram = cells[2] === 'histogram';
  for (const m of (cells[1] ?? '').matchAll(/`([a-z_:][a-z0-9_:]*)(\*)?`/g)) {
    if (m[2]) documentedPrefixes.push(m[1]!);
    else for (const suffix of histogram ? ['_bucket', '_sum', '_count'] : ['']) documented.add(m[1]! + suffix);
  }
}
// Series Prometheus itself adds to every target.
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);
// Every `word` in the docs: label names (and values) the contract mentions, plus Prometheus's own.
const documentedWords = new Set([...docs.matchAll(/`([a-z_][a-z0-9_]*)`/g)].map((m) => m[1]!));
const PROMETHEUS_LABELS = new Set(['job', 'instance', 'le', '__name__']);

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

/** PromQL with every string literal emptied (they may hold anything, brackets included). */
const withoutStrings = (expr: string): string => expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');

/** Metric names and label names an expression uses (strings, ranges and numbers aside). */
function namesIn(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let s = withoutStrings(expr);
  s = s.replace(/\{([^}]*)\}/g, (_m, inner: string) => {
    for (const l of inner.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.push(l[1]!);
    return ' ';
  });
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, list: string) => {
    labels.push(...list.split(',').map((x) => x.trim()).filter(Boolean));
    return ' ';
  });
  s = s.replace(/\[[^\]]*\]/g, ' ').replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|[smhdwy])?\b/gi, ' ');
  const metrics: string[] = [];
  for (const m of s.matchAll(/[A-Za-z_:][\w:]*/g)) {
    if (KEYWORDS.has(m[0])) continue;
    if (s.slice(m.index + m[0].length).trimStart().startsWith('(')) continue; // a function or an aggregation
    metrics.push(m[0]);
  }
  return { metrics, labels };
}
const isDocumentedMetric = (n: string): boolean => documented.has(n) || PROMETHEUS_SERIES.has(n) || documentedPrefixes.some((p) => n.startsWith(p));

// ---- tests that need nothing running

describe('the shipped Grafana dashboards', () => {
  test('six dashboards: JSON with a uid, a title, panels, and a Prometheus query in every panel', () => {
    assert.deepEqual(dashboards.map((d) => d.json.uid).sort(), EXPECTED_UIDS);
    for (const { file, json } of dashboards) {
      assert.ok(json.title?.startsWith('Eunomia / '), `${file}: title`);
      assert.ok((json.schemaVersion ?? 0) >= 36, `${file}: schemaVersion`);
      const vars = json.templating?.list ?? [];
      const ds = vars.find((v) => v.name === 'datasource');
      assert.equal(ds?.type, 'datasource', `${file}: a datasource variable, so the dashboard works with any Prometheus`);
      const panels = allPanels(json.panels);
      assert.ok(panels.filter((p) => p.type !== 'row').length >= 6, `${file}: panels`);
      const ids = new Set<number>();
      for (const p of panels) {
        const name = `${file}: panel "${p.title}"`;
        assert.ok(typeof p.id === 'number' && !ids.has(p.id), `${name}: unique id`);
        ids.add(p.id);
        assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${name}: gridPos`);
        if (p.type === 'row') continue; // a heading, no query
        assert.ok(p.title, `${file}: panel ${p.id} has a title`);
        assert.ok(['timeseries', 'stat', 'table', 'heatmap', 'bargauge', 'gauge'].includes(p.type), `${name}: type ${p.type}`);
        assert.equal(p.datasource?.type, 'prometheus', `${name}: datasource`);
        assert.ok(p.datasource?.uid === '${datasource}' || p.datasource?.uid === DATASOURCE_UID, `${name}: datasource uid ${p.datasource?.uid}`);
        assert.ok(p.targets?.length, `${name}: targets`);
        const refIds = new Set<string>();
        for (const t of p.targets!) {
          assert.ok(t.expr?.trim(), `${name}: every target has an expr`);
          assert.ok(t.refId && !refIds.has(t.refId), `${name}: unique refId`);
          refIds.add(t.refId);
          // rate windows follow the scrape interval or the time range, never a fixed guess
          for (const w of withoutStrings(t.expr!).matchAll(/\[([^\]]+)\]/g)) assert.match(w[1]!, /^\$__(rate_interval|range)$/, `${name}: window [${w[1]}]`);
          if (p.type === 'heatmap') {
            assert.match(t.expr!, /_bucket\{/, `${name}: a heatmap of histogram buckets`);
            assert.equal(t.format, 'heatmap', `${name}: format heatmap`);
          }
        }
      }
      for (const v of vars.filter((x) => x.type === 'query')) {
        assert.equal(v.datasource?.uid, '${datasource}', `${file}: variable ${v.name} uses the datasource variable`);
      }
    }
  });

  test('the container dashboard has a $container variable from label_values(…, container), used by its queries', () => {
    const { json } = dashboards.find((d) => d.json.uid === 'eunomia-containers')!;
    const v = json.templating!.list!.find((x) => x.name === 'container');
    assert.ok(v, '$container');
    assert.match(typeof v.query === 'string' ? v.query : v.query!.query!, /^label_values\(.+,\s*container\)$/);
    for (const p of allPanels(json.panels)) for (const t of p.targets ?? []) assert.match(t.expr!, /container=~"\$container"/, `panel "${p.title}"`);
  });

  test('provisioning: the datasource uid the dashboards default to, and a file provider', () => {
    const ds = parseYaml(readFileSync(join(repoRoot, 'deploy/grafana/provisioning/datasources/eunomia.yaml'), 'utf8')) as { datasources: { uid: string; type: string }[] };
    assert.deepEqual(ds.datasources.map((d) => [d.uid, d.type]), [[DATASOURCE_UID, 'prometheus']]);
    const prov = parseYaml(readFileSync(join(repoRoot, 'deploy/grafana/provisioning/dashboards/eunomia.yaml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    assert.equal(prov.providers[0]!.type, 'file');
    assert.ok(prov.providers[0]!.options.path);
    for (const { file, json } of dashboards) {
      const cur = (json.templating!.list!.find((v) => v.name === 'datasource') as unknown as { current: { value: string } }).current;
      assert.equal(cur.value, DATASOURCE_UID, `${file}: defaults to the provisioned datasource`);
    }
  });

  test('every expression names only metrics and labels docs/metrics.md documents', () => {
    assert.ok(documented.has('eunomia_process_execs_total') && documented.has('eunomia_tcp_rtt_seconds_bucket'), 'docs/metrics.md parsed');
    const bad: string[] = [];
    let count = 0;
    for (const e of allExprs()) {
      const { metrics, labels } = namesIn(e.expr);
      count += metrics.length;
      for (const m of metrics) if (!isDocumentedMetric(m)) bad.push(`${e.where}: metric ${m}`);
      for (const l of labels) if (!documentedWords.has(l) && !PROMETHEUS_LABELS.has(l)) bad.push(`${e.where}: label ${l}`);
    }
    assert.ok(count > 50, 'names were found');
    assert.deepEqual(bad, [], `undocumented names:\n${bad.join('\n')}`);
  });

  test('the name checker sees typos', () => {
    const { metrics, labels } = namesIn('histogram_quantile(0.99, sum by (le, contianer) (rate(eunomia_tcp_rtt_second_bucket{job="x", comm=~"a|b"}[5m]))) / on (job) group_left up > 1e9');
    assert.deepEqual(metrics, ['eunomia_tcp_rtt_second_bucket', 'up']);
    assert.deepEqual(labels.sort(), ['comm', 'contianer', 'job', 'job', 'le']);
    assert.equal(isDocumentedMetric('eunomia_tcp_rtt_second_bucket'), false);
    assert.equal(documentedWords.has('contianer'), false);
  });

  test('variable queries become PromQL', () => {
    assert.equal(variableExpr('label_values(eunomia_build_info{job=~"$job", a="x,y"}, instance)'), 'group by (instance) (eunomia_build_info{job=~"$job", a="x,y"})');
    assert.equal(variableExpr('query_result(topk(5, up))'), 'topk(5, up)');
    assert.equal(substitute('rate(x{c=~"$container", i=~"${instance}"}[$__rate_interval])', { container: 'a', instance: 'b', __rate_interval: '30s' }), 'rate(x{c=~"a", i=~"b"}[30s])');
  });
});

describe('promtool on the Prometheus config and alert rules', { skip: needsPrometheus }, () => {
  test('promtool check config: the scrape config and the rule file it loads', () => {
    const r = promtool(['check', 'config', promConfig]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /SUCCESS: 1 rule files found/);
  });

  test('promtool check rules; every alert has for/severity/summary/description where it should', () => {
    const r = promtool(['check', 'rules', alertRules]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const g of rules.groups) {
      for (const rule of g.rules) {
        assert.ok(rule.alert, `${g.name}: alerting rules only`);
        assert.match(rule.labels?.severity ?? '', /^(critical|warning|info)$/, `${rule.alert}: severity`);
        assert.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert}: annotations`);
      }
    }
    const names = rules.groups.flatMap((g) => g.rules.map((x) => x.alert));
    for (const want of ['EunomiaAgentDown', 'EunomiaEventsDropped', 'EunomiaBpfCpuHigh', 'EunomiaCriticalSecurityAlert', 'EunomiaMetricsSeriesFolding', 'EunomiaContainerOOMKilled', 'EunomiaContainerCrashLoop']) {
      assert.ok(names.includes(want), want);
    }
  });
});

// ---- the real thing: eunomia server, a container doing things, Prometheus scraping

describe('every PromQL expression runs against a real Prometheus scraping eunomia server', { skip: needsRoot || needsDocker }, () => {
  let server: ChildProcess | undefined;
  let serverErr = '';
  let prom: Prometheus | undefined;
  let metricsAddr = '';
  const container = uniqueName('promql');

  before(async () => {
    requirePrometheus();
    const apiPort = await freePort();
    const metricsPort = await freePort();
    metricsAddr = `127.0.0.1:${metricsPort}`;
    server = spawn(process.execPath, [join(repoRoot, 'bin/eunomia.js'), 'server', '--listen', `127.0.0.1:${apiPort}`, '--metrics-listen', metricsAddr], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr!.on('data', (d) => (serverErr += d));
    await waitFor(() => /server listening/.test(serverErr) || server!.exitCode !== null, 'the server to start', 30_000);
    assert.equal(server.exitCode, null, serverErr);
    startSleeper(container);
    prom = await Prometheus.start({ target: metricsAddr, ruleFiles: [alertRules] });
    // Activity in the container over a few scrapes, so rate() has increases to see: execs and a
    // failing exit, file writes and reads, a read of /etc/shadow (a security alert), a failed
    // open, a TCP connect that succeeds (and its accept) and one that is refused.
    const script = [
      'dd if=/dev/zero of=/tmp/promql bs=64k count=32 2>/dev/null',
      'cat /tmp/promql > /dev/null',
      'cat /etc/shadow > /dev/null',
      'cat /nonexistent 2>/dev/null',
      '(nc -l -p 8080 > /dev/null &)',
      'sleep 0.2',
      'echo hi | nc -w 1 127.0.0.1 8080',
      'wget -q -T 1 -O /dev/null http://127.0.0.1:1/ 2>/dev/null',
      'sh -c "exit 3"',
      'true',
    ].join('; ');
    for (let i = 0; i < 5; i++) {
      await dockerAsync('exec', container, 'sh', '-c', script);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // a few more scrapes after the last round
    const done = Date.now() / 1000;
    await prom.until(async () => {
      const r = await prom!.query('max(timestamp(up{job="eunomia"}))');
      return Number((r.result as { value: [number, string] }[])[0]?.value[1] ?? 0) > done + 3;
    }, 'three scrapes after the activity');
  });

  after(async () => {
    await prom?.stop();
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      const timer = setTimeout(() => server!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    removeContainers(container);
  });

  test('every dashboard query and alert rule expression answers success', async (t) => {
    const values = {
      __rate_interval: '30s',
      __interval: '10s',
      __range: '5m',
      __range_s: '300',
      __range_ms: '300000',
      job: 'eunomia',
      instance: regexQuote(metricsAddr),
      container,
    };
    const exprs = allExprs();
    const failures: string[] = [];
    const empty: string[] = [];
    for (const e of exprs) {
      const q = substitute(e.expr, values);
      if (/\$/.test(q)) {
        failures.push(`${e.where}: unresolved variable in ${q}`);
        continue;
      }
      try {
        const r = await prom!.query(q);
        if (Array.isArray(r.result) && r.result.length === 0) empty.push(e.where);
      } catch (err) {
        if (!(err instanceof PromQLError)) throw err;
        failures.push(`${e.where}: ${err.message}\n    ${q}`);
      }
    }
    t.diagnostic(`${exprs.length} expressions (${dashboardExprs().length} from ${dashboards.length} dashboards, ${ruleExprs().length} alert rules); ${empty.length} had no result yet:`);
    for (const w of empty) t.diagnostic(`  empty: ${w}`);
    assert.deepEqual(failures, [], `${failures.length} of ${exprs.length} expressions failed:\n${failures.join('\n')}`);
    assert.ok(exprs.length >= 100, `${exprs.length} expressions`);
  });

  test('a bad expression is reported with Prometheus\'s error', async () => {
    await assert.rejects(prom!.query('sum(rate(eunomia_events_total[5m])'), (e: unknown) => e instanceof PromQLError && /parse error/.test(e.message));
  });

  test('the families the expressions use: which have data (informational; the trackers own their values)', async (t) => {
    const names = new Set(allExprs().flatMap((e) => namesIn(e.expr).metrics));
    const missing: string[] = [];
    for (const n of [...names].sort()) {
      const r = await prom!.query(`count(${n}{job="eunomia"})`);
      if ((r.result as unknown[]).length === 0) missing.push(n);
    }
    t.diagnostic(`${names.size} metric names used; no data (yet) for ${missing.length}: ${missing.join(', ') || 'none'}`);
    const mine = await prom!.query(`count by (__name__) ({job="eunomia", container="${container}"})`);
    t.diagnostic(`families with series of the test container: ${(mine.result as { metric: Record<string, string> }[]).map((s) => s.metric.__name__).sort().join(', ') || 'none'}`);
    // the families that exist today must be scraped, or nothing above meant anything
    assert.ok(!missing.includes('up') && !missing.includes('eunomia_alerts_total'), missing.join(', '));
  });

  test('the alert rules load and evaluate without errors in Prometheus', async () => {
    const want = ruleExprs().length;
    await prom!.until(async () => {
      const rs = await prom!.rules();
      return rs.length === want && rs.every((r) => !r.lastEvaluation.startsWith('0001-'));
    }, 'every rule to be evaluated', 20_000);
    const bad = (await prom!.rules()).filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
    assert.deepEqual(bad, []);
  });

  test('promtool check metrics is clean on the whole /metrics, prom-client\'s own families included', async () => {
    const text = await (await fetch(`http://${metricsAddr}/metrics`)).text();
    // the trackers' families (counters and a histogram) and the client library's are in it
    for (const name of ['eunomia_process_execs_total', 'eunomia_process_lifetime_seconds_bucket', 'eunomia_file_writes_total', 'eunomia_file_opens_total', 'eunomia_tcp_connections_total', 'eunomia_alerts_total', 'nodejs_active_handles', 'nodejs_gc_duration_seconds_bucket', 'process_cpu_seconds_total']) {
      assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), `${name} has series in /metrics`);
    }
    const r = promtool(['check', 'metrics'], text);
    // promtool: 0 clean, 3 lint problems, 1 a text format error; any line it prints is a problem
    assert.deepEqual({ code: r.code, out: (r.stdout + r.stderr).trim() }, { code: 0, out: '' });
  });
});
