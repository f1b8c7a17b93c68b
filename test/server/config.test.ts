/** Server config: TOML and JSON, every key checked, errors naming the file and the key; the original Eunomia's keys read with a note. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { defaultConfig, parseListen, type ServerConfig } from '../../src/agent/config.js';
import { checkConfig, FILE_SCHEMA, loadConfig } from '../../src/agent/config-load.js';
import { checker, hasBuiltValidator } from '../../src/agent/config-check.js';
import { ORIGINAL_SCHEMA } from '../../src/agent/config-original.js';
import type { Format } from '../../src/exporters/index.js';
import { safeConfig, serverConfig, tokenOf } from '../../src/cli/server.js';
import { ruleSetOf, trackersToStart } from '../../src/agent/agent.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const configError = (re: RegExp) => (e: unknown) => isEunomiaError(e, 'E_CONFIG') && re.test(e.message);

describe('server config', () => {
  test('defaults: loopback 8527, process/files/tcpconnect, containers on', () => {
    const c = defaultConfig();
    assert.equal(c.listen, '127.0.0.1:8527');
    assert.deepEqual(c.trackers.map((t) => t.name), ['process', 'files', 'tcpconnect']);
    assert.equal(c.containers, true);
  });

  test('a full TOML file', () => {
    const p = file('full.toml', `
listen = "0.0.0.0:9000"
token_file = "/etc/eunomia/token"
body_limit_bytes = 4194304
containers = false

[tls]
key = "/k.pem"
cert = "/c.pem"

[[trackers]]
name = "opensnoop"
options = { pid = 42, failed = true }

[[trackers]]
name = "process"

[output]
format = "csv"
path = "/var/log/eunomia.csv"

[hotload]
max_object_bytes = 1048576
allow_program_types = ["tracepoint", "kprobe"]
`);
    const c = loadConfig(p);
    assert.equal(c.listen, '0.0.0.0:9000');
    assert.equal(c.tokenFile, '/etc/eunomia/token');
    assert.equal(c.bodyLimitBytes, 4194304);
    assert.equal(c.containers, false);
    assert.deepEqual(c.tls, { key: '/k.pem', cert: '/c.pem' });
    assert.deepEqual(c.trackers, [{ name: 'opensnoop', options: { pid: 42, failed: true } }, { name: 'process', options: {} }]);
    assert.deepEqual(c.output, { format: 'csv', path: '/var/log/eunomia.csv' });
    assert.deepEqual(c.hotload, { maxObjectBytes: 1048576, allowProgramTypes: ['tracepoint', 'kprobe'] });
  });

  test('JSON works the same', () => {
    const c = loadConfig(file('c.json', JSON.stringify({ listen: '127.0.0.1:1234', trackers: [{ name: 'files', options: { interval: 5 } }] })));
    assert.equal(c.listen, '127.0.0.1:1234');
    assert.deepEqual(c.trackers, [{ name: 'files', options: { interval: 5 } }]);
  });

  test('unknown keys, wrong types and bad values are named, never ignored', () => {
    const bad: [string, string, RegExp][] = [
      ['unknown.toml', 'listn = "x:1"', /unknown key "listn" \(known here: listen, metrics_listen, token, token_file, tls, body_limit_bytes, containers, trackers, output, hotload, rules, metrics, otel, store\)/],
      ['nested.toml', '[tls]\nkey = "a"\ncert = "b"\npass = "c"', /unknown key "tls.pass" \(known here: key, cert\)/],
      ['trackerkey.toml', '[[trackers]]\nname = "process"\nopts = {}', /unknown key "trackers.0.opts" \(known here: name, options\)/],
      ['type.toml', 'listen = 8527', /key "listen" must be a string, got an integer/],
      ['bool.toml', 'containers = "yes"', /key "containers" must be true or false, got a string/],
      ['neg.json', '{"body_limit_bytes": -1}', /key "body_limit_bytes" must be at least 1024, got -1/],
      ['float.json', '{"body_limit_bytes": 1.5}', /key "body_limit_bytes" must be an integer, got a number/],
      ['date.toml', 'listen = 1979-05-27', /key "listen" must be a string, got a date/],
      ['table.toml', 'hotload = 5', /key "hotload" must be a table, got an integer/],
      ['camel.toml', 'bodyLimitBytes = 4096', /unknown key "bodyLimitBytes" \(known here: listen, metrics_listen,/],
      ['noname.toml', '[[trackers]]\noptions = { pid = 1 }', /key "trackers.0.name" is missing: "trackers.0" needs "name"/],
      ['items.toml', '[rules]\nfiles = ["a", 3]', /key "rules.files.1" must be a string, got an integer/],
      ['kinds.toml', '[hotload]\nallow_program_types = ["xdp"]', /key "hotload.allow_program_types.0" must be "tracepoint", .* or "lsm", got "xdp"/],
      ['webhook.toml', '[rules]\nwebhook = "ftp://x"', /key "rules.webhook" must be an http\(s\) URL, got "ftp:\/\/x"/],
      ['tracker.toml', '[[trackers]]\nname = "nosuch"', /key "trackers.0.name": unknown tracker "nosuch"/],
      ['option.toml', '[[trackers]]\nname = "process"\noptions = { bogus = 1 }', /key "trackers.0": tracker process: unknown option "bogus"/],
      ['optiontype.toml', '[[trackers]]\nname = "process"\noptions = { pid = "one" }', /option pid: expected an integer/],
      ['listen.toml', 'listen = "localhost"', /key "listen": listen address "localhost" is not host:port/],
      ['metricslisten.toml', 'metrics_listen = "nowhere"', /key "metrics_listen": listen address "nowhere" is not host:port/],
      ['format.toml', '[output]\nformat = "xml"', /key "output.format": unknown output format "xml"/],
      ['syntax.toml', 'listen = ', /not valid TOML/],
      ['syntax.json', '{"listen": ', /not valid JSON/],
      ['tls.toml', '[tls]\nkey = "a"', /key "tls.cert" is missing: "tls" needs both "key" and "cert"/],
      ['series.toml', '[metrics]\nmax_series = 0', /key "metrics.max_series" must be at least 1, got 0/],
      ['ttl.toml', '[metrics]\nseries_ttl_ms = 10', /key "metrics.series_ttl_ms" must be at least 1000, got 10/],
      ['metricskey.toml', '[metrics]\nbpfstats = true', /unknown key "metrics.bpfstats" \(known here: max_series, series_ttl_ms, bpf_stats, original_names\)/],
      ['protocol.toml', '[otel]\nprotocol = "http/json"', /key "otel.protocol" must be "http\/protobuf" or "grpc", got "http\/json"/],
      ['endpoint.toml', '[otel]\nendpoint = "collector:4318"', /key "otel.endpoint" must be an http\(s\) URL, got "collector:4318"/],
      ['events.toml', '[otel]\nevents = ["process", "nosuch"]', /key "otel.events.1": unknown tracker "nosuch"/],
    ];
    for (const [name, text, re] of bad) {
      const p = file(name, text);
      assert.throws(() => loadConfig(p), (e: unknown) => configError(re)(e) && (e as Error).message.startsWith(`config ${p}: `), name);
    }
    assert.throws(() => loadConfig(join(dir, 'missing.toml')), configError(/missing.toml: cannot be read/));
    const ok = loadConfig(file('good.toml', '[metrics]\nmax_series = 50\nbpf_stats = false\n[otel]\nendpoint = "http://127.0.0.1:4318"\nprotocol = "grpc"\nevents = ["process"]\ninterval_ms = 500'));
    assert.deepEqual(ok.metrics, { maxSeries: 50, seriesTtlMs: 3_600_000, bpfStats: false, originalNames: false });
    assert.deepEqual(ok.otel, { endpoint: 'http://127.0.0.1:4318', protocol: 'grpc', metrics: true, alerts: true, events: ['process'], intervalMs: 500 });
  });

  test("the build's validators hold the config's schemas, and compiled at run time they say the same", () => {
    // scripts/config-validators.js (setup.sh runs it after tsc): without them each start compiles.
    assert.ok(hasBuiltValidator(FILE_SCHEMA), 'dist/config-validators.cjs holds the file schema');
    assert.ok(hasBuiltValidator(ORIGINAL_SCHEMA), "dist/config-validators.cjs holds the original's keys");
    const built = checker(FILE_SCHEMA);
    const compiled = checker(FILE_SCHEMA, { compile: true });
    const values: unknown[] = [
      {}, { listn: 'x:1' }, { listen: 8527 }, { listen: 'localhost' }, { body_limit_bytes: -1 }, { tls: { key: 'a' } },
      { trackers: [{ name: 'nosuch' }] }, { trackers: [{ name: 'process', options: { bogus: 1 } }] }, { trackers: [{ name: 'process', options: { pid: 1 } }] },
      { output: { format: 'xml' } }, { output: { format: 'csv' } }, { listen: 'localhost', containers: 'yes' }, { otel: { events: ['process', 'nosuch'] } },
    ];
    for (const v of values) {
      const a = built(structuredClone(v));
      assert.equal(a, compiled(structuredClone(v)), JSON.stringify(v));
      assert.equal(a === undefined, [0, 8, 10].includes(values.indexOf(v)), `${JSON.stringify(v)}: ${a}`);
    }
    // Schema errors come before the checks' (a check sees a value of its declared type).
    assert.match(built({ listen: 'localhost', containers: 'yes' }) ?? '', /key "containers" must be true or false/);
  });

  test('the typed config, the defaults and the checks come from one schema', () => {
    const a = defaultConfig();
    a.trackers.push({ name: 'syscall', options: {} });
    a.rules.files.push('x.yaml');
    const b = defaultConfig();
    assert.equal(b.trackers.length, 3, 'each default config is a fresh copy');
    assert.deepEqual(b.rules.files, []);
    assert.deepEqual(b.otel, { metrics: true, alerts: true, events: [] });
    const c = loadConfig(file('formats.toml', 'metrics_listen = "off"\n[output]\nformat = "JSON_FORMAT"'));
    const format: Format | undefined = c.output?.format; // the type is the decoded one
    assert.equal(format, 'json', 'the original spelling, read as json');
    assert.equal(c.metricsListen, 'off');
    // After flags, the same checks, naming the file's keys.
    assert.throws(() => checkConfig({ ...defaultConfig(), bodyLimitBytes: 10 }, 'flags'), configError(/^config flags: key "body_limit_bytes" must be at least 1024, got 10$/));
    assert.throws(() => checkConfig({ ...defaultConfig(), trackers: [{ name: 'nosuch', options: {} }] }, 'flags'), configError(/key "trackers.0.name": unknown tracker "nosuch"/));
    assert.throws(() => checkConfig({ ...defaultConfig(), bogus: 1 } as ServerConfig, 'flags'), configError(/unknown key "bogus"/));
    assert.equal(checkConfig(c, 'x'), c, 'a good config is returned as it is');
  });

  test("the original Eunomia's keys are read as the new ones, each with a note naming it", () => {
    // The original's doc/quickstart/config.toml, with tracker flags of this release.
    const p = file('original.toml', `
run_selected = "server"
tracing_selected = "all"
tracing_target_id = ""
prometheus_listening_address = "127.0.0.1:9528"
server_port = 9527
exit_after = 0
enable_container_manager = false
enable_sec_rule_detect = true
enabled_export_types = ["prometheus", "stdout"]
fmt = "json_format"
security_rules = []
seccomp_data = []
[[enabled_trackers]]
name = "process"
export_handlers = [ ]
args = [ ]
[[enabled_trackers]]
name = "files"
args = [ "-i", "5" ]
  [[enabled_trackers.export_handlers]]
  name = "json_format"
  args = [ "arg1", "arg2" ]
`);
    const notes: string[] = [];
    const c = loadConfig(p, (l) => notes.push(l));
    assert.equal(c.listen, '127.0.0.1:9527');
    assert.equal(c.metricsListen, '127.0.0.1:9528');
    assert.equal(c.containers, false);
    assert.equal(c.rules.enabled, true);
    assert.deepEqual(c.output, { format: 'json' });
    assert.deepEqual(c.trackers, [{ name: 'process', options: {} }, { name: 'files', options: { interval: 5 } }]);
    const said = (key: string, re: RegExp): void => assert.ok(notes.some((n) => n.startsWith(`config ${p}: key "${key}" is deprecated (the original Eunomia's): `) && re.test(n)), `a note on ${key}: ${notes.join(' / ')}`);
    said('enabled_trackers', /read as trackers/);
    said('server_port', /read as listen = "127.0.0.1:9527"/);
    said('prometheus_listening_address', /read as metrics_listen = "127.0.0.1:9528"/);
    said('enable_container_manager', /read as containers = false/);
    said('enable_sec_rule_detect', /read as rules.enabled = true/);
    said('fmt', /read as output.format = "json"/);
    said('enabled_export_types', /read as output.format = "json"$/);
    for (const k of ['run_selected', 'tracing_selected', 'tracing_target_id', 'exit_after', 'security_rules', 'seccomp_data']) said(k, /ignored/);
    assert.equal(notes.length, 13, "one note per original key");

    const read = (name: string, text: string): ServerConfig => loadConfig(file(name, text), () => {});
    const pid = read('pid.toml', 'tracing_selected = "pid"\ntracing_target_id = "42"\n[[trackers]]\nname = "opensnoop"');
    assert.deepEqual(pid.trackers, [{ name: 'opensnoop', options: { pid: 42 } }]);
    assert.deepEqual(read('cid.json', '{"tracing_selected": "container_id", "tracing_target_id": "web"}').trackers.map((t) => t.options), [{ container: 'web' }, { container: 'web' }, { container: 'web' }]);
    const noProm = read('noprom.json', '{"enabled_export_types": ["stdout"], "fmt": "csv"}');
    assert.equal(noProm.metricsListen, 'off');
    assert.deepEqual(noProm.output, { format: 'csv' });
    assert.equal(read('none.toml', 'fmt = "none"').output, undefined);
    assert.deepEqual(read('only.toml', 'disable_other_configs = true\nfmt = "csv"\n[[enabled_trackers]]\nname = "process"\nexport_handlers = [{ name = "plain_text" }]').output, { format: 'plain' });

    const bad: [string, string, RegExp][] = [
      ['exit.toml', 'exit_after = 30', /key "exit_after" \(the original Eunomia's\) has no equivalent: eunomia server runs until SIGINT\/SIGTERM — stop it after N seconds with "timeout N eunomia server …"/],
      ['rules.toml', '[[security_rules]]\nrule_name = "bpf"\ntrigger = "bpf"', /key "security_rules" \(the original Eunomia's\) has no equivalent: the original never loaded these rules; rules are YAML files now/],
      ['seccomp.toml', '[[seccomp_data]]\nallow_syscall = ["read"]', /key "seccomp_data" \(the original Eunomia's\) has no equivalent: its lists are no seccomp profile/],
      ['seccompon.toml', 'enable_seccomp_module = true', /key "enable_seccomp_module" \(the original Eunomia's\) has no equivalent/],
      ['both.toml', 'server_port = 1\nlisten = "127.0.0.1:2"', /key "server_port" \(the original Eunomia's\) and "listen" are both given: keep "listen"/],
      ['bothrules.toml', 'enable_sec_rule_detect = false\n[rules]\nenabled = true', /key "enable_sec_rule_detect" \(the original Eunomia's\) and "rules.enabled" are both given/],
      ['handler.json', '{"enabled_trackers": [{"name": "process", "export_handlers": [{"name": "xml"}]}]}', /key "enabled_trackers.0.export_handlers.0.name": unknown export handler "xml" \(known: json_format, plain_text/],
      ['two.json', '{"enabled_trackers": [{"name": "process", "export_handlers": [{"name": "csv"}]}], "fmt": "json"}', /print events in csv, json: this release prints every tracker's events in one format — set output.format instead/],
      ['args.json', '{"enabled_trackers": [{"name": "process", "args": ["--bogus"]}]}', /key "enabled_trackers.0.args": Unknown option '--bogus'/],
      ['unknown.json', '{"enabled_trackers": [{"name": "bashreadline"}]}', /key "enabled_trackers.0.name": unknown tracker "bashreadline"/],
      ['target.toml', 'tracing_selected = "pid"', /key "tracing_selected" = "pid" needs "tracing_target_id"/],
      ['types.toml', 'enabled_export_types = ["file"]', /key "enabled_export_types.0" must be "prometheus" or "stdout", got "file"/],
      ['fmt.toml', 'fmt = "xml"', /key "fmt": unknown output format "xml"/],
      ['exittype.toml', 'exit_after = "soon"', /key "exit_after" must be an integer, got a string/],
    ];
    for (const [name, text, re] of bad) {
      const f = file(name, text);
      assert.throws(() => loadConfig(f, () => {}), (e: unknown) => configError(re)(e) && (e as Error).message.startsWith(`config ${f}: `), name);
    }
  });

  test('flags override the file; a non-loopback listen is told apart', () => {
    const p = file('base.toml', 'listen = "127.0.0.1:1"\ncontainers = true');
    const { config } = serverConfig(['--config', p, '--listen', '[::]:8600', '--no-containers', '--no-trackers', '--token', 'x'.repeat(20)]);
    assert.equal(config.listen, '[::]:8600');
    assert.equal(config.metricsListen, '127.0.0.1:8528');
    assert.equal(serverConfig(['--metrics-listen', 'off']).config.metricsListen, 'off');
    assert.throws(() => serverConfig(['--metrics-listen', 'nowhere']), /listen address "nowhere" is not host:port/);
    assert.equal(config.containers, false);
    assert.deepEqual(config.trackers, []);
    assert.equal(tokenOf(config), 'x'.repeat(20));
    assert.deepEqual(parseListen('[::]:8600'), { host: '::', port: 8600, loopback: false });
    assert.deepEqual(parseListen('[::1]:8600'), { host: '::1', port: 8600, loopback: true });
    assert.deepEqual(parseListen(':8600'), { host: '0.0.0.0', port: 8600, loopback: false });
    assert.equal(parseListen('127.0.0.2:1').loopback, true);
    assert.throws(() => serverConfig(['--tls-key', 'k']), /--tls-key and --tls-cert go together/);
    assert.throws(() => tokenOf({ ...defaultConfig(), token: 'short' }), /at least 16 characters/);
    assert.throws(() => serverConfig(['--bogus']), /Unknown option '--bogus'/);
  });

  test("the server adds the trackers the enabled rules need; safe runs only those; --no-trackers and --no-safe add none", async () => {
    // What Agent.start starts: the configured trackers, then those of the rule set it loaded.
    const names = async (c: ServerConfig): Promise<string[]> => trackersToStart(c, c.rules.enabled ? await ruleSetOf(c) : undefined).map((t) => t.name);
    assert.deepEqual(await names(serverConfig([]).config), ['process', 'files', 'tcpconnect', 'opensnoop', 'mountsnoop', 'secsnoop', 'bindsnoop']);
    assert.deepEqual(await names(safeConfig(serverConfig([]).config)), ['process', 'opensnoop', 'mountsnoop', 'secsnoop', 'bindsnoop', 'tcpconnect']);
    assert.deepEqual(await names(serverConfig(['--no-trackers']).config), []);
    assert.deepEqual(await names(serverConfig(['--no-safe']).config), ['process', 'files', 'tcpconnect']);
    // Disabling every rule of a tracker drops it.
    const rules = file('off.toml', '[rules]\ndisable = ["mount_in_container", "proc_pid_mount"]');
    assert.ok(!(await names(serverConfig(['--config', rules]).config)).includes('mountsnoop'));
    const off = file('notrackers.toml', '[rules]\ntrackers = false');
    assert.deepEqual(await names(serverConfig(['--config', off]).config), ['process', 'files', 'tcpconnect']);
  });
});
