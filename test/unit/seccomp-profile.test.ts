/**
 * The seccomp profile library on hand-made recordings (a busybox httpd container, a shell command
 * run without a filter, a sandbox that makes namespaces): toProfile's rules and provenance, the
 * syscall groups and base list, readProfile's errors word for word, and merge, diff, check and
 * summary.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { SYSCALLS_X86_64 } from '../../src/trackers/names/syscalls-x86_64.js';
import { BASE_PRCTL_OPTIONS, BASE_SYSCALLS, baseNames } from '../../src/seccomp/base.js';
import { check } from '../../src/seccomp/check.js';
import { diff } from '../../src/seccomp/diff.js';
import { GROUPS, groupMembers, groupOf } from '../../src/seccomp/groups.js';
import { merge } from '../../src/seccomp/merge.js';
import { ARG_RESTRICTED, noArgs, toProfile } from '../../src/seccomp/profile.js';
import { isKnownSyscall, LATER_SYSCALLS, readProfile, verdict } from '../../src/seccomp/read.js';
import { prctlName, summary } from '../../src/seccomp/summary.js';
import type { DockerProfile, DockerRule, Recording } from '../../src/seccomp/types.js';

const NEWNS = 0x20000, NEWUSER = 0x10000000, NEWPID = 0x20000000, NEWNET = 0x40000000;

function recording(r: Partial<Recording> & Pick<Recording, 'target' | 'syscalls'>): Recording {
  return {
    started: '2024-05-01T10:00:00.000Z', ended: '2024-05-01T10:05:00.000Z', gate: 'filter', unnamed: [], compatCalls: 0,
    args: noArgs(), capabilities: { used: [], denied: [] }, ...r,
  };
}

/** `docker run -p 80:80 busybox httpd -f -p 80`, recorded under Docker's filter: one listening socket, a fork per request. */
const httpd = recording({
  target: { kind: 'container', name: 'httpd', id: 'f00dfeed'.repeat(8), image: 'busybox:1.36' },
  syscalls: {
    execve: 1, arch_prctl: 1, set_tid_address: 1, brk: 2, mmap: 3, getuid: 1, socket: 1, setsockopt: 1, bind: 1, listen: 1,
    accept: 6, clone: 6, wait4: 6, read: 12, openat: 6, fstat: 6, sendfile: 6, write: 12, close: 18, rt_sigaction: 4,
    rt_sigprocmask: 12, chdir: 1, exit_group: 1,
  },
  args: { ...noArgs(), socketFamilies: [10] },
  capabilities: { used: ['CAP_NET_BIND_SERVICE'], denied: [] },
});

/** `sh -c 'ls / && cat /etc/hostname'`, a command run without a filter (counted from its exec). */
const shell = recording({
  target: { kind: 'command', name: "sh -c 'ls / && cat /etc/hostname'" },
  started: '2024-05-01T11:00:00.000Z', ended: '2024-05-01T11:00:01.000Z', gate: 'exec',
  syscalls: {
    execve: 3, brk: 6, mmap: 14, mprotect: 4, munmap: 2, arch_prctl: 3, set_tid_address: 3, openat: 9, read: 7, fstat: 8,
    close: 11, getdents64: 2, ioctl: 3, write: 2, clone: 2, wait4: 2, getpid: 1, getppid: 1, geteuid: 1, rt_sigaction: 6,
    rt_sigprocmask: 4, exit_group: 3,
  },
  // 451: cachestat, newer than this build's table; 0x40000002: an x32 call; 999: nothing.
  unnamed: [451, 0x40000002, 999],
  compatCalls: 2,
  capabilities: { used: [], denied: ['CAP_DAC_OVERRIDE'] },
});

/** A sandbox (bubblewrap-like): namespaces through clone3 and unshare, a netlink socket, prctl options the recorder could not keep. */
const sandbox = recording({
  target: { kind: 'command', name: 'bwrap --unshare-user --unshare-pid --unshare-net true' },
  started: '2024-05-01T12:00:00.000Z', ended: '2024-05-01T12:00:02.000Z',
  syscalls: { clone3: 1, unshare: 1, prctl: 3, personality: 1, execve: 2, socket: 1, sendto: 1, recvfrom: 1, close: 2, exit_group: 1 },
  args: { cloneNamespaces: NEWUSER | NEWPID, unshareNamespaces: NEWNET | NEWNS, socketFamilies: [16], prctlOptions: [38], personalities: [0xffffffff], unrestricted: ['prctl'] },
  capabilities: { used: ['CAP_SYS_ADMIN'], denied: [] },
});

const rulesFor = (p: DockerProfile, name: string): DockerRule[] => p.syscalls.filter((r) => r.names.includes(name));
const throwsProfile = (f: () => unknown, message: string): void => {
  assert.throws(f, (e: unknown) => isEunomiaError(e, 'E_PROFILE') && (assert.equal(e.message, message), true));
};

// --- toProfile ------------------------------------------------------------------------------

test('toProfile: default action, architectures (no archMap), and one ALLOW rule of every plain name seen and of the base list', () => {
  const p = toProfile([httpd]);
  assert.deepEqual(Object.keys(p), ['defaultAction', 'defaultErrnoRet', 'architectures', 'syscalls', 'eunomia']);
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64']);
  assert.equal(p.archMap, undefined);
  const restricted = new Set<string>(ARG_RESTRICTED);
  const plain = [...new Set([...Object.keys(httpd.syscalls), ...baseNames()])].filter((n) => !restricted.has(n)).sort();
  assert.deepEqual(p.syscalls[0], { names: plain, action: 'SCMP_ACT_ALLOW' });
  // Every rule after the first is for an argument-restricted call.
  for (const r of p.syscalls.slice(1)) assert.ok(r.names.length === 1 && restricted.has(r.names[0]!), r.names.join());
});

test('toProfile: clone by namespace mask, clone3 ENOSYS, socket by family, prctl by option (with the base list\'s)', () => {
  const p = toProfile([httpd]);
  assert.deepEqual(rulesFor(p, 'clone'), [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], comment: 'clone without namespace flags: none was seen' }]);
  // clone3 was not seen: it still gets ENOSYS, so a libc that tries it first falls back to the checked clone.
  assert.deepEqual(rulesFor(p, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, comment: "clone3's flags are in memory a filter cannot read: ENOSYS makes libc fall back to clone, whose flags are checked (as Docker does)" }]);
  assert.deepEqual(rulesFor(p, 'socket'), [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }], comment: 'AF_INET6' }]);
  assert.deepEqual(rulesFor(p, 'prctl').map((r) => r.args), [1, 2, 8, 24, 47].map((v) => [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }]));
  assert.deepEqual(rulesFor(p, 'unshare'), []);
  assert.deepEqual(rulesFor(p, 'personality'), []);
});

test('toProfile: namespaces seen are allowed, the others masked; clone3 alone with namespaces is allowed, with clone as its fallback', () => {
  const p = toProfile([sandbox]);
  // clone was never called: allowed for clone3's fallback, masking what was not seen.
  assert.deepEqual(rulesFor(p, 'clone')[0]!.args, [{ index: 0, value: 0x7e020000 & ~(NEWUSER | NEWPID), valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.equal(rulesFor(p, 'clone')[0]!.comment, 'clone may create only CLONE_NEWUSER|CLONE_NEWPID');
  assert.deepEqual(rulesFor(p, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ALLOW', comment: 'clone3 created namespaces and clone was never called: clone3 is allowed unrestricted (its flags are in memory a filter cannot read)' }]);
  // unshare also masks CLONE_NEWTIME (0x80).
  assert.deepEqual(rulesFor(p, 'unshare')[0]!.args, [{ index: 0, value: (0x7e020080 & ~(NEWNET | NEWNS)) >>> 0, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.deepEqual(rulesFor(p, 'prctl'), [{ names: ['prctl'], action: 'SCMP_ACT_ALLOW', comment: 'prctl: an option the recorder does not keep was seen, so any option is allowed' }]);
  assert.deepEqual(rulesFor(p, 'personality'), [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }], comment: 'persona 0xffffffff' }]);
  assert.deepEqual(p.eunomia!.syscalls.clone, { count: 0, runs: [] });
  assert.deepEqual(p.eunomia!.syscalls.clone3, { count: 1, runs: ['r1'] });
  // clone3 seen with clone too: ENOSYS again (clone's mask lets the namespaces through).
  const both = toProfile([sandbox, httpd]);
  assert.equal(rulesFor(both, 'clone3')[0]!.action, 'SCMP_ACT_ERRNO');
});

test('toProfile: deny modes, and the base list off', () => {
  const kill = toProfile([httpd], { mode: 'kill' });
  assert.equal(kill.defaultAction, 'SCMP_ACT_KILL_PROCESS');
  assert.equal('defaultErrnoRet' in kill, false);
  assert.equal(toProfile([httpd], { mode: 'log' }).defaultAction, 'SCMP_ACT_LOG');
  const bare = toProfile([httpd], { base: false });
  assert.deepEqual(bare.eunomia!.base, []);
  assert.deepEqual(bare.syscalls[0]!.names, Object.keys(httpd.syscalls).filter((n) => n !== 'clone' && n !== 'socket').sort());
  assert.deepEqual(rulesFor(bare, 'prctl'), []);
});

test('toProfile: provenance — runs in order, counts summed, base added, args and capabilities unioned, later and x32 numbers', () => {
  const p = toProfile([httpd, shell]);
  const prov = p.eunomia!;
  assert.equal(prov.version, 1);
  assert.deepEqual(prov.runs, [
    { id: 'r1', target: httpd.target, started: httpd.started, ended: httpd.ended, gate: 'filter' },
    { id: 'r2', target: shell.target, started: shell.started, ended: shell.ended, gate: 'exec' },
  ]);
  assert.deepEqual(prov.syscalls.read, { count: 19, runs: ['r1', 'r2'] });
  assert.deepEqual(prov.syscalls.sendfile, { count: 6, runs: ['r1'] });
  assert.deepEqual(prov.syscalls.getdents64, { count: 2, runs: ['r2'] });
  // 451 is named from the later kernels' table; its calls went uncounted.
  assert.deepEqual(prov.syscalls.cachestat, { count: 0, runs: ['r2'] });
  assert.ok(p.syscalls[0]!.names.includes('cachestat'));
  assert.deepEqual(prov.syscalls.capset, { count: 0, runs: [] });
  const seen = new Set([...Object.keys(httpd.syscalls), ...Object.keys(shell.syscalls)]);
  assert.deepEqual(prov.base, baseNames().filter((n) => !seen.has(n)));
  assert.deepEqual(Object.keys(prov.syscalls), [...Object.keys(prov.syscalls)].sort());
  assert.deepEqual(prov.capabilities, { used: ['CAP_NET_BIND_SERVICE'], denied: ['CAP_DAC_OVERRIDE'] });
  assert.deepEqual(prov.args.socketFamilies, [10]);
  // The x32 number is never written: it counts as a compat call.
  assert.equal(prov.compatCalls, 3);
  assert.deepEqual(prov.unnamed, [999]);
});

test('toProfile is deterministic: the same recordings in any key order give the same file', () => {
  const shuffled = (r: Recording): Recording => ({ ...r, syscalls: Object.fromEntries(Object.entries(r.syscalls).reverse()) });
  const a = JSON.stringify(toProfile([httpd, shell, sandbox]));
  assert.equal(JSON.stringify(toProfile([shuffled(httpd), shuffled(shell), shuffled(sandbox)])), a);
  assert.equal(JSON.stringify(toProfile([httpd, shell, sandbox])), a);
});

test('toProfile refuses a recording that names an unknown syscall', () => {
  throwsProfile(() => toProfile([recording({ target: { kind: 'command', name: 'x' }, syscalls: { opne: 1 } })]),
    'recording r1 (command x): unknown syscall "opne" — a recording names x86-64 syscalls (unknown numbers go in "unnamed")');
});

// --- groups and the base list -----------------------------------------------------------------

test('every x86-64 syscall (this table and later kernels) is in exactly one group, and groups list only real syscalls', () => {
  const all = [...SYSCALLS_X86_64.filter(Boolean), ...LATER_SYSCALLS.map(([, n]) => n)];
  for (const n of all) assert.ok(groupOf(n), `${n} has no group`);
  const seen = new Map<string, string>();
  for (const g of GROUPS) {
    for (const n of groupMembers(g.id)) {
      assert.ok(!seen.has(n), `${n} is in ${seen.get(n)} and ${g.id}`);
      assert.ok(isKnownSyscall(n), `${g.id} lists ${n}, not a syscall`);
      seen.set(n, g.id);
    }
  }
  assert.equal(seen.size, new Set(all).size);
});

test('the base list: known syscalls, once each, every one with its runtimes and a short reason', () => {
  const names: string[] = BASE_SYSCALLS.map((b) => b.name);
  assert.equal(new Set(names).size, names.length);
  for (const b of BASE_SYSCALLS) {
    assert.ok(isKnownSyscall(b.name), b.name);
    assert.ok(b.runtimes.length > 0 && b.reason.length > 10 && b.reason.length <= 110, b.name);
  }
  for (const n of ['futex', 'execve', 'capset', 'prctl', 'close', 'openat', 'write', 'exit_group']) assert.ok(names.includes(n), n);
  // Left out on purpose (base.ts says why): threads are not started by the filtered thread.
  for (const n of ['clone', 'clone3']) assert.ok(!names.includes(n), n);
  for (const o of BASE_PRCTL_OPTIONS) assert.equal(prctlName(o.option), `${o.name} (${o.option})`);
});

// --- readProfile ---------------------------------------------------------------------------------

const minimal = (extra: Record<string, unknown> = {}, rules: unknown[] = [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }]): string =>
  JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: rules, ...extra });

test('readProfile: a profile Eunomia wrote reads back as it was written', () => {
  for (const p of [toProfile([httpd, shell, sandbox]), toProfile([httpd], { mode: 'kill', base: false })]) {
    assert.deepEqual(readProfile(JSON.stringify(p, null, 2), 'profile.json'), p);
  }
});

test('readProfile: each problem names the file and the key, in words', () => {
  const rules = [
    { names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['close'], action: 'SCMP_ACT_ALLOW' }, { names: ['openat', 'opne'], action: 'SCMP_ACT_ALLOW' },
  ];
  throwsProfile(() => readProfile(minimal({}, rules), 'profile.json'), 'profile.json: syscalls[3].names[1]: unknown syscall "opne" (x86-64 names, e.g. openat)');
  throwsProfile(() => readProfile(minimal({}, [{ names: ['read', '1073741826'], action: 'SCMP_ACT_ALLOW' }]), 'profile.json'),
    'profile.json: syscalls[0].names[1]: x32 syscall numbers are not supported: "1073741826" (0x40000002) — Eunomia profiles are for the x86-64 ABI');
  throwsProfile(() => readProfile(minimal({ archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }] }), 'profile.json'),
    'profile.json: both architectures and archMap are given — Docker refuses such a profile; keep one of them');
  throwsProfile(() => readProfile(minimal({}, [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQUAL' }] }]), 'profile.json'),
    'profile.json: syscalls[0].args[0].op: "SCMP_CMP_EQUAL" is not a comparison — use one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ');
  throwsProfile(() => readProfile(minimal({}, [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }]), 'profile.json'),
    'profile.json: syscalls[1].errnoRet: 5000 is not an errno number — give an integer from 0 to 4095');
  throwsProfile(() => readProfile(minimal({ defaultErrnoRet: -1 }), 'profile.json'), 'profile.json: defaultErrnoRet: -1 is not an errno number — give an integer from 0 to 4095');
  throwsProfile(() => readProfile(minimal({ syscall: [] }), 'profile.json'),
    'profile.json: unknown key "syscall" — a profile has defaultAction, defaultErrnoRet, architectures or archMap, syscalls, flags, listenerPath, listenerMetadata, and Eunomia\'s eunomia');
  throwsProfile(() => readProfile(minimal({ defaultAction: 'SCMP_ACT_DENY' }), 'p.json'),
    'p.json: defaultAction: "SCMP_ACT_DENY" is not a seccomp action — use one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_LOG, SCMP_ACT_TRACE, SCMP_ACT_NOTIFY');
  throwsProfile(() => readProfile(minimal({}, [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 2, op: 'SCMP_CMP_EQ' }] }]), 'p.json'),
    'p.json: syscalls[0].args[0].index: 6 is not an argument index — give 0 to 5');
  throwsProfile(() => readProfile(minimal({}, [{ names: ['read'], action: 'SCMP_ACT_ALLOW', arg: [] }]), 'p.json'),
    'p.json: syscalls[0]: unknown key "arg" (known here: names, name, action, errnoRet, args, comment, includes, excludes)');
  throwsProfile(() => readProfile(minimal({ architectures: ['SCMP_ARCH_AARCH64'] }), 'p.json'),
    'p.json: architectures[0]: "SCMP_ARCH_AARCH64" is not an architecture Eunomia reads (the x86-64 machine\'s ABIs) — use one of SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32');
  throwsProfile(() => readProfile('{"defaultAction": ', 'p.json'), `p.json: not JSON: ${(() => { try { JSON.parse('{"defaultAction": '); } catch (e) { return (e as Error).message; } })()}`);
  throwsProfile(() => readProfile(minimal({}, [{ names: [], action: 'SCMP_ACT_ALLOW' }]), 'p.json'), 'p.json: syscalls[0].names: is empty — a rule names at least one syscall');
  throwsProfile(() => readProfile('[]', 'p.json'), 'p.json: a seccomp profile is a JSON object ({"defaultAction": …, "syscalls": […]}), not an array');
  throwsProfile(() => readProfile(minimal({}, [{ names: ['999'], action: 'SCMP_ACT_ALLOW' }]), 'p.json'),
    'p.json: syscalls[0].names[0]: unknown syscall number "999" (not an x86-64 syscall this build or a later kernel knows)');
});

test('readProfile: what Docker accepts — the three x86 ABIs, numbers for names, listener keys, flags, and multi-architecture names', () => {
  const p = readProfile(minimal({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], flags: ['SECCOMP_FILTER_FLAG_LOG'], listenerPath: '/run/agent.sock', listenerMetadata: 'x' },
    [{ names: ['2', 'cachestat', 'listns'], action: 'SCMP_ACT_ALLOW' }]), 'p.json');
  assert.deepEqual(p.syscalls[0]!.names, ['open', 'cachestat', 'listns']);
  assert.deepEqual(p.flags, ['SECCOMP_FILTER_FLAG_LOG']);
  // An excerpt of Docker's default: archMap over several machines, i386 and other machines' names.
  const docker = readProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null }],
    syscalls: [
      { names: ['accept', 'chown32', 'riscv_hwprobe', 'read', 'clone'], action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 38, op: 'SCMP_CMP_LT' }] },
      { names: ['arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
      { names: ['bpf', 'mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    ],
  }), 'default.json');
  assert.deepEqual(docker.archMap![1], { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] });
  // Resolved as a default `docker run` on x86-64 loads it.
  assert.equal(verdict(docker, 'arm_fadvise64_64').allowed, false);
  assert.equal(verdict(docker, 'mount').allowed, false);
  assert.equal(verdict(docker, 'socket', { 0: 2 }).allowed, true);
  assert.equal(verdict(docker, 'socket', { 0: 38 }).allowed, false);
  assert.equal(verdict(docker, 'clone3').action, 'SCMP_ACT_ERRNO');
  // On an x86-64-only profile the same i386 name is refused.
  throwsProfile(() => readProfile(minimal({}, [{ names: ['chown32'], action: 'SCMP_ACT_ALLOW' }]), 'p.json'), 'p.json: syscalls[0].names[0]: unknown syscall "chown32" (x86-64 names, e.g. openat)');
});

test('readProfile: the provenance is checked too (version, run ids, x32 numbers)', () => {
  const p = toProfile([httpd]);
  const withProv = (f: (prov: Record<string, unknown>) => void): string => {
    const copy = JSON.parse(JSON.stringify(p)) as { eunomia: Record<string, unknown> };
    f(copy.eunomia);
    return JSON.stringify(copy);
  };
  throwsProfile(() => readProfile(withProv((e) => { e.version = 2; }), 'p.json'), 'p.json: eunomia.version: 2 is not a provenance version this Eunomia reads (1)');
  throwsProfile(() => readProfile(withProv((e) => { e.unnamed = [0x40000000]; }), 'p.json'),
    'p.json: eunomia.unnamed[0]: x32 syscall numbers are not supported: 1073741824 (0x40000000) — Eunomia profiles are for the x86-64 ABI');
  throwsProfile(() => readProfile(withProv((e) => { (e.syscalls as Record<string, { runs: string[] }>).read!.runs = ['r7']; }), 'p.json'),
    'p.json: eunomia.syscalls.read.runs[0]: "r7" is not one of the provenance\'s runs');
  throwsProfile(() => readProfile(withProv((e) => { (e.syscalls as Record<string, unknown>)['1073741824'] = { count: 1, runs: [] }; }), 'p.json'),
    'p.json: eunomia.syscalls["1073741824"]: x32 syscall numbers are not supported: "1073741824" (0x40000000) — Eunomia profiles are for the x86-64 ABI');
  throwsProfile(() => readProfile(withProv((e) => { delete e.args; }), 'p.json'),
    'p.json: eunomia: args is missing (a provenance has version, runs, syscalls, base, args, capabilities, compatCalls, unnamed)');
});

// --- merge, diff, check, summary -------------------------------------------------------------------

test('merge: runs renumbered in order, counts summed — the same profile as recording all the runs at once', () => {
  assert.deepEqual(merge([toProfile([httpd]), toProfile([shell])]), toProfile([httpd, shell]));
  assert.deepEqual(merge([toProfile([httpd, shell]), toProfile([sandbox])]), toProfile([httpd, shell, sandbox]));
  const twice = merge([toProfile([httpd]), toProfile([httpd])]);
  assert.deepEqual(twice.eunomia!.runs.map((r) => r.id), ['r1', 'r2']);
  assert.deepEqual(twice.eunomia!.syscalls.accept, { count: 12, runs: ['r1', 'r2'] });
  // Modes: the inputs' shared one, else errno, unless given; the base list if any input had it.
  assert.equal(merge([toProfile([httpd], { mode: 'kill' }), toProfile([shell], { mode: 'kill' })]).defaultAction, 'SCMP_ACT_KILL_PROCESS');
  assert.equal(merge([toProfile([httpd], { mode: 'kill' }), toProfile([shell])]).defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(merge([toProfile([httpd])], 'log').defaultAction, 'SCMP_ACT_LOG');
  assert.deepEqual(merge([toProfile([httpd], { base: false }), toProfile([shell], { base: false })]), toProfile([httpd, shell], { base: false }));
});

test('merge refuses a profile without provenance', () => {
  const plain = readProfile(minimal(), 'p.json');
  throwsProfile(() => merge([toProfile([httpd]), plain]),
    'merge: profile 2 has no Eunomia provenance (no "eunomia" key): merge needs profiles Eunomia made, as it rebuilds the rules from what each run saw — compare other profiles with diff or check');
});

test('diff: the syscalls, argument values and capabilities a new recording adds', () => {
  const newer = recording({
    ...httpd,
    syscalls: { ...httpd.syscalls, poll: 3 },
    unnamed: [451],
    args: { ...noArgs(), socketFamilies: [10, 17], prctlOptions: [15], cloneNamespaces: NEWUSER },
    capabilities: { used: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'], denied: [] },
  });
  const d = diff(toProfile([httpd]), toProfile([newer]));
  assert.deepEqual(d.added, ['cachestat', 'poll']);
  assert.deepEqual(d.argsAdded, { cloneNamespaces: NEWUSER, unshareNamespaces: 0, socketFamilies: [17], prctlOptions: [15], personalities: [], unrestricted: [] });
  assert.deepEqual(d.capsAdded, ['CAP_NET_RAW']);
  assert.equal(d.text, [
    'What the recording adds to the profile:',
    '  syscalls (2): cachestat, poll',
    '  clone namespaces CLONE_NEWUSER',
    '  socket family AF_PACKET (17)',
    '  prctl option PR_SET_NAME (15)',
    '  capabilities: CAP_NET_RAW',
    '',
  ].join('\n'));
  const same = diff(toProfile([httpd]), toProfile([httpd]));
  assert.deepEqual([same.added, same.capsAdded, same.text], [[], [], 'Nothing new: the profile already allows everything the recording used.\n']);
});

test('check: base-list calls a profile refuses are errors; a profile with the base list has none', () => {
  assert.deepEqual(check(toProfile([httpd])).errors, []);
  const bare = check(toProfile([httpd], { base: false }));
  assert.ok(bare.errors.includes("capset is refused, but runc and crun call it after installing the filter (sets the container's capabilities)"));
  assert.ok(bare.errors.includes('getppid is refused, but runc calls it after installing the filter (checks that its parent is still alive)'));
  assert.equal(bare.errors.some((e) => e.startsWith('read ') || e.startsWith('execve ')), false); // httpd called those itself
  // prctl allowed for some options only: the runtime's options are named.
  const prctlOnly = check(toProfile([recording({ ...httpd, syscalls: { ...httpd.syscalls, prctl: 1 }, args: { ...noArgs(), prctlOptions: [15] } })], { base: false }));
  assert.ok(prctlOnly.errors.includes('prctl PR_SET_KEEPCAPS (8) is refused, but runc and crun pass it after installing the filter (keeps capabilities across the user switch)'));
  assert.match(bare.text, /^Errors — the container may not start \(\d+\):\n {2}/);
});

test('check against a workload: what it would lose', () => {
  const r = check(toProfile([httpd], { base: false }), toProfile([shell]));
  const lost = ['geteuid', 'getpid', 'getppid', 'ioctl', 'mprotect', 'munmap', 'getdents64', 'cachestat'].map((n) => `syscall ${n}`).sort();
  assert.deepEqual([...r.loses].sort(), lost);
  assert.ok(r.text.includes(`What the workload would lose — it used these, the profile refuses them (${lost.length}):\n  syscall `));
  const none = check(toProfile([httpd, shell]), toProfile([shell]));
  assert.deepEqual(none.loses, []);
  assert.ok(none.text.includes('What the workload would lose: nothing — the profile allows everything it used.'));
  // Arguments too: the sandbox's netlink socket and namespaces are refused by httpd's profile.
  const args = check(toProfile([httpd]), toProfile([sandbox])).loses;
  for (const l of ['socket family AF_NETLINK (16)', 'clone namespaces CLONE_NEWUSER, CLONE_NEWPID', 'unshare namespaces CLONE_NEWNS, CLONE_NEWNET',
    'prctl option PR_SET_NO_NEW_PRIVS (38)', 'prctl with any option (a value the recorder does not keep was seen)', 'syscall unshare', 'syscall personality']) {
    assert.ok(args.includes(l), `${l} in ${args.join(' / ')}`);
  }
  // clone3 is refused with ENOSYS, and clone is allowed: nothing is lost there.
  assert.equal(args.includes('syscall clone3'), false);
});

test('check: dangerous calls allowed without argument restriction are warnings', () => {
  const p = readProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: [...baseNames(), 'mount', 'bpf', 'clone', 'clone3'], action: 'SCMP_ACT_ALLOW' },
      { names: ['unshare'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020080 & ~NEWUSER, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
    ],
  }), 'p.json');
  const { warnings, errors } = check(p);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, [
    'mount is allowed without argument restriction: mounts filesystems (with CAP_SYS_ADMIN, a way out of the container)',
    'bpf is allowed without argument restriction: loads eBPF programs into the kernel',
    'clone is allowed without namespace restriction: it may create any namespace (new user namespaces open kernel attack surface)',
    'unshare may create namespaces: CLONE_NEWUSER',
    'clone3 is allowed: its flags are in memory a filter cannot read, so it may create any namespace',
  ]);
  const log = check(toProfile([httpd], { mode: 'log' }));
  assert.ok(log.warnings.includes('the default action is SCMP_ACT_LOG: every call not listed runs (and is logged), so the profile refuses nothing it does not name'));
  assert.ok(check(toProfile([shell])).warnings.includes('the workload made 3 calls through the 32-bit ABI (int 0x80) or x32: this x86-64 profile refuses them'));
});

test('summary: groups with counts, restrictions in words, capabilities, base additions, warnings, and what is new', () => {
  const previous = toProfile([httpd]);
  const text = summary(toProfile([httpd, shell]), previous);
  const lines = text.split('\n');
  assert.equal(lines[0], 'Seccomp profile: SCMP_ACT_ERRNO: calls not allowed fail with EPERM; architectures SCMP_ARCH_X86_64.');
  for (const l of [
    'Made by Eunomia from 2 runs:',
    '  r1  container httpd (busybox:1.36, f00dfeedf00d), 2024-05-01T10:00:00.000Z → 2024-05-01T10:05:00.000Z, gate filter',
    '  network (5):',
    '    accept 6, bind 1, listen 1, setsockopt 1, socket 1',
    'Argument restrictions:',
    '  clone: may create no namespace (CLONE_NEW* flags are refused)',
    '  clone3: fails with ENOSYS, so libc falls back to clone, whose flags are checked',
    '  socket: only AF_INET6 (10)',
    '  prctl: only PR_SET_PDEATHSIG (1), PR_GET_PDEATHSIG (2), PR_SET_KEEPCAPS (8), PR_CAPBSET_DROP (24), PR_CAP_AMBIENT (47)',
    'Capabilities: used CAP_NET_BIND_SERVICE; refused CAP_DAC_OVERRIDE',
    "  capset — runc and crun: sets the container's capabilities",
    'Warnings:',
    '  3 calls through the 32-bit ABI (int 0x80) or x32: this x86-64 profile refuses them',
    '  syscall numbers with no name: 999 — a profile cannot list them, so they are refused (a newer Eunomia may name them)',
    'New since the last run:',
  ]) assert.ok(lines.includes(l), `missing line: ${l}\n${text}`);
  assert.ok(text.includes('cachestat (uncounted)') && text.includes('read 19') && text.includes('futex (base)'));
  const added = lines.slice(lines.indexOf('New since the last run:') + 1).join(' ');
  assert.equal(added.trim(), 'cachestat, geteuid, ioctl'); // getdents64 came with the base list already
  assert.equal(/\x1b\[/.test(text), false, 'no colours');
  assert.ok(summary(previous, previous).includes('New since the last run: nothing'));
});

test('a run begun while its container ran: kept in the provenance and read back, warned of until a run of the same container saw its start', () => {
  const joined = { ...httpd, midRun: true as const };
  const p = toProfile([joined]);
  assert.deepEqual(p.eunomia!.runs.map((r) => r.midRun), [true]);
  assert.deepEqual(readProfile(JSON.stringify(p), 'p.json'), p);
  const warning = '  run r1 began while httpd was running: its start-up (what a program calls as it starts, what the workload does once) is not in the profile, and a container started under it may fail — record it from its start (start the recording before the container) and merge, before enforcing';
  const lines = summary(p).split('\n');
  assert.ok(lines.includes(warning), summary(p));
  assert.ok(lines.some((l) => l.startsWith('  r1  container httpd ') && l.endsWith('gate filter, begun while it ran')));
  // Merged with a recording from its start: the start-up is in, no warning.
  assert.equal(summary(merge([p, toProfile([httpd])])).includes('began while'), false);
  assert.equal(summary(merge([p, toProfile([shell])])).includes('run r1 began while httpd was running'), true, 'another target\'s run does not cover it');
  const copy = JSON.parse(JSON.stringify(p)) as { eunomia: { runs: Record<string, unknown>[] } };
  copy.eunomia.runs[0]!.midRun = false;
  throwsProfile(() => readProfile(JSON.stringify(copy), 'p.json'), 'p.json: eunomia.runs[0].midRun: must be true, got false — leave midRun out for a recording from the container\'s start');
});
