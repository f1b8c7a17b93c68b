/**
 * CO-RE against the shared minimized BTF (dist/bpf/shared.min.btf): an object built elsewhere
 * (hot-loaded) whose relocations it answers is loaded against it, and every relocated value is
 * the one the kernel's own BTF gives; an object reading a field it lacks is left the full BTF.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BpfObject } from '../../src/core/bpf-object.js';
import { Btf } from '../../src/core/btf/index.js';
import { coreRelocations, coversRelocations, essentialName } from '../../src/core/co-re.js';
import { VMLINUX_BTF } from '../../src/core/kernel.js';
import { SHARED_MIN_BTF } from '../../src/core/kernel-btf.js';
import { loadNative, type NativeBinding } from '../../src/core/native.js';
import { bssGlobal, buildBpf, KernelWatch, NOTHING_LEFT, needsClang, needsRoot, repoRoot, waitFor } from '../helpers.js';

const skip = needsRoot || needsClang;

test("essential names drop a flavour's suffix the way libbpf does", () => {
  assert.equal(essentialName('task_struct___flavour'), 'task_struct');
  assert.equal(essentialName('kernfs_node___old'), 'kernfs_node');
  assert.equal(essentialName('a___b___c'), 'a___b', 'the last X___Y');
  assert.equal(essentialName('task_struct'), 'task_struct');
  assert.equal(essentialName('x____y'), 'x____y', 'four underscores: no flavour');
  assert.equal(essentialName('___x'), '___x', 'nothing before the separator');
});

describe('CO-RE against the shared minimized BTF', { skip }, () => {
  let native: NativeBinding;
  let kernel: Btf;
  let shared: Btf;
  const watch = new KernelWatch();

  before(() => {
    native = loadNative();
    kernel = Btf.parse(readFileSync(VMLINUX_BTF));
    shared = Btf.parse(readFileSync(SHARED_MIN_BTF));
  });

  after(async () => {
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'every program and map they loaded is gone');
  });

  const field = (btf: Btf, struct: string, member: string): number | undefined =>
    btf.layout(btf.find(struct, 'struct')!.id).find((f) => f.name === member)?.bitOffset;

  /** Loads the object from memory (as a push does), runs getppid(), and reads what it relocated. */
  async function run(source: string, names: string[]): Promise<{ coreBtf: string; values: Record<string, number> }> {
    const obj = BpfObject.open(native, readFileSync(buildBpf(join(repoRoot, source))), 'co_re');
    try {
      obj.setGlobals({ target_tgid: process.pid });
      obj.load();
      obj.attachAll();
      watch.note();
      await waitFor(() => (void process.ppid, bssGlobal(obj, 'hits') > 0), 'the getppid() program ran');
      return { coreBtf: obj.coreBtf, values: Object.fromEntries(names.map((n) => [n, bssGlobal(obj, n)])) };
    } finally {
      await obj.close();
    }
  }

  test('relocations it answers are loaded against it, with the values the full BTF gives', async () => {
    const elf = readFileSync(buildBpf(join(repoRoot, 'test/bpf/co_re.bpf.c')));
    const kinds = new Set(coreRelocations(elf)!.map((r) => r.kind));
    assert.deepEqual([...kinds].sort((a, b) => a - b), [0, 2, 9, 10, 11], 'field offset and existence, type size, enum value existence and value');
    // The same root asked for its kernel type id: an id in the shared file, not the kernel's.
    const local = Btf.fromElf(elf);
    const task = local.find('task_struct', 'struct')!.id;
    assert.equal(coversRelocations(local, [{ kind: 9, typeId: task, access: [0] }], shared), true, 'its size: answered');
    assert.equal(coversRelocations(local, [{ kind: 7, typeId: task, access: [0] }], shared), false, 'its kernel type id: never');
    const { coreBtf, values } = await run('test/bpf/co_re.bpf.c', ['off_real_parent', 'has_tgid', 'size_task', 'read_ppid', 'read_tgid', 'read_flavour_tgid', 'has_memory', 'enum_memory']);
    assert.equal(coreBtf, SHARED_MIN_BTF, 'not the 5 MB kernel BTF');
    assert.deepEqual(values, {
      off_real_parent: field(kernel, 'task_struct', 'real_parent')! / 8,
      has_tgid: 1,
      size_task: kernel.find('task_struct', 'struct')!.size,
      read_ppid: process.ppid,
      read_tgid: process.pid,
      read_flavour_tgid: process.pid,
      has_memory: 1,
      enum_memory: kernel.find('cgroup_subsys_id', 'enum')!.values!.find((v) => v.name === 'memory_cgrp_id')!.value,
    });
  });

  test('a field it lacks leaves libbpf the kernel BTF, which has it', async () => {
    // Why it must: against the minimized BTF, bpf_core_field_exists() would say 0.
    assert.equal(field(shared, 'task_struct', 'nvcsw'), undefined, 'no shipped object reads nvcsw');
    const offset = field(kernel, 'task_struct', 'nvcsw');
    assert.ok(offset !== undefined, 'the kernel has task_struct.nvcsw');
    const { coreBtf, values } = await run('test/bpf/co_re_uncovered.bpf.c', ['off_nvcsw', 'has_nvcsw', 'read_tgid']);
    assert.equal(coreBtf, '', 'the full BTF');
    assert.deepEqual(values, { off_nvcsw: offset / 8, has_nvcsw: 1, read_tgid: process.pid });
  });
});
