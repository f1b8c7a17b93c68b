/** The `eunomia` command as users run it: real process, real kernel, real signals. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KernelWatch, NOTHING_LEFT, needsRoot, repoRoot, waitFor } from '../helpers.js';

const bin = join(repoRoot, 'bin/eunomia.js');

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Cli {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function cliSync(args: string[], opts: { env?: NodeJS.ProcessEnv; prefix?: string[] } = {}) {
  const cmd = opts.prefix ? opts.prefix[0] : process.execPath;
  const argv = opts.prefix ? [...opts.prefix.slice(1), process.execPath, bin, ...args] : [bin, ...args];
  return spawnSync(cmd, argv, { env: { ...process.env, ...opts.env }, encoding: 'utf8' });
}

describe('eunomia CLI', () => {
  test('trackers lists the catalogue with options', () => {
    const r = cliSync(['trackers']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^process\s+process exec and exit/m);
    assert.match(r.stdout, /--min-duration/);
  });

  test('usage errors are one clear line and exit code 2', () => {
    const fmt = cliSync(['run', 'process', '--fmt', 'xml']);
    assert.equal(fmt.status, 2);
    assert.equal(fmt.stderr.trim().split('\n').length, 1);
    assert.match(fmt.stderr, /unknown output format "xml" — use plain, json or csv/);
    const flag = cliSync(['run', 'process', '--bogus']);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /Unknown option '--bogus'/);
    const pid = cliSync(['run', 'process', '-p', 'abc']);
    assert.match(pid.stderr, /--pid expects a non-negative integer, got "abc"/);
    const ml = cliSync(['run', 'process', '--metrics-listen', '127.0.0.1:9']);
    assert.equal(ml.status, 2);
    assert.match(ml.stderr, /--metrics-listen needs --prometheus/);
    assert.match(cliSync(['run', 'process', '--bpf-stats']).stderr, /--bpf-stats needs --prometheus/);
    const tr = cliSync(['run', 'nosuch']);
    assert.equal(tr.status, 1);
    assert.match(tr.stderr, /unknown tracker "nosuch" — available: process/);
  });

  test('run --help ends with examples', () => {
    const r = cliSync(['run', 'process', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /-p, --pid PID/);
    assert.match(r.stdout, /Examples:\n {2}sudo eunomia run process/);
  });

  test('not root: one line that says so and how to fix it', { skip: needsRoot ? 'already not root: covered by the root check itself' : false }, () => {
    const r = cliSync(['run', 'process'], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim(), 'eunomia: loading eBPF programs needs root (or CAP_BPF and CAP_PERFMON) — run with sudo');
  });

  test('a missing eBPF object: one line naming it and how to build it', { skip: needsRoot }, () => {
    const empty = mkdtempSync(join(tmpdir(), 'eunomia-empty-'));
    const r = cliSync(['run', 'process'], { env: { EUNOMIA_BPF_DIR: empty } });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /eBPF object .*process\.bpf\.o cannot be read: .*no such file.* — run "npm run setup" to build it/i);
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`${sig} stops cleanly: events printed, summary of seen and lost, nothing left in the kernel`, { skip: needsRoot }, async () => {
      const cli = startCli(['run', 'process', '--fmt', 'json']);
      await waitFor(() => /started/.test(cli.stderr()), 'the tracker to start', 10000);
      const watch = new KernelWatch();
      assert.ok(watch.note(cli.child.pid) >= 5, 'the CLI holds its programs, links and maps');
      const marker = `marker-${sig}-${process.pid}`;
      const child = spawnSync('/bin/echo', [marker, 'x y']);
      await waitFor(() => cli.stdout().includes(marker), 'the exec event on stdout');
      cli.child.kill(sig);
      assert.equal(await cli.exited, 0, cli.stderr());
      const events = cli.stdout().trim().split('\n').map((l) => JSON.parse(l));
      const exec = events.find((e) => e.type === 'exec' && e.pid === child.pid);
      assert.ok(exec, 'exec event of our command');
      assert.equal(exec.tracker, 'process');
      assert.deepEqual(exec.args, ['/bin/echo', marker, 'x y']);
      assert.match(exec.time, /^\d{4}-\d\d-\d\dT/);
      const exit = events.find((e) => e.type === 'exit' && e.pid === child.pid);
      assert.equal(exit?.exit_code, 0);
      assert.match(cli.stderr(), /process: \d+ events seen, 0 lost \(kernel ring buffer 0, native queue 0, output 0\)/);
      const seen = Number(/process: (\d+) events seen/.exec(cli.stderr())![1]);
      assert.equal(seen, events.length, 'every event seen was written');
      assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'bpftool lists none of them');
    });
  }

  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    test(`a program using the library that dies from an unhandled ${sig} leaves nothing attached`, { skip: needsRoot }, async () => {
      const script = `
        const { TrackerManager } = await import(${JSON.stringify(join(repoRoot, 'dist/src/runtime/manager.js'))});
        const { loadNative } = await import(${JSON.stringify(join(repoRoot, 'dist/src/core/native.js'))});
        const { systemClock } = await import(${JSON.stringify(join(repoRoot, 'dist/src/core/clock.js'))});
        const { findTracker } = await import(${JSON.stringify(join(repoRoot, 'dist/src/trackers/registry.js'))});
        const m = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: () => {} });
        m.start(findTracker('process'));
        console.log('started');
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await waitFor(() => out.includes('started'), 'the tracker to start', 10000);
      const watch = new KernelWatch();
      assert.ok(watch.note(child.pid) >= 5, 'its programs, links and maps are loaded');
      const exited = new Promise((r) => child.on('exit', (_c, s) => r(s)));
      child.kill(sig);
      assert.equal(await exited, sig);
      assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'the kernel released everything with its fds');
    });
  }

  test('-T stops by itself; -o writes CSV to a file; original format spellings work', { skip: needsRoot }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-out-'));
    const file = join(dir, 'events.csv');
    const cli = startCli(['run', 'process', '-T', '2', '-o', file, '--fmt', 'csv']);
    await waitFor(() => /started/.test(cli.stderr()), 'the tracker to start', 10000);
    const child = spawnSync('/bin/echo', ['csv-check']);
    assert.equal(await cli.exited, 0, cli.stderr());
    assert.equal(cli.stdout(), '', 'nothing on stdout with -o');
    const lines = readFileSync(file, 'utf8').trim().split('\r\n');
    assert.equal(lines[0], 'time,type,pid,ppid,uid,comm,exit_code,exit_signal,duration_ns,exe,args,container.id,container.name,container.image,k8s.namespace,k8s.pod');
    assert.ok(lines.some((l) => l.includes(`,exec,${child.pid},`) && l.endsWith(',/usr/bin/echo,"[""/bin/echo"",""csv-check""]",host,host,,,')), 'raw values, args as a JSON list, then the container (host)');
    for (const alias of ['plain_text', 'plain_txt', 'json_format']) {
      const r = cliSync(['run', 'process', '--fmt', alias, '-T', '1']);
      assert.equal(r.status, 0, `${alias}: ${r.stderr}`);
    }
  });

  test('run --prometheus serves the tracker\'s families and the agent\'s own on --metrics-listen', { skip: needsRoot }, async () => {
    const port = 20000 + (process.pid % 20000);
    const cli = startCli(['run', 'process', '--prometheus', '--metrics-listen', `127.0.0.1:${port}`, '--bpf-stats', '-T', '20', '-o', '/dev/null']);
    try {
      await waitFor(() => /Prometheus metrics on/.test(cli.stderr()) && /started/.test(cli.stderr()), 'the tracker and the metrics server', 10000);
      // A name of its own: other processes on the host running true do not count.
      const comm = `true${process.pid}`.slice(0, 15);
      const prog = join(mkdtempSync(join(tmpdir(), 'eunomia-true-')), comm);
      copyFileSync('/bin/true', prog);
      for (let i = 0; i < 3; i++) spawnSync(prog);
      let text = '';
      const seen = async (): Promise<boolean> => {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return new RegExp(`^eunomia_process_exits_total\\{comm="${comm}",status="ok"\\} 3$`, 'm').test(text);
      };
      for (let i = 0; i < 50 && !(await seen()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(text, new RegExp(`^eunomia_process_execs_total\\{comm="${comm}"\\} 3$`, 'm'), 'host processes: no container labels');
      assert.match(text, new RegExp(`^eunomia_process_exits_total\\{comm="${comm}",status="ok"\\} 3$`, 'm'));
      assert.match(text, /^eunomia_events_total\{tracker="process"\} \d+$/m);
      assert.match(text, /^eunomia_bpf_program_runs_total\{tracker="process",program="handle_exec"\} [1-9]\d*$/m);
      assert.doesNotMatch(text, /eunomia_file_/, 'only the tracker it runs');
    } finally {
      cli.child.kill('SIGINT');
      await cli.exited;
    }
  });
});
