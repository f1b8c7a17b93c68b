/** filterSpec: a Docker profile as the seccomp helper's filter lines (checked on a fixed host). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { filterSpec, type HostFacts } from '../../src/seccomp/filter-spec.js';
import type { DockerProfile } from '../../src/seccomp/types.js';

const host: HostFacts = { caps: new Set(['CAP_SYS_ADMIN', 'CAP_NET_RAW']), kernel: '6.18.44-fc' };

/** The lines that matter: comments and the trailing "# name" dropped. */
function lines(spec: string): string[] {
  return spec.split('\n').map((l) => l.replace(/\s*#.*$/, '')).filter((l) => l !== '');
}

const profile: DockerProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    { names: ['ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    { names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS' },
    { names: ['kexec_load'], action: 'SCMP_ACT_TRAP' },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
  ],
};

test('the profile as it is: its default, badarch the same, names as x86-64 numbers', () => {
  assert.deepEqual(lines(filterSpec(profile, undefined, host)), [
    'default errno 1',
    'badarch errno 1',
    'rule 0 allow',
    'rule 1 allow',
    'rule 435 errno 38',
    'rule 101 errno 13',
    'rule 169 kill_process',
    'rule 246 trap',
    'rule 41 allow arg 0 eq 1',
  ]);
  // The names stay readable in the spec.
  assert.match(filterSpec(profile, undefined, host), /^rule 435 errno 38 {2}# clone3$/m);
});

test('a mode replaces the default action only', () => {
  const kill = lines(filterSpec(profile, 'kill', host));
  assert.deepEqual(kill.slice(0, 2), ['default kill_process', 'badarch kill_process']);
  assert.ok(kill.includes('rule 101 errno 13'));
  const errno = lines(filterSpec({ ...profile, defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 13 }, 'errno', host));
  assert.deepEqual(errno.slice(0, 2), ['default errno 13', 'badarch errno 13']);
  // No defaultErrnoRet: EPERM, as Docker.
  const eperm = lines(filterSpec({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }, 'errno', host));
  assert.deepEqual(eperm, ['default errno 1', 'badarch errno 1']);
});

test('log mode: refusing rules log too, but ENOSYS stays so the fallback is taken', () => {
  assert.deepEqual(lines(filterSpec(profile, 'log', host)), [
    'default log',
    'badarch log',
    'rule 0 allow',
    'rule 1 allow',
    'rule 435 errno 38',
    'rule 101 log',
    'rule 169 log',
    'rule 246 log',
    'rule 41 allow arg 0 eq 1',
  ]);
});

test('Docker action names: KILL is the thread, ERRNO without errnoRet is EPERM, LOG', () => {
  const p: DockerProfile = {
    defaultAction: 'SCMP_ACT_KILL',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ERRNO' },
      { names: ['write'], action: 'SCMP_ACT_LOG' },
      { names: ['close'], action: 'SCMP_ACT_KILL_THREAD' },
    ],
  };
  assert.deepEqual(lines(filterSpec(p, undefined, host)), [
    'default kill_thread', 'badarch kill_thread', 'rule 0 errno 1', 'rule 1 log', 'rule 3 kill_thread',
  ]);
});

test('args: ANDed in one rule; an argument compared twice splits into ORed rules (as runc); masked_eq is mask then value', () => {
  const p: DockerProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['prctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0xff, valueTwo: 4, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 9, op: 'SCMP_CMP_NE' }, { index: 2, value: 5, op: 'SCMP_CMP_LT' }] },
    ],
  };
  assert.deepEqual(lines(filterSpec(p, undefined, host)).slice(2), [
    'rule 41 allow arg 0 eq 2 arg 1 eq 1',
    'rule 135 allow arg 0 eq 0',
    'rule 135 allow arg 0 eq 4294967295',
    'rule 56 allow arg 0 masked_eq 2114060288 0',
    'rule 157 allow arg 1 masked_eq 255 4',
    'rule 62 allow arg 1 ne 9 arg 2 lt 5',
  ]);
});

test('a call named in several rules with the same action is written once', () => {
  const p: DockerProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['ptrace', 'syslog'], action: 'SCMP_ACT_ALLOW' },
      { names: ['syslog'], action: 'SCMP_ACT_ALLOW' },
    ],
  };
  assert.deepEqual(lines(filterSpec(p, undefined, host)).slice(2), ['rule 101 allow', 'rule 103 allow']);
});

test('includes and excludes: arches, caps (effective set), minKernel, as Docker reads them', () => {
  const rule = (name: string, cond: Pick<DockerProfile['syscalls'][number], 'includes' | 'excludes'>) => ({ names: [name], action: 'SCMP_ACT_ALLOW', ...cond });
  const p: DockerProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      rule('arch_prctl', { includes: { arches: ['amd64', 'x32'] } }), // yes: amd64 is Docker's x86-64
      rule('modify_ldt', { includes: { arches: ['x86_64'] } }), // yes
      rule('iopl', { includes: { arches: ['arm', 'arm64'] } }), // no
      rule('clone', { excludes: { arches: ['s390', 's390x'] } }), // yes
      rule('mount', { includes: { caps: ['CAP_SYS_ADMIN'] } }), // yes
      rule('reboot', { includes: { caps: ['CAP_SYS_ADMIN', 'CAP_SYS_BOOT'] } }), // no: includes needs all
      rule('chroot', { excludes: { caps: ['CAP_SYS_BOOT', 'NET_RAW'] } }), // no: excludes on any (prefix optional)
      rule('acct', { excludes: { caps: ['CAP_SYS_PACCT'] } }), // yes
      rule('ptrace', { includes: { minKernel: '4.8' } }), // yes
      rule('kcmp', { includes: { minKernel: '6.19' } }), // no
      rule('bpf', { excludes: { minKernel: '7.0' } }), // yes
      rule('setns', { excludes: { minKernel: '6.18' } }), // no
      rule('unshare', { includes: {}, excludes: { caps: [], arches: [] } }), // yes: empty lists are no condition
      rule('vhangup', { includes: { caps: ['CAP_SYS_ADMIN'], minKernel: '7.1' } }), // no
    ],
  };
  const names = filterSpec(p, undefined, host).split('\n').map((l) => /# (\w+)$/.exec(l)?.[1]).filter(Boolean);
  assert.deepEqual(names, ['arch_prctl', 'modify_ldt', 'clone', 'mount', 'acct', 'ptrace', 'bpf', 'unshare']);
});

test('what cannot be a filter is refused, naming what and where', () => {
  const bad = (p: Partial<DockerProfile>, re: RegExp, mode?: 'log') =>
    assert.throws(() => filterSpec({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [], ...p }, mode, host), (e: unknown) => isEunomiaError(e) && re.test(e.message));
  bad({ syscalls: [{ names: ['read', 'no_such_call'], action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]: unknown syscall "no_such_call"/);
  bad({ syscalls: [{ names: [''], action: 'SCMP_ACT_ALLOW' }] }, /unknown syscall ""/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, /SCMP_ACT_NOTIFY is not supported by seccomp run/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_TRACE' }] }, /SCMP_ACT_TRACE is not supported by seccomp run/);
  bad({ defaultAction: 'SCMP_ACT_NOTIFY' }, /defaultAction: SCMP_ACT_NOTIFY is not supported/);
  bad({ defaultAction: 'SCMP_ACT_BOGUS' }, /unknown action "SCMP_ACT_BOGUS"/);
  bad({ defaultErrnoRet: 70000 }, /defaultErrnoRet: 70000 is not an errno/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]: index 6/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.value: -1/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }] }, /2\^53/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'four' } }] }, /minKernel: "four" is not "major.minor"/);
  bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { euid: 0 } }] }, /unknown condition "euid"/);
});
