/** The [store] table and the --store / --no-store flags: defaults, shorter forms, errors naming the key. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../src/agent/config.js';
import { configFrom, parseConfigText } from '../../src/agent/config-load.js';
import { preloadChecker } from '../../src/agent/config-check.js';
import { serverConfig } from '../../src/cli/server.js';
import { parseDuration, storeOptions } from '../../src/store/index.js';

const fromToml = (text: string) => configFrom(parseConfigText(text, 'store.toml'), 'store.toml', () => {});

test('the store is on by default, at /var/lib/eunomia/events.db, with the process tracker\'s events and the alerts', () => {
  const s = defaultConfig().store;
  assert.deepEqual(s, {
    enabled: true,
    path: '/var/lib/eunomia/events.db',
    trackers: ['process'],
    events: { maxRows: 1_000_000, maxBytes: 512 * 1024 * 1024, ttl: '7d' },
    alerts: { enabled: true, maxRows: 100_000, maxBytes: 64 * 1024 * 1024, ttl: '30d' },
  });
  const o = storeOptions(s);
  assert.equal(o.events.ttlMs, 7 * 86_400_000);
  assert.equal(o.alertLimits.ttlMs, 30 * 86_400_000);
  assert.equal(o.alerts, true);
});

test('[store] in a file: keys, a TTL in seconds as a number, alerts = false', async () => {
  await preloadChecker();
  const c = fromToml('[store]\npath = "/tmp/x.db"\ntrackers = ["process", "files"]\nalerts = false\n[store.events]\nmax_rows = 10\nmax_bytes = 8192\nttl = 3600\n');
  assert.deepEqual(c.store, { enabled: true, path: '/tmp/x.db', trackers: ['process', 'files'], events: { maxRows: 10, maxBytes: 8192, ttl: '3600' }, alerts: { enabled: false, maxRows: 100_000, maxBytes: 64 * 1024 * 1024, ttl: '30d' } });
  assert.equal(storeOptions(c.store).events.ttlMs, 3_600_000);
  assert.equal(fromToml('[store.alerts]\nenabled = false\nttl = "12h"\n').store.alerts.ttl, '12h');
  const bad: [string, RegExp][] = [
    ['[store.events]\nttl = "1w"', /key "store\.events\.ttl" must be a duration: seconds, or a number with s, m, h or d \(90s, 15m, 24h, 7d\), got "1w"/],
    ['[store.events]\nttl = 0', /key "store\.events\.ttl" must be a duration.*got "0"/],
    ['[store.events]\nmax_rows = 0', /key "store\.events\.max_rows" must be at least 1/],
    ['[store]\ntrackers = ["nosuch"]', /key "store\.trackers\.0": unknown tracker "nosuch"/],
    ['[store]\nsize = 1', /unknown key "store\.size"/],
  ];
  for (const [text, re] of bad) assert.throws(() => fromToml(text), (e: Error & { code?: string }) => e.code === 'E_CONFIG' && re.test(e.message), text);
});

test('--store PATH and --no-store', async () => {
  await preloadChecker();
  assert.deepEqual([serverConfig(['--store', '/tmp/e.db']).config.store.path, serverConfig(['--store', '/tmp/e.db']).config.store.enabled], ['/tmp/e.db', true]);
  assert.equal(serverConfig(['--no-store']).config.store.enabled, false);
  assert.throws(() => serverConfig(['--store', '/tmp/e.db', '--no-store']), { code: 'E_USAGE', message: /--store and --no-store contradict each other/ });
});

test('durations', () => {
  assert.deepEqual(['90', '90s', '15m', '24h', '7d'].map((d) => parseDuration(d)), [90_000, 90_000, 900_000, 86_400_000, 604_800_000]);
  assert.throws(() => parseDuration('1.5h'), { code: 'E_CONFIG' });
});
