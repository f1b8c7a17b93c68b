/**
 * `eunomia seccomp record` of a real Docker container, started after the recording began: a
 * web server (busybox httpd), a shell loop and a Node HTTP server, exercised over the network.
 * Its profile then starts the same image again (`docker run --security-opt seccomp=…`), which
 * serves the same answers; a call outside it (unshare) fails with EPERM, or kills under a
 * kill-mode profile — and succeeds without a profile, so the refusal is the profile's; under a
 * log-mode profile it runs, and the seccomplog tracker names it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { docker, dockerAsync, needsDocker, removeContainers, uniqueName } from '../docker.js';
import { repoRoot } from '../helpers.js';
import type { DockerProfile } from '../../src/seccomp/types.js';

const IMAGE = 'eunomia-fleet/node:1'; // scripts/fleet-images.sh: busybox and this machine's node
const bin = join(repoRoot, 'bin/eunomia.js');

// One line, double quotes only: it goes into the shell command in single quotes.
const NODE_APP = 'const http = require("http"), fs = require("fs"), crypto = require("crypto"); ' +
  'http.createServer((req, res) => fs.readFile("/var/www/items.csv", (e, b) => res.end(e ? "error" : crypto.createHash("sha256").update(b).digest("hex")))).listen(8081);';
/** The workload: httpd on 8080, a shell loop writing a file, node on 8081 (as pid 1). */
const WORKLOAD = ['sh', '-c', `httpd -f -p 8080 -h /var/www & (while :; do date > /tmp/now; ls /var/www > /dev/null; sleep 0.2; done) & exec node -e '${NODE_APP}'`];

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
  });
}

/** What the container's workload serves, once both servers answer (they start within a few seconds). */
async function answers(name: string): Promise<string[]> {
  const end = Date.now() + 20_000;
  for (;;) {
    const ip = docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', name);
    try {
      return await Promise.all([fetchText(`http://${ip}:8080/index.html`), fetchText(`http://${ip}:8080/items.csv`), fetchText(`http://${ip}:8081/`)]);
    } catch (e) {
      if (Date.now() > end) {
        const state = docker('inspect', '-f', '{{.State.Status}} exit {{.State.ExitCode}}', name);
        throw new Error(`${name} (${ip}, ${state}) does not answer: ${(e as Error).message}; its log: ${docker('logs', '--tail', '20', name)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** `docker run --rm` of a shell command; its output (stdout and stderr). */
async function runShell(extra: string[], script: string): Promise<string> {
  return dockerAsync('run', '--rm', ...extra, IMAGE, 'sh', '-c', `{ ${script}; } 2>&1`);
}

describe('seccomp record → profile → docker run', { skip: needsDocker }, () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  test('a container recorded from its start runs again under its profile; what it never did is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-seccomp-'));
    const out = join(dir, 'web.json');
    const name = uniqueName('sc-web');
    names.push(name);
    // Recording starts before the container exists: it is recorded from its start.
    const rec = spawn(bin, ['seccomp', 'record', '--container', name, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    rec.stderr!.on('data', (d) => (err += d));
    const recExit = new Promise<number | null>((r) => rec.on('exit', (c) => r(c)));
    while (!/recording container/.test(err)) {
      assert.equal(rec.exitCode, null, `record exited early: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await dockerAsync('run', '-d', '--name', name, IMAGE, ...WORKLOAD);
    const first = await answers(name);
    for (let i = 0; i < 5; i++) assert.deepEqual(await answers(name), first);
    await dockerAsync('stop', '-t', '1', name); // the recording ends when the container does
    assert.equal(await recExit, 0, err);

    const profile = JSON.parse(readFileSync(out, 'utf8')) as DockerProfile;
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64']);
    assert.equal(profile.eunomia?.runs[0]?.target.name, name);
    assert.equal(profile.eunomia?.runs[0]?.gate, 'filter', 'Docker ran it under its default filter: the recording starts exactly there');
    const allowed = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
    // httpd accepts and sends files, node runs threads, the shell execs ls.
    for (const s of ['accept', 'sendfile', 'futex', 'execve', 'openat', 'getdents64']) assert.ok(allowed.has(s), `${s} in the profile`);
    for (const s of ['unshare', 'mount', 'ptrace', 'keyctl', 'pivot_root']) assert.ok(!allowed.has(s), `${s} is not in the profile (the runtime's setup is not recorded)`);
    assert.match(err, /syscalls/i, 'the summary is printed');

    // The same image and command under the profile: it starts and serves the same answers.
    const again = uniqueName('sc-web2');
    names.push(again);
    await dockerAsync('run', '-d', '--name', again, '--security-opt', `seccomp=${out}`, IMAGE, ...WORKLOAD);
    assert.deepEqual(await answers(again), first);

    // What the workload never did: refused with EPERM by the profile, allowed without one.
    const refused = await runShell(['--security-opt', `seccomp=${out}`], 'unshare -U true; echo rc=$?');
    assert.match(refused, /Operation not permitted/);
    assert.match(refused, /rc=1/);
    assert.match(await runShell(['--security-opt', 'seccomp=unconfined'], 'unshare -U true; echo rc=$?'), /rc=0/);

    // The same profile in kill mode: the call kills the process (SIGSYS: 128 + 31).
    const kill = join(dir, 'web-kill.json');
    writeFileSync(kill, JSON.stringify({ ...profile, defaultAction: 'SCMP_ACT_KILL_PROCESS', defaultErrnoRet: undefined }));
    assert.match(await runShell(['--security-opt', `seccomp=${kill}`], 'unshare -U true; echo rc=$?'), /rc=159/);

    // Log mode, as Docker runs it: the call runs, and seccomplog names it, its container and process —
    // and nothing of what the workload did while recorded (the shell, ls).
    const logProfile = join(dir, 'web-log.json');
    writeFileSync(logProfile, JSON.stringify({ ...profile, defaultAction: 'SCMP_ACT_LOG', defaultErrnoRet: undefined }));
    const logged = uniqueName('sc-log');
    const chowner = uniqueName('sc-chown');
    names.push(logged, chowner);
    const watcher = spawn(bin, ['run', 'seccomplog', '--container', logged, '--container', chowner, '--profile', logProfile, '-f', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let events = '';
    let werr = '';
    watcher.stdout!.on('data', (d) => (events += d));
    watcher.stderr!.on('data', (d) => (werr += d));
    try {
      while (!/tracker started/.test(werr)) {
        assert.equal(watcher.exitCode, null, `seccomplog exited: ${werr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const output = await dockerAsync('run', '--name', logged, '--security-opt', `seccomp=${logProfile}`, IMAGE, 'sh', '-c', '{ ls /var/www > /dev/null; unshare -U true; echo rc=$?; } 2>&1');
      assert.match(output, /rc=0/, 'log mode lets the call run');
      const reported = async (): Promise<{ syscall?: string; outside: string; comm: string; container?: { name: string } }[]> =>
        events.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const end = Date.now() + 10_000;
      while (!(await reported()).some((e) => e.syscall === 'unshare') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      const got = await reported();
      assert.deepEqual(got.map((e) => `${e.outside} ${e.syscall} ${e.comm} ${e.container?.name}`), [`syscall unshare unshare ${logged}`], werr);

      // A capability the recording never used (chown to another user needs CAP_CHOWN): reported too.
      assert.ok(!profile.eunomia!.capabilities.used.includes('CAP_CHOWN'), 'the web workload never chowned');
      await dockerAsync('run', '--name', chowner, '--security-opt', `seccomp=${logProfile}`, IMAGE, 'sh', '-c', 'touch /tmp/f && chown 1000 /tmp/f');
      const caps = async () => (await reported()).filter((e) => e.outside === 'capability' && e.container?.name === chowner).map((e) => (e as { capability?: string }).capability);
      const capEnd = Date.now() + 10_000;
      while (!(await caps()).includes('CAP_CHOWN') && Date.now() < capEnd) await new Promise((r) => setTimeout(r, 100));
      assert.ok((await caps()).includes('CAP_CHOWN'), `CAP_CHOWN reported: ${events}`);
    } finally {
      watcher.kill('SIGINT');
      await new Promise((r) => watcher.once('exit', r));
    }
  });
});
