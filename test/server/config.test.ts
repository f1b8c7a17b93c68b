/** Server config: TOML and JSON, every key checked, errors naming the file and the key. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { defaultConfig, loadConfig, parseListen, type ServerConfig } from '../../src/agent/config.js';
import { safeConfig, serverConfig, tokenOf, withRuleTrackers } from '../../src/cli/server.js';

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
      ['unknown.toml', 'listn = "x:1"', /unknown key "listn" \(known here: listen, metrics_listen, token, token_file, tls, body_limit_bytes, containers, trackers, output, hotload, rules, metrics, otel\)/],
      ['nested.toml', '[tls]\nkey = "a"\ncert = "b"\npass = "c"', /unknown key "tls.pass" \(known here: key, cert\)/],
      ['trackerkey.toml', '[[trackers]]\nname = "process"\nopts = {}', /unknown key "trackers.0.opts" \(known here: name, options\)/],
      ['type.toml', 'listen = 8527', /key "listen" must be a string, got an integer/],
      ['bool.toml', 'containers = "yes"', /key "containers" must be true or false, got a string/],
      ['neg.json', '{"body_limit_bytes": -1}', /key "body_limit_bytes" must be a non-negative integer/],
      ['tracker.toml', '[[trackers]]\nname = "nosuch"', /trackers.0 \(nosuch\): unknown tracker "nosuch"/],
      ['option.toml', '[[trackers]]\nname = "process"\noptions = { bogus = 1 }', /trackers.0 \(process\): tracker process: unknown option "bogus"/],
      ['optiontype.toml', '[[trackers]]\nname = "process"\noptions = { pid = "one" }', /option pid: expected an integer/],
      ['listen.toml', 'listen = "localhost"', /listen address "localhost" is not host:port/],
      ['format.toml', '[output]\nformat = "xml"', /key "output.format": unknown output format "xml"/],
      ['syntax.toml', 'listen = ', /not valid TOML/],
      ['syntax.json', '{"listen": ', /not valid JSON/],
      ['tls.toml', '[tls]\nkey = "a"', /"tls" needs both "key" and "cert"/],
      ['series.toml', '[metrics]\nmax_series = 0', /key "metrics.max_series" must be at least 1, got 0/],
      ['ttl.toml', '[metrics]\nseries_ttl_ms = 10', /key "metrics.series_ttl_ms" must be at least 1000, got 10/],
      ['metricskey.toml', '[metrics]\nbpfstats = true', /unknown key "metrics.bpfstats" \(known here: max_series, series_ttl_ms, bpf_stats\)/],
      ['protocol.toml', '[otel]\nprotocol = "http/json"', /key "otel.protocol" must be "http\/protobuf" or "grpc", got "http\/json"/],
      ['endpoint.toml', '[otel]\nendpoint = "collector:4318"', /key "otel.endpoint" must be an http\(s\) URL, got "collector:4318"/],
      ['events.toml', '[otel]\nevents = ["process", "nosuch"]', /otel.events.1: unknown tracker "nosuch"/],
    ];
    for (const [name, text, re] of bad) {
      const p = file(name, text);
      assert.throws(() => loadConfig(p), (e: unknown) => configError(re)(e) && (e as Error).message.startsWith(`config ${p}: `), name);
    }
    assert.throws(() => loadConfig(join(dir, 'missing.toml')), configError(/missing.toml: cannot be read/));
    const ok = loadConfig(file('good.toml', '[metrics]\nmax_series = 50\nbpf_stats = false\n[otel]\nendpoint = "http://127.0.0.1:4318"\nprotocol = "grpc"\nevents = ["process"]\ninterval_ms = 500'));
    assert.deepEqual(ok.metrics, { maxSeries: 50, seriesTtlMs: 3_600_000, bpfStats: false });
    assert.deepEqual(ok.otel, { endpoint: 'http://127.0.0.1:4318', protocol: 'grpc', metrics: true, alerts: true, events: ['process'], intervalMs: 500 });
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

  test("the server adds the trackers the enabled rules need; safe runs only those; --no-trackers and --no-safe add none", () => {
    const names = (c: ServerConfig): string[] => c.trackers.map((t) => t.name);
    assert.deepEqual(names(withRuleTrackers(serverConfig([]).config)), ['process', 'files', 'tcpconnect', 'opensnoop', 'mountsnoop', 'secsnoop', 'bindsnoop']);
    assert.deepEqual(names(safeConfig(serverConfig([]).config)), ['process', 'opensnoop', 'mountsnoop', 'secsnoop', 'bindsnoop', 'tcpconnect']);
    assert.deepEqual(names(withRuleTrackers(serverConfig(['--no-trackers']).config)), []);
    assert.deepEqual(names(withRuleTrackers(serverConfig(['--no-safe']).config)), ['process', 'files', 'tcpconnect']);
    // Disabling every rule of a tracker drops it.
    const rules = file('off.toml', '[rules]\ndisable = ["mount_in_container", "proc_pid_mount"]');
    assert.ok(!names(withRuleTrackers(serverConfig(['--config', rules]).config)).includes('mountsnoop'));
    const off = file('notrackers.toml', '[rules]\ntrackers = false');
    assert.deepEqual(names(withRuleTrackers(serverConfig(['--config', off]).config)), ['process', 'files', 'tcpconnect']);
  });
});
