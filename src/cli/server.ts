/** `eunomia server`: the agent with its control API, until SIGINT/SIGTERM. */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { loadNative } from '../core/native.js';
import { parseFormat } from '../exporters/index.js';
import { Agent } from '../agent/agent.js';
import { defaultConfig, parseListen, type ServerConfig } from '../agent/config.js';
import { checkConfig, loadConfig } from '../agent/config-load.js';
import { preloadChecker } from '../agent/config-check.js';
import { buildApi } from '../server/http.js';
import { startMetricsServer } from '../metrics/index.js';
import { notCounted } from './run.js';
import { SERVER_HELP } from './server-help.js';


function serverError(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, msg);
}

/** The config: file (if any), then flags; then what only the combination can tell. */
export function serverConfig(argv: string[]): { config: ServerConfig; help: boolean } {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: 'string' }, listen: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' },
        'tls-key': { type: 'string' }, 'tls-cert': { type: 'string' }, 'no-trackers': { type: 'boolean' }, 'no-containers': { type: 'boolean' },
        fmt: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
        'no-safe': { type: 'boolean' }, rules: { type: 'string', multiple: true }, alerts: { type: 'string' },
        'metrics-listen': { type: 'string' }, store: { type: 'string' }, 'no-store': { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw serverError(`${(e as Error).message.replace(/\. To specify.*$/s, '')} — see "eunomia server --help"`);
  }
  const config = v.config ? loadConfig(v.config) : defaultConfig();
  if (v.listen !== undefined) config.listen = v.listen;
  if (v['metrics-listen'] !== undefined) config.metricsListen = v['metrics-listen'];
  if (v.token !== undefined) config.token = v.token;
  if (v['token-file'] !== undefined) config.tokenFile = v['token-file'];
  if ((v['tls-key'] === undefined) !== (v['tls-cert'] === undefined)) throw serverError('--tls-key and --tls-cert go together');
  if (v['tls-key'] && v['tls-cert']) config.tls = { key: v['tls-key'], cert: v['tls-cert'] };
  if (v['no-trackers']) {
    config.trackers = [];
    config.rules.trackers = false;
  }
  if (v['no-containers']) config.containers = false;
  if (v['no-safe']) config.rules.enabled = false;
  if (v.rules) config.rules.files.push(...v.rules);
  if (v.alerts !== undefined) config.rules.alertFile = v.alerts;
  if (v.store !== undefined && v['no-store']) throw serverError('--store and --no-store contradict each other');
  if (v.store !== undefined) Object.assign(config.store, { enabled: true, path: v.store });
  if (v['no-store']) config.store.enabled = false;
  if (v.fmt !== undefined || v.output !== undefined) config.output = { format: parseFormat(v.fmt ?? 'json'), ...(v.output ? { path: v.output } : {}) };
  return { config: checkConfig(config, v.config ?? 'flags'), help: v.help === true };
}

/** The token from the config or its file; an empty one is an error, not "no auth". */
export function tokenOf(config: ServerConfig): string | undefined {
  if (config.token !== undefined && config.tokenFile !== undefined) throw serverError('give the token or a token file, not both');
  let token = config.token;
  if (config.tokenFile !== undefined) {
    try {
      token = readFileSync(config.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new EunomiaError(ErrorCodes.CONFIG, `token file ${config.tokenFile} cannot be read: ${(e as Error).message}`);
    }
  }
  if (token !== undefined && token.length < 16) throw new EunomiaError(ErrorCodes.CONFIG, 'the API token must be at least 16 characters (e.g. from: openssl rand -hex 32)');
  return token;
}

/**
 * `eunomia safe`: security monitoring only, as in the seed — the trackers the enabled rules
 * need (and only those: the agent derives them from the rules it loads), alerts to the log,
 * no event output.
 */
export function safeConfig(config: ServerConfig): ServerConfig {
  if (!config.rules.enabled) throw serverError('"eunomia safe" is the security rules: --no-safe makes no sense here');
  config.trackers = [];
  config.rules.trackers = true;
  delete config.output;
  return config;
}

export async function runServer(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; version: string; safe?: boolean }): Promise<number> {
  await preloadChecker();
  const parsed = serverConfig(argv);
  if (parsed.help) {
    io.stdout.write(SERVER_HELP);
    return 0;
  }
  const config = io.safe ? safeConfig(parsed.config) : parsed.config;
  const listen = parseListen(config.listen);
  const token = tokenOf(config);
  if (!listen.loopback && !token) {
    throw new EunomiaError(ErrorCodes.CONFIG, `listening on ${config.listen} (not loopback) needs a token: --token, --token-file or "token" in the config — anyone who reaches the port could load code into the kernel`);
  }
  let https: { key: Buffer; cert: Buffer } | undefined;
  if (config.tls) {
    try {
      https = { key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) };
    } catch (e) {
      throw new EunomiaError(ErrorCodes.CONFIG, `TLS key or certificate cannot be read: ${(e as Error).message}`);
    }
  }
  const log = (line: string): void => void io.stderr.write(`eunomia: ${line}\n`);
  // The API is built while the agent starts: once its trackers' loads are under way (the rules
  // choose half of them, so they come first), while the kernel verifies them on worker threads.
  let loading!: () => void;
  const issued = new Promise<void>((resolve) => (loading = resolve));
  const starting = Agent.start(config, { native: loadNative(), log, loading });
  const building = Promise.race([issued, starting.then(() => undefined, () => undefined)]).then(() =>
    buildApi(starting, { token, bodyLimitBytes: config.bodyLimitBytes, version: io.version, ...(https ? { https } : {}) }),
  );
  // Its failure is read below, once the agent is up; until then not an unhandled rejection.
  building.catch(() => undefined);
  let agent: Agent;
  try {
    agent = await starting;
  } catch (e) {
    await building.then((app) => app.close(), () => undefined);
    throw e;
  }
  let stopping = false;
  let metricsServer: Server | undefined;
  try {
    const app = await building;
    try {
      await app.listen({ host: listen.host, port: listen.port });
    } catch (e) {
      throw new EunomiaError(ErrorCodes.CONFIG, `cannot listen on ${config.listen}: ${(e as Error).message}`);
    }
    const hostPort = (l: { host: string; port: number }): string => `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
    const url = `${https ? 'https' : 'http'}://${hostPort(listen)}`;
    // Read-only and without secrets, so no token; loopback unless told otherwise all the same.
    if (config.metricsListen !== 'off') {
      const m = parseListen(config.metricsListen, '--metrics-listen');
      metricsServer = await startMetricsServer(agent.metrics, m.host, m.port);
      log(`Prometheus metrics on http://${hostPort(m)}/metrics`);
    }
    const running = agent.list();
    const names = running.map((i) => i.name);
    for (const i of running) for (const s of i.skipped) log(`${i.name}: program ${s.program} not loaded: ${s.reason}`);
    log(`server listening on ${url}${token ? ' (token required)' : ''}; ${names.length} trackers running${names.length ? `: ${names.join(', ')}` : ''}; Ctrl-C to stop`);
    // What `eunomia doctor` would say, once listening: its probes (a few do-nothing programs on
    // worker threads, ~0.3 s) must not delay the start: loaded then, not awaited; a failure is one line.
    void import('../agent/doctor.js').then((m) => m.agentReport(agent, loadNative())).then(
      (r) => {
        if (!stopping) for (const line of r.summary) log(`doctor: ${line}`);
      },
      (e: unknown) => log(`doctor: no summary: ${(e as Error).message}`),
    );
    const sig = await new Promise<string>((resolve) => {
      const on = (s: NodeJS.Signals): void => {
        if (stopping) process.exit(130); // a second signal: now
        stopping = true;
        resolve(s);
      };
      process.on('SIGINT', on);
      process.on('SIGTERM', on);
    });
    log(`${sig}: stopping`);
    await app.close();
    metricsServer?.close();
    const stats = await agent.manager.stopAll();
    await agent.close();
    for (const [id, { name, stats: s }] of stats) {
      log(`${name} #${id}: ${s.events} events seen, ${s.lostKernel + s.lostQueue} lost (kernel ring buffer ${s.lostKernel}, native queue ${s.lostQueue}), ${s.decodeErrors} undecodable${notCounted(s)}`);
    }
    const st = agent.streams.totals();
    log(`streams: ${st.written} events sent to clients, ${st.dropped} dropped for slow clients`);
    return 0;
  } finally {
    metricsServer?.close();
    agent.closeNow();
  }
}
