import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityName } from '../../src/trackers/names/capabilities.js';
import { errnoName } from '../../src/trackers/names/errno.js';
import { flagNames } from '../../src/trackers/names/flags.js';
import { ipString } from '../../src/trackers/names/net.js';
import { openFlags, opensForWriting } from '../../src/trackers/names/open-flags.js';
import { signalName } from '../../src/trackers/names/signals.js';

test('signal, capability and errno names', () => {
  assert.deepEqual([signalName(9), signalName(15), signalName(34), signalName(0)], ['SIGKILL', 'SIGTERM', 'SIGRTMIN+2', '']);
  assert.deepEqual([capabilityName(21), capabilityName(39), capabilityName(99)], ['CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_99']);
  assert.deepEqual([errnoName(-2), errnoName(13), errnoName(0), errnoName(-999)], ['ENOENT', 'EACCES', '', 'E999']);
});

test('addresses print as Node and RFC 5952 would', () => {
  assert.equal(ipString(2, [127, 0, 0, 1, 9, 9]), '127.0.0.1');
  const v6 = (s: string) => [...Buffer.from(s.replace(/:/g, ''), 'hex')];
  assert.equal(ipString(10, v6('0000:0000:0000:0000:0000:0000:0000:0001')), '::1');
  assert.equal(ipString(10, v6('2001:0db8:0000:0000:0001:0000:0000:0001')), '2001:db8::1:0:0:1');
  assert.equal(ipString(10, v6('0000:0000:0000:0000:0000:ffff:0a00:0001')), '::ffff:10.0.0.1');
  assert.equal(ipString(10, v6('fe80:0000:0000:0000:0000:0000:0000:0000')), 'fe80::');
  assert.equal(ipString(99, [1, 2, 3, 4]), '');
});

test('flag words as names, unknown bits as hex', () => {
  const t = [[1, 'A'], [2, 'B'], [8, 'D']] as const;
  assert.equal(flagNames(0b1011, t), 'A|B|D');
  assert.equal(flagNames(0b10101, t), 'A|0x14');
  assert.equal(flagNames(0, t, 'NONE'), 'NONE');
});

test('open flags: text (the same string each time), and whether the open may change the file', () => {
  const O_CREAT = 0o100, O_TRUNC = 0o1000, O_CLOEXEC = 0o2000000;
  assert.equal(openFlags(1 | O_CREAT | O_TRUNC | O_CLOEXEC), 'O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC');
  assert.equal(openFlags(O_CLOEXEC), 'O_RDONLY|O_CLOEXEC');
  assert.equal(openFlags(O_CLOEXEC), openFlags(O_CLOEXEC));
  assert.equal(openFlags(0), 'O_RDONLY');
  assert.deepEqual([0, O_CLOEXEC, 1, 2, O_CREAT, O_TRUNC, 3].map(opensForWriting), [false, false, true, true, true, true, true]);
});

test('log2 histograms: bucket bounds, and text with bars', async () => {
  const { log2Buckets, histogramText } = await import('../../src/trackers/histogram.js');
  const b = log2Buckets([1, 0, 4, 2, 0, 0]);
  assert.deepEqual(b, [
    { low: 0, high: 1, count: 1 },
    { low: 2, high: 3, count: 0 },
    { low: 4, high: 7, count: 4 },
    { low: 8, high: 15, count: 2 },
  ]);
  const text = histogramText(b, 'usecs', 8).split('\n');
  assert.equal(text[0], '  usecs : count     distribution');
  assert.equal(text[3], ' 4 -> 7 : 4         |********|');
  assert.equal(text[4], '8 -> 15 : 2         |****    |');
  assert.equal(histogramText([], 'usecs'), '     (no samples)');
});

test('syscall numbers as names (x86-64)', async () => {
  const { syscallName, syscallNumber } = await import('../../src/trackers/names/syscalls.js');
  assert.deepEqual([syscallName(0), syscallName(1), syscallName(59), syscallName(110), syscallName(321)], ['read', 'write', 'execve', 'getppid', 'bpf']);
  assert.equal(syscallName(100000), 'syscall_100000');
  assert.equal(syscallNumber('openat'), 257);
  assert.equal(syscallNumber('nope'), undefined);
});

test('--syscall options: names, sys_ names and numbers; unknown or out-of-range ones are E_OPTION naming the tracker', async () => {
  const { parseSyscallOption } = await import('../../src/trackers/names/syscalls.js');
  assert.equal(parseSyscallOption('syscount', 'getppid', 512), 110);
  assert.equal(parseSyscallOption('syscount', 'sys_openat', 512), 257);
  assert.equal(parseSyscallOption('syscall', ' 59 ', 1024), 59);
  assert.throws(() => parseSyscallOption('syscount', 'no_such', 512), /tracker syscount: option syscall: unknown syscall "no_such"/);
  assert.throws(() => parseSyscallOption('syscount', '600', 512), /unknown syscall "600"/);
});
