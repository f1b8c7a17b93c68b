/** Kernel symbols from a kallsyms file: modules, unsorted input, garbage lines, hidden addresses. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KernelSymbols, Symbolizer } from '../../src/profiling/symbols/index.js';
import { repoRoot } from '../helpers.js';

const FIXTURE = join(repoRoot, 'test/fixtures/symbols/kallsyms.txt');

describe('kernel symbols (kallsyms)', () => {
  const ks = new KernelSymbols(FIXTURE);

  test('an address names the text symbol at or before it, with the offset', () => {
    const [f] = ks.resolve([0xffffffff81001008n]);
    assert.deepEqual(f, { addr: 0xffffffff81001008n, name: 'first_func', module: 'vmlinux', offset: 8, resolved: true });
  });

  test('data symbols are not functions: an address past one still names the function before', () => {
    const [f] = ks.resolve([0xffffffff81003010n]);
    assert.equal(f!.name, 'second_func');
    assert.equal(f!.offset, 0x1010);
  });

  test('module symbols carry their module, whatever order the file lists them in', () => {
    const [a, b, c, bpf] = ks.resolve([0xffffffffc0001010n, 0xffffffffc0001810n, 0xffffffffc0002004n, 0xffffffffa0000040n]);
    assert.equal(a!.name, 'mod_a_func');
    assert.equal(a!.module, 'mod_a');
    assert.equal(b!.name, 'mod_a_other');
    assert.equal(c!.name, 'mod_b_func');
    assert.equal(c!.module, 'mod_b');
    assert.equal(bpf!.name, 'bpf_prog_6deef7357e7b4530_handler');
    assert.equal(bpf!.module, 'bpf');
  });

  test('garbage lines are skipped; only text symbols (t T w W) are kept', () => {
    ks.resolve([]);
    assert.equal(ks.count, 8);
  });

  test('user addresses, addresses below every symbol and far past the last are in no mapping', () => {
    const frames = ks.resolve([0n, 0x7fff00001000n, 0xffff900000000000n, 0xffffffff81004000n + 0x200000n, 0xffffffffffffffffn]);
    for (const f of frames) {
      assert.equal(f.resolved, false, f.name);
      assert.equal(f.reason, 'no-mapping');
      assert.equal(f.name, '[unknown]');
    }
  });

  test('kallsyms with every address 0 (kptr_restrict, no CAP_SYSLOG) names nothing, and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-ksyms-'));
    const hidden = join(dir, 'kallsyms');
    writeFileSync(hidden, '0000000000000000 T _text\n0000000000000000 t first_func\n');
    const k = new KernelSymbols(hidden);
    const [f] = k.resolve([0xffffffff81001008n]);
    assert.equal(f!.reason, 'unreadable');
    assert.match(k.problem()!, /kptr_restrict/);
  });

  test('a missing kallsyms is unreadable, not an exception', () => {
    const s = new Symbolizer({ kallsymsPath: '/nonexistent/kallsyms' });
    const [f] = s.kernel([0xffffffff81001008n]);
    assert.equal(f!.reason, 'unreadable');
    assert.match(s.kernelProblem()!, /nonexistent/);
    assert.equal(s.stats().unresolved.unreadable, 1);
  });

  test('the Symbolizer reads kallsyms once, on first use, and counts what it resolved', () => {
    const s = new Symbolizer({ kallsymsPath: FIXTURE });
    assert.equal(s.stats().kernelSymbols, 0);
    s.kernel([0xffffffff81001008n, 1n]);
    const st = s.stats();
    assert.equal(st.kernelSymbols, 8);
    assert.ok(st.kernelBytes > 0);
    assert.equal(st.resolved, 1);
    assert.equal(st.unresolved['no-mapping'], 1);
  });

  test('bad arguments are EunomiaErrors', () => {
    const s = new Symbolizer({ kallsymsPath: FIXTURE });
    assert.throws(() => s.kernel([1 as unknown as bigint]), { name: 'EunomiaError', code: 'E_OPTION' });
    assert.throws(() => s.user(1.5, [1n]), { name: 'EunomiaError', code: 'E_OPTION' });
    assert.throws(() => new Symbolizer({ maxCachedBytes: -1 }), { name: 'EunomiaError', code: 'E_OPTION' });
  });
});
