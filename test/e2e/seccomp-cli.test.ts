/**
 * `eunomia seccomp` as a user runs it: bin/eunomia.js as a process, real commands, the real
 * kernel. A command is recorded into a profile, run again under it (and under a copy edited to
 * lack a call it needs, in each mode); two real recordings are diffed, merged, checked, summed up
 * and written as a SeccompProfile; bad input gets one clear line and a non-zero exit.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { needsRoot, repoRoot } from '../helpers.js';
import type { DockerProfile } from '../../src/seccomp/types.js';

const bin = join(repoRoot, 'bin/eunomia.js');
const cc = ['/usr/bin/cc', '/usr/bin/gcc'].find((p) => existsSync(p));
const needsCc: string | false = !cc && 'a C compiler (cc) is not installed: the probe program is built with it';

interface Ran {
  code: number | null;
  stdout: string;
  /** stderr without the launcher's notice about a stale bundle (a build without scripts/bundle.js: not the command's). */
  stderr: string;
  pid: number;
}

const STALE_BUNDLE = /^eunomia: the CLI bundle is missing or older than the compiled code.*\n/m;

function eunomia(args: string[], cwd?: string): Ran {
  const r = spawnSync(process.execPath, [bin, 'seccomp', ...args], { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(STALE_BUNDLE, ''), pid: r.pid };
}

/** The same command without eunomia: what it prints and how it exits. */
function direct(cmd: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout };
}

/** A user-facing error: the messages on stderr, no stack trace, no "internal error". */
function assertClean(r: Ran, what: string): void {
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: a stack trace on stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/, `${what}: ${r.stderr}`);
}

/** The cgroups a `seccomp record` process made (src/seccomp/cgroup.ts names them by its pid): none must be left. */
function cgroupsOf(pid: number): string[] {
  return readdirSync('/sys/fs/cgroup').filter((n) => n.startsWith(`eunomia-seccomp-${pid}-`));
}

/** `s` as a regular expression that matches it literally. */
const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const readJson = (file: string): DockerProfile => JSON.parse(readFileSync(file, 'utf8')) as DockerProfile;
/** The syscalls a profile's runs saw (provenance; the base list's have no run). */
const seen = (p: DockerProfile): string[] => Object.entries(p.eunomia!.syscalls).filter(([, e]) => e.runs.length > 0).map(([n]) => n).sort();
/** The syscalls an ALLOW rule names. */
const allowed = (p: DockerProfile): Set<string> => new Set(p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));

/** A copy of a profile file with `name` taken out of every rule, as a user would edit the JSON. */
function without(file: string, name: string, out: string): string {
  const p = readJson(file);
  const before = p.syscalls.reduce((n, r) => n + r.names.filter((x) => x === name).length, 0);
  assert.ok(before > 0, `${name} is in a rule of ${file}`);
  p.syscalls = p.syscalls.map((r) => ({ ...r, names: r.names.filter((x) => x !== name) })).filter((r) => r.names.length > 0);
  writeFileSync(out, JSON.stringify(p, null, 2));
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'eunomia-seccomp-cli-'));
const tree = join(dir, 'tree');
mkdirSync(tree);
writeFileSync(join(tree, 'hello'), 'hello from the tree\n');
writeFileSync(join(tree, 'b'), 'b\n');
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A program whose calls are known: it lists a directory (getdents64) and, with "net", also
 * opens an AF_INET socket — the one thing the second recording adds.
 */
const PROBE = `
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(int argc, char **argv) {
  if (argc < 3) return 64;
  DIR *d = opendir(argv[2]);
  if (!d) { perror("opendir"); return 1; }
  char *names[64]; int n = 0; struct dirent *e;
  while ((e = readdir(d)) && n < 64) if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  for (int i = 0; i < n; i++) printf("%s\\n", names[i]);
  if (!strcmp(argv[1], "net")) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) { perror("socket"); return 2; }
    close(s);
    printf("socket ok\\n");
  }
  return 0;
}
`;

describe('seccomp record → run, on a command', { skip: needsRoot }, () => {
  // ls becomes the process (exec): a kill by the filter is the command's own death. No core file.
  const CMD = ['sh', '-c', `ulimit -c 0; exec ls -a ${tree}`];
  const A = join(dir, 'ls.json');
  let recorded: Ran | undefined;

  before(() => {
    recorded = eunomia(['record', '-o', A, '--', ...CMD], dir);
  });

  test('record: the command\'s own output and exit status; a profile of what it called, from its exec', () => {
    const r = recorded!;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, direct(CMD).stdout, 'the command\'s output, and nothing else, on stdout');
    assert.match(r.stdout, /^\.\n\.\.\nb\nhello\n$/);
    assertClean(r, 'record');
    assert.deepEqual(cgroupsOf(r.pid), [], 'the command\'s cgroup is removed');

    const p = readJson(A);
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(p.defaultErrnoRet, 1);
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64']);
    const runs = p.eunomia!.runs;
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.id, 'r1');
    assert.deepEqual(runs[0]!.target, { kind: 'command', name: CMD.join(' ') });
    assert.equal(runs[0]!.gate, 'filter', 'the launcher installs an allow-all filter before exec: the recording counts from there');
    assert.ok(Date.parse(runs[0]!.started) <= Date.parse(runs[0]!.ended));
    const s = seen(p);
    // sh execs ls; ls opens the directory, reads it and writes the names.
    for (const n of ['execve', 'openat', 'getdents64', 'write', 'exit_group']) {
      assert.ok(s.includes(n), `${n} was seen (seen: ${s.join(', ')})`);
      assert.ok(p.eunomia!.syscalls[n]!.count > 0, `${n} counted`);
      assert.deepEqual(p.eunomia!.syscalls[n]!.runs, ['r1']);
      assert.ok(allowed(p).has(n), `${n} is allowed by a rule`);
    }
    for (const n of ['mount', 'ptrace', 'unshare', 'setns', 'bpf', 'socket']) {
      assert.ok(!s.includes(n), `${n} was not seen`);
      assert.ok(!allowed(p).has(n), `${n} is not allowed`);
    }
    // A command has no container runtime between its filter and its exec: no base list, so
    // the profile allows exactly what was seen.
    assert.deepEqual(p.eunomia!.base, []);
    assert.deepEqual([...allowed(p)].filter((n) => !s.includes(n)), [], 'every call allowed was seen');
    // The summary goes to stderr when the profile goes to a file.
    assert.match(r.stderr, /Made by Eunomia from 1 run:\n {2}r1 {2}command sh -c .*, gate filter\n/);
    assert.match(r.stderr, new RegExp(`Allowed: ${allowed(p).size} syscalls \\(${s.length} seen, 0 from the base list\\)`));
  });

  test('record passes the command\'s exit status through', () => {
    const out = join(dir, 'exit3.json');
    const r = eunomia(['record', '-o', out, '--', 'sh', '-c', 'exit 3'], dir);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(seen(readJson(out)).includes('exit_group'));
    assert.deepEqual(cgroupsOf(r.pid), []);
  });

  test('run under the recorded profile: the same output, exit 0 — in kill mode too (nothing it needs is missing)', () => {
    const want = direct(CMD).stdout;
    for (const mode of [[], ['--mode', 'errno'], ['--mode', 'kill']]) {
      const r = eunomia(['run', '--profile', A, ...mode, '--', ...CMD], dir);
      assert.equal(r.code, 0, `${mode.join(' ') || 'profile\'s mode'}: ${r.stderr}`);
      assert.equal(r.stdout, want);
      assert.equal(r.stderr, '', 'nothing of eunomia\'s own on stderr');
    }
    const log = eunomia(['run', '--profile', A, '--mode', 'log', '--', ...CMD], dir);
    assert.equal(log.code, 0, log.stderr);
    assert.equal(log.stdout, want);
    assert.equal(log.stderr, `eunomia: nothing outside ${A}\n`, 'log mode reports what the profile would refuse: nothing');
    assert.deepEqual(cgroupsOf(log.pid), []);
  });

  describe('under a copy without getdents64, which ls needs', () => {
    const edited = join(dir, 'ls-no-getdents64.json');
    before(() => without(A, 'getdents64', edited));

    test('--mode errno: ls fails with EPERM and exits non-zero', () => {
      const r = eunomia(['run', '--profile', edited, '--mode', 'errno', '--', ...CMD], dir);
      assert.notEqual(r.code, 0);
      assert.equal(r.code, 2, 'ls\'s own status for a directory it cannot read');
      assert.match(r.stderr, /ls: .*Operation not permitted/);
      assert.doesNotMatch(r.stdout, /hello/);
      assert.doesNotMatch(r.stderr, /killed/);
    });

    test('--mode kill: the command dies by SIGSYS (exit 159) and eunomia says the profile killed it', () => {
      const r = eunomia(['run', '--profile', edited, '--mode', 'kill', '--', ...CMD], dir);
      assert.equal(r.code, 159, r.stderr);
      assert.match(r.stderr, new RegExp(`^eunomia: "sh" was killed by its seccomp profile \\(SIGSYS\\): a call outside ${escaped(edited)}$`, 'm'));
      assert.doesNotMatch(r.stdout, /hello/);
      assertClean(r, 'run --mode kill');
    });

    test('--mode log: the call is let through, exit 0 and the normal output; eunomia reports the call outside the profile', () => {
      const r = eunomia(['run', '--profile', edited, '--mode', 'log', '--', ...CMD], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, direct(CMD).stdout);
      const outside = r.stderr.split('\n').filter((l) => l.startsWith('eunomia: outside the profile: '));
      assert.deepEqual(outside.map((l) => l.replace(/ — pid \d+ /, ' — pid N ')), ['eunomia: outside the profile: getdents64 — pid N (ls)'], r.stderr);
      assert.match(r.stderr, new RegExp(`^eunomia: 1 call or capability outside ${escaped(edited)} `, 'm'));
      assert.deepEqual(cgroupsOf(r.pid), []);
    });
  });
});

describe('merge, diff, check, summary and spo on real recordings', { skip: needsRoot || needsCc }, () => {
  const probe = join(dir, 'probe');
  const LIST = [probe, 'list', tree];
  const NET = [probe, 'net', tree];
  const A = join(dir, 'list.json');
  const B = join(dir, 'net.json');
  const M = join(dir, 'merged.json');

  before(() => {
    writeFileSync(`${probe}.c`, PROBE);
    execFileSync(cc!, ['-O1', '-o', probe, `${probe}.c`]);
    for (const [cmd, out] of [[LIST, A], [NET, B]] as const) {
      const r = eunomia(['record', '-o', out, '--', ...cmd], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(cgroupsOf(r.pid), []);
    }
  });

  test('the two recordings: B also called socket (AF_INET), A did not', () => {
    const a = readJson(A);
    const b = readJson(B);
    assert.ok(seen(a).includes('getdents64') && seen(b).includes('getdents64'));
    assert.ok(!seen(a).includes('socket'));
    assert.ok(seen(b).includes('socket'));
    assert.deepEqual(a.eunomia!.args.socketFamilies, []);
    assert.deepEqual(b.eunomia!.args.socketFamilies, [2]);
    assert.deepEqual(b.eunomia!.runs[0]!.target, { kind: 'command', name: NET.join(' ') });
  });

  test('diff A B lists what B adds: the socket call and its family; diff B A: nothing', () => {
    const r = eunomia(['diff', A, B]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^What the recording adds to the profile:\n/);
    assert.match(r.stdout, /^ {2}syscalls \(\d+\): .*\bsocket\b/m);
    assert.match(r.stdout, /^ {2}socket family AF_INET \(2\)$/m);
    assert.doesNotMatch(r.stdout, /getdents64|execve/, 'what A already allows is not listed');
    const back = eunomia(['diff', B, A]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'Nothing new: the profile already allows everything the recording used.\n');
  });

  test('merge A B: runs r1 and r2 with their targets; each syscall says which runs saw it, counts summed', () => {
    const r = eunomia(['merge', A, B, '-o', M]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'the profile goes to -o');
    const a = readJson(A);
    const b = readJson(B);
    const m = readJson(M);
    assert.deepEqual(m.eunomia!.runs.map((x) => [x.id, x.target]), [['r1', { kind: 'command', name: LIST.join(' ') }], ['r2', { kind: 'command', name: NET.join(' ') }]]);
    assert.equal(m.eunomia!.runs[0]!.started, a.eunomia!.runs[0]!.started);
    assert.equal(m.eunomia!.runs[1]!.ended, b.eunomia!.runs[0]!.ended);
    assert.deepEqual(seen(m), [...new Set([...seen(a), ...seen(b)])].sort());
    for (const n of seen(m)) {
      const [ea, eb, em] = [a.eunomia!.syscalls[n], b.eunomia!.syscalls[n], m.eunomia!.syscalls[n]!];
      const inA = (ea?.runs.length ?? 0) > 0;
      const inB = (eb?.runs.length ?? 0) > 0;
      assert.deepEqual(em.runs, [...(inA ? ['r1'] : []), ...(inB ? ['r2'] : [])], `${n}: the runs that saw it`);
      assert.equal(em.count, (inA ? ea!.count : 0) + (inB ? eb!.count : 0), `${n}: counts summed`);
    }
    assert.deepEqual(m.eunomia!.syscalls.socket!.runs, ['r2']);
    assert.deepEqual(m.eunomia!.syscalls.getdents64!.runs, ['r1', 'r2']);
    assert.deepEqual(m.eunomia!.args.socketFamilies, [2]);
    const socketRules = m.syscalls.filter((x) => x.names.includes('socket'));
    assert.deepEqual(socketRules.map((x) => [x.action, x.args]), [['SCMP_ACT_ALLOW', [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }]]], 'socket only for AF_INET');
  });

  test('merge of one profile rewrites it: --mode log keeps its runs and rules, and only changes the default action', () => {
    const out = join(dir, 'list-log.json');
    const r = eunomia(['merge', A, '--mode', 'log', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const a = readJson(A);
    const l = readJson(out);
    assert.equal(l.defaultAction, 'SCMP_ACT_LOG');
    assert.equal(l.defaultErrnoRet, undefined);
    assert.deepEqual(l.syscalls, a.syscalls);
    assert.deepEqual(l.eunomia, a.eunomia);
  });

  test('check --against: the merged profile loses nothing of B; A would lose B\'s socket', () => {
    const ok = eunomia(['check', M, '--against', B]);
    assert.match(ok.stdout, /^What the workload would lose: nothing — the profile allows everything it used\.$/m, ok.stderr);
    assert.doesNotMatch(ok.stdout, /syscall socket/);
    const lose = eunomia(['check', A, '--against', B]);
    assert.match(lose.stdout, /^What the workload would lose — it used these, the profile refuses them \(2\):\n {2}syscall socket\n {2}socket family AF_INET \(2\)\n/m, lose.stderr);
    for (const r of [ok, lose]) assertClean(r, 'check');
  });

  test('check of a command\'s profile: no container-runtime errors, exit 0 (the command runs under it)', () => {
    // `record -- CMD` leaves the runtime base list out on purpose (no runtime runs between the
    // filter and the exec), and the next test runs B's program under M: nothing stops it.
    const r = eunomia(['check', M, '--against', B]);
    assert.doesNotMatch(r.stdout, /container may not start/, r.stdout.split('\n').slice(0, 3).join('\n'));
    assert.equal(r.code, 0, `exit ${r.code}`);
  });

  test('what check and diff predict is what happens: B\'s program runs under M, and is refused its socket under A', () => {
    const want = direct(NET);
    assert.equal(want.code, 0);
    const underM = eunomia(['run', '--profile', M, '--', ...NET]);
    assert.equal(underM.code, 0, underM.stderr);
    assert.equal(underM.stdout, want.stdout);
    const underA = eunomia(['run', '--profile', A, '--', ...NET]);
    assert.equal(underA.code, 2, underA.stderr);
    assert.match(underA.stderr, /^socket: Operation not permitted$/m);
    assert.equal(underA.stdout, 'b\nhello\n', 'it got as far as the socket');
  });

  test('summary prints the runs and the syscalls by group, with counts; --previous says what is new', () => {
    const r = eunomia(['summary', M]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp profile: SCMP_ACT_ERRNO: calls not allowed fail with EPERM; architectures SCMP_ARCH_X86_64\.\n/);
    assert.match(r.stdout, /^Made by Eunomia from 2 runs:\n {2}r1 {2}command .*probe list .*gate filter\n {2}r2 {2}command .*probe net .*gate filter\n/m);
    const getdents = readJson(M).eunomia!.syscalls.getdents64!.count;
    assert.match(r.stdout, /^ {2}file I\/O \(\d+\):$/m);
    assert.match(r.stdout, new RegExp(`\\bgetdents64 ${getdents}\\b`));
    assert.match(r.stdout, /^ {2}network \(1\):\n {4}socket 1$/m);
    assert.match(r.stdout, /^ {2}socket: only AF_INET \(2\)$/m);
    const prev = eunomia(['summary', M, '--previous', A]);
    assert.equal(prev.code, 0, prev.stderr);
    assert.match(prev.stdout, /New since the last run:\n {2}socket\n$/);
  });

  test('record over an existing profile replaces it, and its summary says what is new since', () => {
    const out = join(dir, 'again.json');
    copyFileSync(A, out);
    const r = eunomia(['record', '-o', out, '--', ...NET], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /New since the last run:\n {2}socket\n/);
    assert.deepEqual(readJson(out).eunomia!.runs.map((x) => x.target.name), [NET.join(' ')]);
  });

  test('spo prints a SeccompProfile resource (YAML) with the rules and the provenance', () => {
    const r = eunomia(['spo', M, '--name', 'x', '--namespace', 'apps']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parse(r.stdout) as {
      apiVersion: string; kind: string; metadata: { name: string; namespace: string; annotations: Record<string, string> };
      spec: { defaultAction: string; architectures: string[]; syscalls: { action: string; names: string[]; args?: unknown[] }[] };
    };
    assert.equal(doc.kind, 'SeccompProfile');
    assert.equal(doc.apiVersion, 'security-profiles-operator.x-k8s.io/v1beta1');
    assert.equal(doc.metadata.name, 'x');
    assert.equal(doc.metadata.namespace, 'apps');
    assert.equal(doc.metadata.annotations['eunomia/runs'], '2');
    assert.match(doc.metadata.annotations['eunomia/targets']!, /^r1 command .*probe list .*; r2 command .*probe net /);
    assert.equal(doc.spec.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(doc.spec.architectures, ['SCMP_ARCH_X86_64']);
    const m = readJson(M);
    assert.deepEqual(doc.spec.syscalls.map((x) => x.names), m.syscalls.map((x) => x.names), 'the same rules as the JSON');
    assert.deepEqual(doc.spec.syscalls.find((x) => x.names.includes('socket'))?.args, [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }]);
  });
});

describe('bad input: one clear line naming the problem, a non-zero exit, no stack trace', () => {
  const good: DockerProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['read', 'write', 'exit_group', 'execve', 'brk', 'mmap', 'openat', 'close'], action: 'SCMP_ACT_ALLOW' }],
  };
  const file = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const unknown = file('unknown.json', JSON.stringify({ ...good, syscalls: [{ names: ['read', 'opne'], action: 'SCMP_ACT_ALLOW' }] }));
  const x32 = file('x32.json', JSON.stringify({ ...good, syscalls: [{ names: ['read', '1073741824'], action: 'SCMP_ACT_ALLOW' }] }));
  const malformed = file('malformed.json', JSON.stringify(good).slice(0, 40));
  const missing = join(dir, 'no-such-profile.json');
  const valid = file('valid.json', JSON.stringify(good));
  // A command that leaves a trace when it runs: none of these must run it.
  const marker = join(dir, 'ran-marker');
  const touch = ['touch', marker];

  const cases: [string, string[], number, RegExp][] = [
    ['check: unknown syscall name', ['check', unknown], 1, /^eunomia: .*unknown\.json: syscalls\[0\]\.names\[1\]: unknown syscall "opne"/],
    ['run: unknown syscall name', ['run', '--profile', unknown, '--', ...touch], 1, /^eunomia: .*unknown\.json: syscalls\[0\]\.names\[1\]: unknown syscall "opne"/],
    ['merge: unknown syscall name', ['merge', valid, unknown], 1, /unknown\.json: syscalls\[0\]\.names\[1\]: unknown syscall "opne"/],
    ['check: x32 syscall number', ['check', x32], 1, /^eunomia: .*x32\.json: syscalls\[0\]\.names\[1\]: x32 syscall numbers are not supported: "1073741824"/],
    ['run: x32 syscall number', ['run', '--profile', x32, '--', ...touch], 1, /x32\.json: syscalls\[0\]\.names\[1\]: x32 syscall numbers are not supported: "1073741824"/],
    ['summary: malformed JSON', ['summary', malformed], 1, /^eunomia: .*malformed\.json: not JSON: /],
    ['diff: malformed JSON', ['diff', valid, malformed], 1, /malformed\.json: not JSON: /],
    ['run: malformed JSON', ['run', '--profile', malformed, '--', ...touch], 1, /malformed\.json: not JSON: /],
    ['check: missing file', ['check', missing], 1, /^eunomia: cannot read .*no-such-profile\.json: ENOENT: no such file or directory/],
    ['run: missing file', ['run', '--profile', missing, '--', ...touch], 1, /^eunomia: cannot read .*no-such-profile\.json: ENOENT/],
    ['spo: missing file', ['spo', missing, '--name', 'x'], 1, /cannot read .*no-such-profile\.json: ENOENT/],
    ['record: both --container and a command', ['record', '--container', 'web', '-o', join(dir, 'both.json'), '--', ...touch], 2, /^eunomia: record needs --container NAME\|ID or -- CMD \(one of them\) — see "eunomia seccomp --help"$/],
    ['record: neither', ['record', '-o', join(dir, 'neither.json')], 2, /^eunomia: record needs --container NAME\|ID or -- CMD \(one of them\)/],
    ['run: no --profile', ['run', '--', ...touch], 2, /^eunomia: run needs --profile FILE — see "eunomia seccomp --help"$/],
    ['run: no command', ['run', '--profile', valid], 2, /^eunomia: run needs a command after --/],
    ['run: --mode bogus', ['run', '--profile', valid, '--mode', 'bogus', '--', ...touch], 2, /^eunomia: --mode: "bogus" is not a mode \(log, errno or kill\)/],
    ['record: --mode bogus', ['record', '--mode', 'bogus', '-o', join(dir, 'bogus.json'), '--', ...touch], 2, /^eunomia: --mode: "bogus" is not a mode \(log, errno or kill\)/],
    ['merge: --mode bogus', ['merge', valid, valid, '--mode', 'bogus'], 2, /--mode: "bogus" is not a mode/],
    ['record: -T not a number', ['record', '--container', 'web', '-T', 'soon'], 2, /^eunomia: -T expects a whole number of seconds above 0, got "soon"/],
    ['merge: no profile', ['merge', '-o', join(dir, 'none.json')], 2, /^eunomia: merge needs one profile or more/],
    ['merge: a profile without provenance', ['merge', valid, valid], 1, /^eunomia: merge: profile 1 has no Eunomia provenance/],
    ['spo: no --name', ['spo', valid], 2, /^eunomia: spo needs one profile and --name NAME/],
    ['spo: a name Kubernetes refuses', ['spo', valid, '--name', 'Not_A_Name'], 2, /^eunomia: SeccompProfile name "Not_A_Name": a Kubernetes name is/],
    ['unknown subcommand', ['recrod'], 2, /^eunomia: unknown seccomp command "recrod"/],
    ['unknown option', ['check', valid, '--bogus'], 2, /^eunomia: Unknown option '--bogus'/],
  ];

  for (const [what, args, code, re] of cases) {
    test(what, () => {
      const r = eunomia(args, dir);
      assert.equal(r.code, code, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
      assert.match(r.stderr.trim(), re, what);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line:\n${r.stderr}`);
      assert.equal(r.stdout, '', `${what}: nothing on stdout`);
      assertClean(r, what);
      assert.ok(!existsSync(marker), `${what}: the command did not run`);
    });
  }

  test('the files written by none of them: -o is not created on an error', () => {
    for (const f of ['both.json', 'neither.json', 'bogus.json', 'none.json']) assert.ok(!existsSync(join(dir, f)), f);
  });

  test('record of a command that cannot be run: its status (127), and the profile at -o is not replaced', { skip: needsRoot }, () => {
    const out = join(dir, 'kept.json');
    writeFileSync(out, JSON.stringify(good));
    const r = eunomia(['record', '-o', out, '--', join(dir, 'no-such-command')], dir);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /cannot run .*no-such-command: No such file or directory/);
    assertClean(r, 'record of a missing command');
    assert.deepEqual(cgroupsOf(r.pid), []);
    // Nothing ran after the exec: the helper's failed execve and its error message are not the command's.
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), good, 'the existing profile is kept, not replaced by a recording of a command that never ran');
  });
});
