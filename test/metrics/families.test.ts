/**
 * Every tracker's metric families, end to end on the real kernel: the agent runs the trackers,
 * a named container does known things, a real Prometheus scrapes /metrics every second, and
 * its HTTP API must return each family with the container's labels and the expected values.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { loadNative } from '../../src/core/native.js';
import { startMetricsServer } from '../../src/metrics/index.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/agent/config.js';
import { docker, dockerAsync, needsDocker, removeContainers, TEST_IMAGE, uniqueName } from '../docker.js';
import { freePort, needsRoot, repoRoot } from '../helpers.js';
import { needsPrometheus, Prometheus, type Sample } from './prometheus.js';

const skip = needsRoot || needsDocker || needsPrometheus;

describe('tracker metric families in a real Prometheus', { skip }, () => {
  let agent: Agent;
  let server: Server;
  let prom: Prometheus;
  const name = uniqueName('eunomia-metrics');

  before(async () => {
    const config = defaultConfig();
    config.rules.trackers = false;
    config.metrics.bpfStats = true;
    const every = { interval: 1 };
    config.trackers = [
      { name: 'process', options: {} },
      { name: 'files', options: { ...every, top: 0 } },
      { name: 'opensnoop', options: {} },
      { name: 'tcpconnect', options: {} },
      { name: 'tcpconnlat', options: {} },
      { name: 'tcprtt', options: every },
      { name: 'bindsnoop', options: {} },
      { name: 'sigsnoop', options: {} },
      { name: 'capable', options: {} },
      { name: 'secsnoop', options: {} },
      { name: 'ipc', options: {} },
      { name: 'syscall', options: { ...every, top: 0 } },
      // Every row: on a loaded machine `write` can miss an interval's top 10, and its count with it.
      { name: 'syscount', options: { ...every, top: 0 } },
    ];
    agent = await Agent.start(config, { native: loadNative(), log: () => {} });
    const port = await freePort();
    server = await startMetricsServer(agent.metrics, '127.0.0.1', port);
    prom = await Prometheus.start({ target: `127.0.0.1:${port}` });
    // A named container doing known things: 300 KiB with dd, a TCP connect and accept on
    // port 7070, a SIGTERM, a raw (ICMP) socket, a failed msgctl, a chown (CAP_CHOWN).
    docker('run', '-d', '--name', name, TEST_IMAGE, 'sleep', '3600');
    // Asynchronously: the agent must run meanwhile (interval rows look up live processes).
    await dockerAsync('exec', name, 'sh', '-c', [
      'dd if=/dev/zero of=/tmp/out bs=1024 count=300',
      '(nc -l -p 7070 >/dev/null &) ; sleep 0.3; echo hello | nc 127.0.0.1 7070',
      'sleep 30 & sleep 0.2; kill -TERM $!',
      'ping -c 1 -W 1 127.0.0.1 >/dev/null',
      'touch /tmp/f && chown 1:1 /tmp/f',
      // syscall count rows get their cgroup from /proc while the process lives: this shell
      // writes, then lives past the next report.
      'for i in 1 2 3 4 5; do echo x > /tmp/y; done; sleep 2.5',
    ].join('; '));
    // busybox has no System V IPC applets: a message queue made and removed on the host.
    const id = execFileSync('ipcmk', ['-Q'], { encoding: 'utf8' }).match(/\d+/)![0];
    execFileSync('ipcrm', ['-q', id]);
  });

  after(async () => {
    removeContainers(name);
    await prom?.stop();
    server?.close();
    await agent?.close();
  });

  /** The samples of `expr` once Prometheus has them (scrapes are 1 s apart; interval rows come every second). */
  async function series(expr: string, want: (s: Sample[]) => boolean = (s) => s.length > 0): Promise<Sample[]> {
    let last: Sample[] = [];
    try {
      await prom.until(async () => {
        last = (await prom.query(expr)).result as Sample[];
        return want(last);
      }, expr, 20_000);
    } catch (e) {
      // What the family does hold, to tell a wrong label from a missing event.
      const family = expr.split('{')[0]!;
      const held = ((await prom.query(family)).result as Sample[]).map((x) => JSON.stringify(x.metric)).slice(0, 20);
      throw new Error(`${(e as Error).message.split('\n')[0]}; last result ${JSON.stringify(last)}; ${family} holds: ${held.join(' ')}`);
    }
    return last;
  }
  const value = (s: Sample[]): number => s.reduce((n, x) => n + Number(x.value?.[1] ?? 0), 0);
  const sel = (family: string, labels = ''): string => `${family}{container="${name}"${labels ? `,${labels}` : ''}}`;

  test('process: execs and exits by container and comm, lifetimes as a histogram', async () => {
    // busybox sh runs its applets through /proc/self/exe: the comm at exec is "exe".
    const execs = await series(sel('eunomia_process_execs_total', 'comm="exe"'), (s) => value(s) >= 3);
    assert.ok(value(execs) >= 3);
    assert.equal(execs[0]!.metric.image, TEST_IMAGE);
    assert.match(execs[0]!.metric.container_id!, /^[0-9a-f]{12}$/, 'the short id, as docker ps shows it');
    assert.equal(execs[0]!.metric.pid, undefined, 'never a pid label');
    assert.equal(value(await series(sel('eunomia_process_exits_total', 'comm="dd",status="ok"'))), 1);
    // `sleep 30` was killed by the SIGTERM.
    assert.equal(value(await series(sel('eunomia_process_exits_total', 'comm="sleep",status="SIGTERM"'))), 1);
    const buckets = await series(`${sel('eunomia_process_lifetime_seconds_bucket', 'le="+Inf"')}`, (s) => value(s) >= 2);
    assert.equal(buckets.length, 1, 'one histogram per container (no comm)');
    assert.ok(value(await series(sel('eunomia_process_lifetime_seconds_sum'))) > 0);
  });

  test('files: dd\'s 300 KiB written, by container and comm', async () => {
    const bytes = await series(sel('eunomia_file_written_bytes_total', 'comm="dd",type="regular"'), (s) => value(s) >= 300 * 1024);
    assert.equal(value(bytes), 300 * 1024);
    assert.equal(value(await series(sel('eunomia_file_writes_total', 'comm="dd",type="regular"'))), 300);
    assert.ok(value(await series(sel('eunomia_file_reads_total'))) > 0);
    assert.ok(value(await series(sel('eunomia_file_read_bytes_total'))) > 0);
  });

  test('opensnoop, syscall, syscount: opens, and dd\'s write calls', async () => {
    assert.ok(value(await series(sel('eunomia_file_opens_total', 'comm="dd",result="ok"'))) >= 1);
    // Each `echo x > /tmp/y` dup2's twice (redirect, restore).
    assert.ok(value(await series(sel('eunomia_syscalls_total', 'comm="sh",syscall="dup2"'), (s) => value(s) >= 10)) >= 10);
    assert.ok(value(await series('eunomia_syscount_calls_total{syscall="write"}', (s) => value(s) >= 300)) >= 300);
  });

  test('tcp: connect and accept on port 7070 (host byte order), latency and RTT histograms, the bind', async () => {
    const conn = await series(sel('eunomia_tcp_connections_total', 'port="7070",result="0",comm="nc"'), (s) => s.length >= 2);
    // busybox nc listens on :: (dual stack): the accept is IPv6, the connect to 127.0.0.1 IPv4.
    assert.deepEqual(conn.map((s) => `${s.metric.direction} ${s.metric.family}`).sort(), ['accept ipv6', 'connect ipv4']);
    assert.equal(value(await series(sel('eunomia_tcp_connect_latency_seconds_count', 'family="ipv4"'))), 1);
    assert.ok(value(await series('eunomia_tcp_rtt_seconds_count')) > 0);
    assert.ok(value(await series(sel('eunomia_socket_binds_total', 'port="7070",protocol="TCP",result="0"'))) >= 1);
  });

  test('signals, capabilities, security syscalls, IPC', async () => {
    assert.equal(value(await series(sel('eunomia_signals_total', 'signal="SIGTERM",result="delivered"'))), 1);
    assert.ok(value(await series(sel('eunomia_capability_checks_total', 'capability="CAP_CHOWN",verdict="allowed"'))) >= 1);
    assert.ok(value(await series(sel('eunomia_security_syscalls_total', 'call="socket"'))) >= 1);
    assert.equal(value(await series('eunomia_ipc_calls_total{container="",comm="ipcmk",call="msgget"}')), 1);
    assert.equal(value(await series('eunomia_ipc_calls_total{container="",comm="ipcrm",call="msgctl"}')), 1);
  });

  test('the agent\'s own metrics: events, drops by stage, map insert failures, BPF CPU time, trackers, build info', async () => {
    assert.ok(value(await series('eunomia_events_total{tracker="process"}')) > 0);
    const drops = await series('eunomia_events_dropped_total{tracker="process"}', (s) => s.length === 2);
    assert.deepEqual(drops.map((s) => s.metric.stage).sort(), ['kernel', 'queue']);
    assert.equal(value(await series('eunomia_decode_errors_total')), 0);
    // the files map's insert failures: their own family, apart from dropped events
    assert.equal((await series('eunomia_map_insert_failures_total{tracker="files"}')).length, 1);
    assert.ok(value(await series('eunomia_bpf_program_runs_total{tracker="files"}')) > 0);
    assert.ok(value(await series('eunomia_bpf_program_run_seconds_total{tracker="files"}', (s) => value(s) > 0)) > 0);
    assert.equal(value(await series('eunomia_trackers_running{tracker="syscall"}')), 1);
    assert.ok((await series('eunomia_pipeline_dropped_total{stage="metrics"}')).length === 1);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await series('eunomia_build_info'))[0]!.metric.version, pkg.version);
    assert.ok(value(await series('process_resident_memory_bytes')) > 0);
  });
});
