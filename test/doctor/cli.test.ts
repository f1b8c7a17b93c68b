/** `eunomia doctor` as users run it, and the summary `eunomia server` logs once it listens. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PROGRAM_KINDS } from '../../src/core/kernel-probe.js';
import { trackers as catalogue } from '../../src/trackers/registry.js';
import { freePort, needsRoot, repoRoot, waitFor } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');

function doctor(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, 'doctor', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

function isSocket(p: string): boolean {
  try {
    return statSync(p).isSocket();
  } catch {
    return false;
  }
}

describe('eunomia doctor', () => {
  test('a bad flag is a usage error naming it', () => {
    const r = doctor(['--bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Unknown option '--bogus' — see "eunomia doctor --help"/);
    assert.match(doctor(['--help']).stdout, /^Usage: eunomia doctor \[--json\]/);
  });

  test('--json: the documented fields, consistent with the host; exit status follows "ok"', { skip: needsRoot }, () => {
    const r = doctor(['--json']);
    const j = JSON.parse(r.stdout);
    console.log(`# eunomia doctor --json: ${Math.round(r.ms)} ms from spawn to exit; the report itself ${j.ms} ms`);
    assert.equal(r.status, j.ok ? 0 : 1, r.stderr);
    for (const key of ['eunomia', 'ok', 'problems', 'kernel', 'btf', 'privileges', 'memlock', 'tracefs', 'cgroup', 'lsms', 'programKinds', 'runtimes', 'trackers', 'rules', 'summary', 'ms']) {
      assert.ok(key in j, `field ${key}`);
    }
    assert.equal(j.ok, j.problems.length === 0);
    assert.equal(j.kernel.release, release());
    assert.match(j.kernel.libbpf, /^v?\d+\.\d+/);
    assert.equal(j.btf.present, existsSync('/sys/kernel/btf/vmlinux'));
    assert.equal(j.privileges.uid, process.getuid!());
    assert.ok(j.privileges.capabilities.effective.includes('CAP_SYS_ADMIN') || j.privileges.capabilities.effective.includes('CAP_BPF'));
    assert.deepEqual(j.programKinds.map((k: { kind: string }) => k.kind), [...PROGRAM_KINDS]);
    assert.equal(j.programKinds.find((k: { kind: string }) => k.kind === 'kprobe').ok, existsSync('/sys/bus/event_source/devices/kprobe') || (j.tracefs.path !== null && j.tracefs.kprobeEvents));
    for (const x of j.runtimes) assert.equal(x.present, isSocket(x.socket), `${x.runtime} at ${x.socket}`);
    assert.deepEqual(j.trackers.map((t: { name: string }) => t.name), catalogue.map((t) => t.name));
    for (const t of j.trackers) {
      assert.equal(typeof t.canRun, 'boolean');
      if (!t.canRun) assert.ok(t.reason && t.todo, `${t.name} says why and what to do`);
    }
    assert.ok(j.rules.length >= 100, `${j.rules.length} rules`);
    assert.ok(j.summary.length >= 4);
  });

  test('without privileges: not ok, every kind refused for that reason, and the reason is the first problem', { skip: needsRoot }, () => {
    // setpriv: the same command as an unprivileged user (nobody), no capabilities.
    const t0 = performance.now();
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, bin, 'doctor', '--json'], { encoding: 'utf8', timeout: 60_000 });
    console.log(`# eunomia doctor --json as nobody: ${Math.round(performance.now() - t0)} ms`);
    assert.equal(r.status, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    assert.equal(j.privileges.bpf, false);
    assert.deepEqual(j.privileges.capabilities.effective, []);
    assert.match(j.problems[0], /may not load eBPF — run as root/);
    for (const k of j.programKinds) {
      assert.equal(k.ok, false, k.kind);
      assert.ok(k.errno === 1 || k.errno === 13, `${k.kind}: errno ${k.errno}`);
      assert.match(k.reason, /needs root/);
    }
    for (const t of j.trackers) assert.equal(t.canRun, false, t.name);
    assert.match(j.summary.at(-1), /^the defaults cannot all run here: this process may not load eBPF/);
  });

  test('the text names every section, kind and tracker', { skip: needsRoot }, () => {
    const r = doctor([]);
    for (const h of ['Kernel', 'Program kinds', 'This process', 'Container runtimes', 'Trackers', 'Rules:', 'Summary']) assert.match(r.stdout, new RegExp(`^${h}`, 'm'), h);
    for (const k of PROGRAM_KINDS) assert.match(r.stdout, new RegExp(`^  ${k} +(yes|NO  (load|attach|active))`, 'm'), k);
    for (const t of catalogue) assert.match(r.stdout, new RegExp(`^  ${t.name} +(can run|CANNOT run)`, 'm'), t.name);
    assert.match(r.stdout, /^  memlock +/m);
    assert.match(r.stdout, /^  capabilities +/m);
  });

  test('the server logs the summary once it listens', { skip: needsRoot }, async () => {
    const port = await freePort();
    const server = spawn(process.execPath, [bin, 'server', '--listen', `127.0.0.1:${port}`, '--metrics-listen', 'off', '--no-store'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    server.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => server.on('exit', (c) => r(c)));
    try {
      await waitFor(() => /doctor: the defaults/.test(err) || server.exitCode !== null, 'the doctor summary', 60_000);
      const lines = err.split('\n');
      const listening = lines.findIndex((l) => l.includes('server listening on'));
      const first = lines.findIndex((l) => l.startsWith('eunomia: doctor: '));
      assert.ok(listening >= 0 && first > listening, `the summary follows the listening line:\n${err}`);
      assert.match(err, /^eunomia: doctor: kernel \S+ \(/m);
      assert.match(err, /^eunomia: doctor: program kinds: .*tracepoint/m);
      assert.match(err, /^eunomia: doctor: container runtimes: docker /m);
      assert.match(err, /^eunomia: doctor: trackers: \d+ of \d+ can run here.*; rules: \d+ of \d+ can run$/m);
    } finally {
      server.kill('SIGINT');
      assert.equal(await exited, 0, err);
    }
  });
});
