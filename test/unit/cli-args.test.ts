import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRunArgs, runHelp } from '../../src/cli/args.js';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';
import { checkBtf } from '../../src/core/kernel.js';
import { shellJoin } from '../../src/trackers/common.js';
import { resolveOptions } from '../../src/runtime/options.js';
import { findTracker } from '../../src/trackers/registry.js';

const proc = findTracker('process');

test('run flags and tracker options parse into typed values', () => {
  const a = parseRunArgs(proc, ['--fmt', 'json', '-o', '/tmp/x', '-T', '5', '-p', '42', '--min-duration', '10', '--include-self']);
  assert.equal(a.format, 'json');
  assert.equal(a.output, '/tmp/x');
  assert.equal(a.seconds, 5);
  assert.deepEqual(a.options, { pid: 42, minDuration: 10, includeSelf: true });
});

test('--fmt accepts the original spellings', () => {
  for (const [given, want] of [['plain_text', 'plain'], ['plain_txt', 'plain'], ['json_format', 'json'], ['CSV', 'csv'], ['plain', 'plain']]) {
    assert.equal(parseRunArgs(proc, ['--fmt', given]).format, want);
  }
  assert.equal(parseRunArgs(proc, []).format, 'plain');
});

test('bad arguments are E_USAGE errors naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['-p', 'x1'], /--pid expects a non-negative integer, got "x1"/],
    [['-p', '-3'], /--pid|-p/],
    [['-T', '0'], /greater than 0/],
    [['--unknown'], /Unknown option '--unknown'/],
    [['extra'], /positional|Unexpected argument 'extra'/i],
    [['--fmt', 'yaml'], /unknown output format "yaml"/],
    [['--min-duration', '99999999999999999'], /--min-duration must be at most/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => parseRunArgs(proc, argv), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.USAGE && re.test(e.message), argv.join(' '));
  }
});

test('options resolve to the globals of the eBPF object; Eunomia excludes itself by default', () => {
  const r = resolveOptions(proc, { pid: 7, minDuration: 3 }, 1234);
  assert.deepEqual(r.globals, { eunomia_target_pid: 7, min_duration_ns: 3_000_000n, eunomia_exclude_pid: 1234 });
  const incl = resolveOptions(proc, { includeSelf: true }, 1234);
  assert.equal(incl.globals.eunomia_exclude_pid, undefined);
});

test('options from a program (not the CLI) are validated too', () => {
  assert.throws(() => resolveOptions(proc, { pid: -1 }, 1), /option pid: expected an integer/);
  assert.throws(() => resolveOptions(proc, { nope: 1 }, 1), /unknown option "nope"/);
  assert.throws(() => resolveOptions(proc, { includeSelf: 'yes' as unknown as boolean }, 1), /expected true or false/);
});

test('help lists every option and ends with examples', () => {
  const h = runHelp(proc);
  for (const f of ['--pid', '--cgroup', '--include-self', '--min-duration', '--fmt', '--output', '--time']) assert.ok(h.includes(f), f);
  assert.match(h, /Examples:\n.*eunomia run process/);
});

test('argument lists are shown quoted where a shell would need it', () => {
  assert.equal(shellJoin(['/bin/echo', 'a b', 'c', '', "it's", '$HOME', 'x=1,y']), "/bin/echo 'a b' c '' 'it'\\''s' '$HOME' x=1,y");
  assert.equal(shellJoin(undefined), '');
});

test('a kernel without BTF gets one line saying what is missing and what kernel to use', () => {
  assert.throws(
    () => checkBtf('/nonexistent/vmlinux'),
    (e: unknown) =>
      e instanceof EunomiaError &&
      e.code === ErrorCodes.NO_BTF &&
      e.message === 'this kernel exposes no BTF (/nonexistent/vmlinux is missing) — use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.10 or later)',
  );
  assert.doesNotThrow(() => checkBtf('/proc/self/status'));
});
