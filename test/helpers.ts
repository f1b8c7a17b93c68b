/** Shared by the tests: privilege checks, building eBPF objects, and counting kernel objects. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpfObject } from '../src/core/bpf-object.js';
import { hasBpfPrivileges } from '../src/core/kernel.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const isRoot = hasBpfPrivileges();
/** For `{ skip: needsRoot }` on kernel tests. */
export const needsRoot: string | false = !isRoot && 'needs root (CAP_BPF and CAP_PERFMON) to load eBPF programs';
export const clang = ['/usr/bin/clang-16', '/usr/bin/clang'].find((p) => existsSync(p));
export const needsClang: string | false = !clang && 'clang-16 is not installed (scripts/setup.sh installs it)';

/** A loaded object's .bss global (4 or 8 bytes) by name, read from the kernel's map; found through the object's BTF. */
export function bssGlobal(obj: BpfObject, name: string): number {
  const v = obj.btf.datasec('.bss')?.vars.find((x) => x.name === name);
  if (!v || (v.size !== 4 && v.size !== 8)) throw new Error(`${obj.name}: no 4- or 8-byte .bss global "${name}"`);
  const bss = obj.map('.bss').lookup(Buffer.alloc(4))!;
  return v.size === 8 ? Number(bss.readBigUInt64LE(v.offset)) : bss.readUInt32LE(v.offset);
}

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

function listed(kind: 'prog' | 'link' | 'map'): Set<number> {
  const r = spawnSync('bpftool', ['-j', kind, 'list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool ${kind} list failed: ${r.stderr}`);
  const list = JSON.parse(r.stdout || '[]') as { id: number }[];
  return new Set(list.map((x) => x.id));
}

/** The BPF programs, maps and links a process holds, from /proc/<pid>/fdinfo. */
export function heldBy(pid = process.pid): KernelObjects {
  const held: KernelObjects = { progs: new Set(), links: new Set(), maps: new Set() };
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return held; // the process is gone
  }
  for (const fd of fds) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const id = (k: string): number | undefined => {
      const m = new RegExp(`^${k}:\\s*(\\d+)$`, 'm').exec(info);
      return m ? Number(m[1]) : undefined;
    };
    const link = id('link_id');
    if (link !== undefined) held.links.add(link);
    else if (id('prog_id') !== undefined) held.progs.add(id('prog_id')!);
    else if (id('map_id') !== undefined) held.maps.add(id('map_id')!);
  }
  return held;
}

/**
 * Records which kernel objects a process held (call note() while they are loaded) and then
 * checks with bpftool that none of them is left. Only these ids count, so programs other
 * processes load at the same time do not disturb the check.
 */
export class KernelWatch {
  readonly seen: KernelObjects = { progs: new Set(), links: new Set(), maps: new Set() };

  /** Adds what `pid` holds now; returns how many objects that was. */
  note(pid = process.pid): number {
    const h = heldBy(pid);
    for (const k of ['progs', 'links', 'maps'] as const) for (const id of h[k]) this.seen[k].add(id);
    return h.progs.size + h.links.size + h.maps.size;
  }

  /** Noted ids bpftool still lists, after giving the kernel a few seconds to free maps. */
  async leftovers(ms = 5000): Promise<{ progs: number[]; links: number[]; maps: number[] }> {
    const end = Date.now() + ms;
    for (;;) {
      const now = { progs: listed('prog'), links: listed('link'), maps: listed('map') };
      const left = {
        progs: [...this.seen.progs].filter((id) => now.progs.has(id)),
        links: [...this.seen.links].filter((id) => now.links.has(id)),
        maps: [...this.seen.maps].filter((id) => now.maps.has(id)),
      };
      if ((left.progs.length === 0 && left.links.length === 0 && left.maps.length === 0) || Date.now() > end) return left;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export const NOTHING_LEFT = { progs: [], links: [], maps: [] };

/** Resolves when `pred` holds, polling; rejects after `ms` with `what` in the message. */
export async function waitFor(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A running `eunomia run …`: what it has printed so far, and its exit. */
export interface RunningCli {
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/**
 * Spawns `eunomia run …` (this checkout's, or `bin`) and resolves once it says its tracker
 * started, or has exited (the caller asserts on its output either way).
 */
export async function startRun(args: string[], bin = join(repoRoot, 'bin/eunomia.js')): Promise<RunningCli> {
  const cli = spawn(process.execPath, [bin, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  cli.stdout.on('data', (d) => (out += d));
  cli.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => cli.on('exit', r));
  await waitFor(() => /tracker started/.test(err) || cli.exitCode !== null, 'the tracker to start', 15_000);
  return { out: () => out, err: () => err, exited };
}

/**
 * Options a tracker cannot start without, for tests that start the whole catalogue: seccomp
 * records a target (here pid 1's cgroup), seccomplog needs the profile its workload runs under
 * (here one allowing everything, for pid 1).
 */
export function requiredOptions(tracker: string): Record<string, string | number | boolean> {
  if (tracker === 'seccomp') return { pid: 1 };
  if (tracker === 'seccomplog') return { pid: 1, profile: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }) };
  if (tracker === 'funclatency') return { func: 'libc:getppid' };
  return {};
}

/** requiredOptions as `eunomia run` flags (--name value, each option's own flag). */
export function requiredFlags(tracker: string): string[] {
  return Object.entries(requiredOptions(tracker)).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)]);
}

/** A port nothing listens on: one the kernel just gave out and took back. */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
