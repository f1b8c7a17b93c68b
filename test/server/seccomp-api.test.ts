/**
 * GET /instances/:id/seccomp on a real `eunomia server` (a process, on a free loopback port,
 * container attribution on) recording a real Docker container: the profile as Docker JSON,
 * a SeccompProfile (YAML) and a summary; its query options; and the errors.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { dockerAsync, needsDocker, removeContainers, TEST_IMAGE, uniqueName } from '../docker.js';
import { freePort, KernelWatch, NOTHING_LEFT, repoRoot, waitFor } from '../helpers.js';
import { readProfile } from '../../src/seccomp/read.js';
import type { DockerProfile } from '../../src/seccomp/types.js';

const bin = join(repoRoot, 'bin/eunomia.js');
/** The container's work: list a directory and read a file, again and again. */
const LOOP = ['sh', '-c', 'while :; do ls / > /dev/null; cat /etc/hostname > /dev/null; sleep 0.2; done'];


interface Reply {
  status: number;
  type: string;
  text: string;
}

const seen = (p: DockerProfile): string[] => Object.entries(p.eunomia!.syscalls).filter(([, e]) => e.runs.length > 0).map(([n]) => n);
const allowed = (p: DockerProfile): Set<string> => new Set(p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
const errorOf = (r: Reply): { code: string; message: string } => (JSON.parse(r.text) as { error: { code: string; message: string } }).error;

describe('GET /instances/:id/seccomp: a real server recording a real container', { skip: needsDocker }, () => {
  let server: ChildProcess;
  let err = '';
  let base = '';
  const containers: string[] = [];
  const watch = new KernelWatch();
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-seccomp-api-'));
  const name = uniqueName('sc-api');
  let fullId = '';
  /** The seccomp instance recording `name` (started in before, stopped by the last test). */
  let rec: { status: number; body: { id: number; name: string; options: Record<string, unknown> } };

  const get = async (path: string): Promise<Reply> => {
    const r = await fetch(base + path);
    return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
  };
  const send = async (method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(base + path, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  /** Polls the profile until `ready` holds of it (the container keeps working meanwhile). */
  const profileWhen = async (id: number, ready: (p: DockerProfile) => boolean, ms = 20_000): Promise<DockerProfile> => {
    const end = Date.now() + ms;
    let last: Reply | undefined;
    for (;;) {
      last = await get(`/instances/${id}/seccomp`);
      if (last.status === 200 && ready(JSON.parse(last.text) as DockerProfile)) return JSON.parse(last.text) as DockerProfile;
      if (Date.now() > end) throw new Error(`instance ${id}: no ready profile within ${ms} ms; last answer ${last.status}: ${last.text.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Containers on (the default): the instance is given a container by name. No default trackers, no rules.
    server = spawn(process.execPath, [bin, 'server', '--listen', `127.0.0.1:${port}`, '--no-trackers', '--no-safe', '--metrics-listen', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr!.on('data', (d) => (err += d));
    await waitFor(() => /server listening/.test(err) || server.exitCode !== null, 'the server to start', 30_000);
    assert.match(err, new RegExp(`server listening on ${base}; 0 trackers running`), err);
    // Recording first, then the container: its start-up is in the profile, and a container
    // started under the profile runs (recorded mid-run, it may not: the last test).
    const r = await send('POST', '/instances', { tracker: 'seccomp', options: { container: name } });
    rec = { status: r.status, body: r.json as typeof rec.body };
    watch.note(server.pid);
    containers.push(name);
    fullId = await dockerAsync('run', '-d', '--name', name, TEST_IMAGE, ...LOOP);
  });

  after(async () => {
    removeContainers(...containers);
    rmSync(dir, { recursive: true, force: true });
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, err);
    }
    assert.doesNotMatch(err, /internal error|^\s+at /m, err);
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'the server released every program and map');
  });

  test('POST /instances {"tracker":"seccomp","options":{"container":NAME}}: 201 with the instance', () => {
    assert.equal(rec.status, 201, JSON.stringify(rec.body));
    assert.equal(rec.body.name, 'seccomp');
    assert.equal(rec.body.options.container, name);
    assert.ok(Number.isInteger(rec.body.id) && rec.body.id > 0);
  });

  test('the recording as a Docker profile: the container named in the provenance, what it did allowed, the rest refused', async () => {
    const id = rec.body.id;
    // ls lists / (getdents64), cat opens /etc/hostname: both are in once a few loops ran.
    const p = await profileWhen(id, (x) => ['getdents64', 'openat'].every((n) => seen(x).includes(n)));
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(p.defaultErrnoRet, 1);
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64']);
    const runs = p.eunomia!.runs;
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]!.target, { kind: 'container', name, id: fullId, image: TEST_IMAGE });
    assert.equal(runs[0]!.gate, 'filter', 'Docker runs it under its default filter');
    assert.equal(runs[0]!.midRun, undefined, 'recorded from its start');
    for (const n of ['getdents64', 'openat']) {
      assert.ok(allowed(p).has(n), `${n} allowed`);
      assert.ok(p.eunomia!.syscalls[n]!.count > 0);
      assert.deepEqual(p.eunomia!.syscalls[n]!.runs, ['r1']);
    }
    for (const n of ['mount', 'ptrace', 'unshare', 'setns', 'bpf', 'pivot_root']) {
      assert.ok(!seen(p).includes(n), `${n} not seen (the runtime's setup is not recorded)`);
      assert.ok(!allowed(p).has(n), `${n} not allowed`);
    }
    assert.ok(p.eunomia!.base.length > 0, 'a container\'s profile has the runtime base list');
    // A profile the CLI reads back, and Docker runs the container's work under.
    readProfile(JSON.stringify(p), 'api-profile.json');
    const file = join(dir, 'api-profile.json');
    writeFileSync(file, JSON.stringify(p));
    const out = await dockerAsync('run', '--rm', '--security-opt', `seccomp=${file}`, TEST_IMAGE, 'sh', '-c', 'ls / > /dev/null && cat /etc/hostname > /dev/null && echo ran-under-profile');
    assert.equal(out, 'ran-under-profile');
  });

  test('?format=spo: a SeccompProfile in YAML; ?name= names it', async () => {
    const id = rec.body.id;
    const r = await get(`/instances/${id}/seccomp?format=spo`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.type, /^application\/yaml/);
    const doc = parse(r.text) as { apiVersion: string; kind: string; metadata: { name: string; annotations: Record<string, string> }; spec: { defaultAction: string; syscalls: { names: string[]; action: string }[] } };
    assert.equal(doc.kind, 'SeccompProfile');
    assert.equal(doc.apiVersion, 'security-profiles-operator.x-k8s.io/v1beta1');
    assert.equal(doc.metadata.name, `eunomia-recording-${id}`);
    assert.equal(doc.metadata.annotations['eunomia/targets'], `r1 container ${name} (${TEST_IMAGE})`);
    assert.equal(doc.spec.defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(doc.spec.syscalls.some((s) => s.action === 'SCMP_ACT_ALLOW' && s.names.includes('getdents64')));
    const named = parse((await get(`/instances/${id}/seccomp?format=spo&name=web-recording&mode=kill`)).text) as typeof doc;
    assert.equal(named.metadata.name, 'web-recording');
    assert.equal(named.spec.defaultAction, 'SCMP_ACT_KILL_PROCESS');
  });

  test('?format=summary: the profile in words', async () => {
    const r = await get(`/instances/${rec.body.id}/seccomp?format=summary`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.type, /^text\/plain/);
    assert.match(r.text, /^Seccomp profile: SCMP_ACT_ERRNO: calls not allowed fail with EPERM; architectures SCMP_ARCH_X86_64\.\n/);
    assert.match(r.text, new RegExp(`^Made by Eunomia from 1 run:\\n {2}r1 {2}container ${name} \\(${TEST_IMAGE.replace(/[./]/g, '\\$&')}, ${fullId.slice(0, 12)}\\), .* gate filter$`, 'm'));
    assert.match(r.text, /^ {2}file I\/O \(\d+\):\n(?: {4}.*\n)*? {4}.*\bgetdents64 \d+/m);
    assert.match(r.text, /^Base list \(not seen; added because the container runtime calls them after installing the filter\):$/m);
    assert.doesNotMatch(r.text, /began while/, 'recorded from its start: no mid-run warning');
  });

  test('?mode=kill and ?mode=log: the default action; the same calls allowed', async () => {
    const id = rec.body.id;
    const kill = JSON.parse((await get(`/instances/${id}/seccomp?mode=kill`)).text) as DockerProfile;
    assert.equal(kill.defaultAction, 'SCMP_ACT_KILL_PROCESS');
    assert.equal(kill.defaultErrnoRet, undefined, 'no errno without the errno action');
    assert.ok(allowed(kill).has('getdents64'));
    const log = JSON.parse((await get(`/instances/${id}/seccomp?mode=log`)).text) as DockerProfile;
    assert.equal(log.defaultAction, 'SCMP_ACT_LOG');
  });

  test('?base=false: the profile without the runtime base list', async () => {
    const r = await get(`/instances/${rec.body.id}/seccomp?base=false`);
    assert.equal(r.status, 200, `?base=false is the documented query option (src/server/http.ts): ${r.text}`);
    const p = JSON.parse(r.text) as DockerProfile;
    assert.deepEqual(p.eunomia!.base, []);
    assert.deepEqual([...allowed(p)].filter((n) => !seen(p).includes(n) && n !== 'clone'), [], 'only what was seen is allowed');
    const withBase = await get(`/instances/${rec.body.id}/seccomp?base=true`);
    assert.equal(withBase.status, 200, withBase.text);
    assert.ok((JSON.parse(withBase.text) as DockerProfile).eunomia!.base.length > 0);
  });

  test('errors: another tracker\'s instance 400 E_REQUEST, a bad query 400, an unknown id 404, nothing recorded yet 409', async () => {
    const other = await send('POST', '/instances', { tracker: 'process' });
    assert.equal(other.status, 201, JSON.stringify(other.json));
    watch.note(server.pid);
    const otherId = other.json.id as number;
    try {
      const r = await get(`/instances/${otherId}/seccomp`);
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(errorOf(r), { code: 'E_REQUEST', message: `instance ${otherId} is a process tracker: start a seccomp instance ({"tracker": "seccomp", "options": {"container": "NAME"}})` });
    } finally {
      assert.equal((await send('DELETE', `/instances/${otherId}`)).status, 200);
    }

    const id = rec.body.id;
    const bad: [string, RegExp][] = [
      ['format=xml', /querystring format must be equal to one of the allowed values/],
      ['mode=bogus', /querystring mode must be equal to one of the allowed values/],
      ['name=Not_A_Name', /querystring name must match pattern/],
      ['frobnicate=1', /querystring must NOT have additional properties/],
    ];
    for (const [q, re] of bad) {
      const r = await get(`/instances/${id}/seccomp?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(errorOf(r).code, 'E_REQUEST', q);
      assert.match(errorOf(r).message, re, q);
    }
    const unknown = await get('/instances/999999/seccomp');
    assert.equal(unknown.status, 404, unknown.text);
    assert.deepEqual(errorOf(unknown), { code: 'E_NOT_FOUND', message: 'no tracker instance with id 999999' });
    const notId = await get('/instances/abc/seccomp');
    assert.equal(notId.status, 400);
    assert.equal(errorOf(notId).code, 'E_REQUEST');

    // A container that does not exist yet: nothing recorded (409) until it starts; then recorded from its start.
    const later = uniqueName('sc-api-later');
    containers.push(later);
    const waiting = await send('POST', '/instances', { tracker: 'seccomp', options: { container: later } });
    assert.equal(waiting.status, 201, JSON.stringify(waiting.json));
    watch.note(server.pid);
    const wid = waiting.json.id as number;
    try {
      const none = await get(`/instances/${wid}/seccomp`);
      assert.equal(none.status, 409, none.text);
      assert.equal(errorOf(none).code, 'E_STATE');
      assert.match(errorOf(none).message, new RegExp(`^instance ${wid} has recorded nothing yet`));
      const laterId = await dockerAsync('run', '-d', '--name', later, TEST_IMAGE, ...LOOP);
      const p = await profileWhen(wid, (x) => seen(x).includes('getdents64'));
      assert.deepEqual(p.eunomia!.runs.map((x) => x.target), [{ kind: 'container', name: later, id: laterId, image: TEST_IMAGE }]);
    } finally {
      assert.equal((await send('DELETE', `/instances/${wid}`)).status, 200);
    }
  });

  test('a container already running: the run says it began mid-run, and the summary warns its start-up is missing', async () => {
    const early = uniqueName('sc-api-early');
    containers.push(early);
    await dockerAsync('run', '-d', '--name', early, TEST_IMAGE, ...LOOP);
    // Known to the server yet or named by Docker's events later: either way it was running when selected.
    const started = await send('POST', '/instances', { tracker: 'seccomp', options: { container: early } });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    watch.note(server.pid);
    const eid = started.json.id as number;
    try {
      const p = await profileWhen(eid, (x) => seen(x).includes('getdents64'));
      assert.equal(p.eunomia!.runs.length, 1);
      assert.equal(p.eunomia!.runs[0]!.target.name, early);
      assert.equal(p.eunomia!.runs[0]!.midRun, true);
      const text = (await get(`/instances/${eid}/seccomp?format=summary`)).text;
      assert.match(text, new RegExp(`^ {2}r1 {2}container ${early} .* gate filter, begun while it ran$`, 'm'));
      assert.match(text, new RegExp(`^ {2}run r1 began while ${early} was running: its start-up .* is not in the profile, and a container started under it may fail`, 'm'));
    } finally {
      assert.equal((await send('DELETE', `/instances/${eid}`)).status, 200);
    }
  });

  test('DELETE the instance: 200 with its counters; then its profile is 404', async () => {
    const id = rec.body.id;
    const del = await send('DELETE', `/instances/${id}`);
    assert.equal(del.status, 200, JSON.stringify(del.json));
    assert.equal(del.json.id, id);
    assert.equal((del.json.stats as { lostKernel: number }).lostKernel, 0);
    const gone = await get(`/instances/${id}/seccomp`);
    assert.equal(gone.status, 404, gone.text);
    assert.equal(errorOf(gone).code, 'E_NOT_FOUND');
    const list = JSON.parse((await get('/instances')).text) as { instances: unknown[] };
    assert.deepEqual(list.instances, [], 'nothing left running');
  });
});
