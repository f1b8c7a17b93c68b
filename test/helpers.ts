/** Shared by the tests: privilege checks, building eBPF objects, and counting kernel objects. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasBpfPrivileges } from '../src/core/kernel.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const isRoot = hasBpfPrivileges();
/** For `{ skip: needsRoot }` on kernel tests. */
export const needsRoot: string | false = !isRoot && 'needs root (CAP_BPF and CAP_PERFMON) to load eBPF programs';
export const clang = ['/usr/bin/clang-16', '/usr/bin/clang'].find((p) => existsSync(p));
export const needsClang: string | false = !clang && 'clang-16 is not installed (scripts/setup.sh installs it)';

/** Compiles a test eBPF program the way bpf/Makefile does, into a temp dir. */
export function buildBpf(source: string): string {
  if (!clang) throw new Error('clang not found');
  const out = join(mkdtempSync(join(tmpdir(), 'eunomia-bpf-')), source.replace(/^.*\//, '').replace(/\.c$/, '.o'));
  execFileSync(clang, ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-fms-extensions', '-Wno-microsoft-anon-tag',
    '-I', join(repoRoot, 'bpf/include'), '-c', source, '-o', out], { stdio: 'pipe' });
  return out;
}

export interface KernelObjects {
  progs: Set<number>;
  links: Set<number>;
  maps: Set<number>;
}

function ids(kind: 'prog' | 'link' | 'map'): Set<number> {
  const r = spawnSync('bpftool', ['-j', kind, 'list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool ${kind} list failed: ${r.stderr}`);
  const list = JSON.parse(r.stdout || '[]') as { id: number }[];
  return new Set(list.map((x) => x.id));
}

/** What bpftool sees loaded in the kernel right now. */
export function kernelObjects(): KernelObjects {
  return { progs: ids('prog'), links: ids('link'), maps: ids('map') };
}

/** Ids present now that were not in `before`: what a run left behind. */
export function leftovers(before: KernelObjects): { progs: number[]; links: number[]; maps: number[] } {
  const now = kernelObjects();
  const diff = (a: Set<number>, b: Set<number>): number[] => [...a].filter((x) => !b.has(x));
  return { progs: diff(now.progs, before.progs), links: diff(now.links, before.links), maps: diff(now.maps, before.maps) };
}

/**
 * What is left after `before`, once the kernel had time to free it: maps are released
 * asynchronously after their last reference goes, so poll for a few seconds.
 */
export async function settledLeftovers(before: KernelObjects, ms = 5000): Promise<{ progs: number[]; links: number[]; maps: number[] }> {
  const end = Date.now() + ms;
  for (;;) {
    const left = leftovers(before);
    if ((left.progs.length === 0 && left.links.length === 0 && left.maps.length === 0) || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves when `pred` holds, polling; rejects after `ms` with `what` in the message. */
export async function waitFor(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
