/** Containers from cgroups: the ids runtimes put in cgroup paths, and the v2 hierarchy's ids. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeName } from './types.js';

export interface CgroupContainer {
  /** Full 64-hex container id. */
  id: string;
  /** Runtime, when the path's naming says which; undefined for bare ids (e.g. kubepods/<id>). */
  runtime?: RuntimeName;
}

// Same rule as bpf/include/container.bpf.h: the first run of exactly 64 hex digits.
const CID = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/;

/** The container a cgroup path belongs to, or undefined for a host cgroup. */
export function containerFromPath(path: string): CgroupContainer | undefined {
  const m = CID.exec(path);
  if (!m) return undefined;
  const before = path.slice(0, m.index);
  let runtime: RuntimeName | undefined;
  if (/(?:^|\/)docker[-/]$/.test(before)) runtime = 'docker';
  else if (/cri-containerd-$|\/containerd\/$|\/k8s\.io\/$/.test(before)) runtime = 'containerd';
  else if (/crio-$|crio-conmon-$/.test(before)) runtime = 'cri-o';
  else if (/libpod-$|libpod-conmon-$|\/libpod_parent\/$/.test(before)) runtime = 'podman';
  return runtime ? { id: m[0], runtime } : { id: m[0] };
}

/** Where the cgroup v2 hierarchy is mounted (pure v2: /sys/fs/cgroup; hybrid: …/unified). */
export function cgroup2Root(mountinfo = '/proc/self/mountinfo'): string | undefined {
  let text: string;
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <opts> [optional...] - <fstype> <source> <super opts>"
    const sep = line.indexOf(' - ');
    if (sep < 0 || !line.slice(sep + 3).startsWith('cgroup2 ')) continue;
    const mountPoint = line.split(' ')[4];
    if (mountPoint) return mountPoint.replace(/\\040/g, ' ');
  }
  return undefined;
}

/** A process's cgroup v2 path ("0::/docker/<id>"), or undefined if it is gone. */
export function cgroupOfPid(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3);
}

/**
 * Every cgroup of the v2 hierarchy: id (the directory's inode number, which is what
 * bpf_get_current_cgroup_id returns) → path relative to the root ("/docker/<id>").
 */
export function scanCgroups(root: string): Map<number, string> {
  const out = new Map<number, string>();
  const walk = (dir: string, rel: string, depth: number): void => {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return; // removed while we walk
    }
    out.set(st.ino, rel || '/');
    if (depth > 32) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) walk(join(dir, n), `${rel}/${n}`, depth + 1);
  };
  walk(root, '', 0);
  return out;
}

/** The v2 cgroup id of a path relative to the root, or undefined if it does not exist. */
export function cgroupIdOf(root: string, rel: string): number | undefined {
  try {
    return statSync(join(root, rel)).ino;
  } catch {
    return undefined;
  }
}

let root: string | null | undefined;

/**
 * The v2 cgroup id of a live process, from /proc (for rows counted in the kernel without
 * one); undefined when the process is gone or there is no cgroup v2 hierarchy.
 */
export function cgroupIdOfPid(pid: number): number | undefined {
  if (root === undefined) root = cgroup2Root() ?? null;
  if (root === null) return undefined;
  const rel = cgroupOfPid(pid);
  return rel === undefined ? undefined : cgroupIdOf(root, rel);
}
