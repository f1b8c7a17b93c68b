/**
 * The security analyzer: pipeline throughput with every built-in rule loaded versus none, and
 * the time from the attacking syscall (the event's kernel timestamp) to the alert.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Analyzer } from '../src/analyzer/analyzer.js';
import { ProcessTree } from '../src/analyzer/process-tree.js';
import { loadRules } from '../src/rules/index.js';
import type { NativeBinding } from '../src/core/native.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { countingSink } from '../src/pipeline/handlers.js';
import type { TrackerEvent } from '../src/pipeline/types.js';
import { Agent } from '../src/server/agent.js';
import { defaultConfig } from '../src/server/config.js';

const run = promisify(execFile);
const IMAGE = 'eunomia-test/busybox:3';
const web = Object.freeze({ id: 'cd7a6582a036', full_id: 'cd7a6582a036'.padEnd(64, '0'), name: 'web', image: 'nginx:1' });

/** A mix like a busy container host: execs and opens, mostly benign, from containers. */
function event(i: number): TrackerEvent {
  const k = i % 4;
  const base = { pid: 1000 + (i & 4095), tid: 1000 + (i & 4095), ppid: 1, uid: 0, gid: 0, container: web };
  if (k === 0) return { tracker: 'process', instance: 1, time: i, data: { ...base, type: 'exec', comm: 'python3', exe: '/usr/bin/python3', args: ['python3', 'app.py'] } };
  if (k === 1) return { tracker: 'tcpconnect', instance: 3, time: i, data: { ...base, comm: 'python3', direction: 'connect', daddr: '10.0.0.7', dport: 5432 } };
  return { tracker: 'opensnoop', instance: 2, time: i, data: { ...base, comm: 'nginx', path: '/usr/share/nginx/html/index.html', flags: 'O_RDONLY|O_CLOEXEC', fd: 7 } };
}

// Made once: the analyzer only reads events, so the timed loop measures the pipeline alone.
const EVENTS = Array.from({ length: 4096 }, (_, i) => event(i));

function throughput(withRules: boolean, n: number): number {
  const handlers = withRules ? [new Analyzer({ rules: loadRules([]), tree: new ProcessTree({ proc: () => undefined }) })] : [];
  const sink = countingSink();
  const p = new Pipeline({ handlers, sinks: [sink] });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) p.push(EVENTS[i & 4095]!);
  return n / ((performance.now() - t0) / 1000);
}

async function alertLatency(native: NativeBinding, runs: number): Promise<void> {
  const config = defaultConfig();
  config.trackers = [{ name: 'process', options: {} }];
  config.rules.burst = 1000; // every run's alert, not a throttled few
  const agent = await Agent.start(config, { native, log: () => {} });
  const lat: number[] = [];
  try {
    await run('docker', ['rm', '-f', 'eunomia-bench-rules']).catch(() => {});
    await run('docker', ['run', '-d', '--name', 'eunomia-bench-rules', IMAGE, 'sleep', '3600']);
    for (let i = 0; i < runs; i++) {
      const seen = new Promise<number>((resolve) => {
        const off = agent.analyzer!.subscribe((a) => {
          if (a.rule !== 'shell_in_container' || a.container?.name !== 'eunomia-bench-rules') return;
          off();
          resolve(Date.now() - Date.parse(a.time)); // alert out − the exec's kernel timestamp
        });
      });
      await run('docker', ['exec', 'eunomia-bench-rules', 'sh', '-c', 'true']);
      lat.push(await seen);
    }
  } finally {
    await run('docker', ['rm', '-f', 'eunomia-bench-rules']).catch(() => {});
    await agent.close();
  }
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  console.log(`attack (exec of a shell in a container) → alert, ${runs} runs: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms (target p95 < 100 ms)`);
}

export async function rulesBench(native: NativeBinding): Promise<void> {
  const n = 1_000_000;
  throughput(false, n / 5);
  throughput(true, n / 5);
  const none: number[] = [];
  const all: number[] = [];
  for (let r = 0; r < 3; r++) {
    none.push(throughput(false, n));
    all.push(throughput(true, n));
  }
  const a = Math.max(...none);
  const b = Math.max(...all);
  const rules = loadRules([]).rules().length;
  console.log(`rules: pipeline throughput, 1M container events (execs, connects, opens; mostly benign), best of 3:`);
  console.log(`  no rules ${(a / 1e6).toFixed(2)} M ev/s, all ${rules} built-in rules ${(b / 1e6).toFixed(2)} M ev/s: rules cost ${((1 - b / a) * 100).toFixed(1)} % of the bare pipeline (target < 25 %), ${(1e9 / b - 1e9 / a).toFixed(0)} ns per event`);
  try {
    await run('docker', ['image', 'inspect', IMAGE]);
  } catch {
    console.log(`  alert latency: skipped — no Docker engine with ${IMAGE} (run scripts/test-env.sh as root)`);
    return;
  }
  await alertLatency(native, 30);
}
