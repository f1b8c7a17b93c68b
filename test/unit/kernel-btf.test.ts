import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { VMLINUX_BTF } from '../../src/core/kernel.js';
import { minBtfFor } from '../../src/core/kernel-btf.js';

const noBtf = !existsSync(VMLINUX_BTF) && `this kernel has no ${VMLINUX_BTF}`;

function fakeBuild(hash: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-minbtf-'));
  writeFileSync(join(dir, 'x.bpf.o'), 'obj');
  writeFileSync(join(dir, 'x.min.btf'), 'btf');
  writeFileSync(join(dir, 'vmlinux.sha256'), hash + '\n');
  return join(dir, 'x.bpf.o');
}

test('the minimized BTF is used only on the kernel it was cut from', { skip: noBtf }, () => {
  const real = createHash('sha256').update(readFileSync(VMLINUX_BTF)).digest('hex');
  const same = fakeBuild(real);
  assert.equal(minBtfFor(same), same.replace('.bpf.o', '.min.btf'));
  assert.equal(minBtfFor(fakeBuild('0'.repeat(64))), '', 'another kernel: libbpf uses the full BTF');
  const noFile = fakeBuild(real);
  assert.equal(minBtfFor(noFile.replace('x.bpf.o', 'y.bpf.o')), '', 'no minimized BTF for this object');
});

test("the kernel's BTF hash is kept for this boot only", { skip: noBtf }, () => {
  const real = createHash('sha256').update(readFileSync(VMLINUX_BTF)).digest('hex');
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  // A fresh module instance, so the in-memory hash does not answer first.
  const load = async (): Promise<typeof import('../../src/core/kernel-btf.js')> => import(`../../src/core/kernel-btf.js?fresh=${Math.random()}`);
  return (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-btfhash-'));
    const cache = join(dir, 'sub/kernel-btf.sha256');
    assert.equal((await load()).runningKernelHash(cache), real, 'computed when nothing is cached');
    assert.equal(readFileSync(cache, 'utf8'), `${boot} ${real}\n`, 'and cached with the boot id');
    writeFileSync(cache, `${boot} ${'a'.repeat(64)}\n`);
    assert.equal((await load()).runningKernelHash(cache), 'a'.repeat(64), 'this boot: the cached hash answers (no 5 MB read)');
    writeFileSync(cache, `00000000-0000-0000-0000-000000000000 ${'a'.repeat(64)}\n`);
    assert.equal((await load()).runningKernelHash(cache), real, 'another boot: computed again');
  })();
});
