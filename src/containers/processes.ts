/**
 * The processes of a running container, for trackers that probe its files (funclatency's
 * BINARY, memleak's C library): a process's root (/proc/PID/root) is where the container's
 * files are. Found by the container's id in their cgroup paths, which every runtime names after
 * it (docker-<id>.scope, cri-containerd-<id>.scope, libpod-<id>, crio-<id>, …/<id>).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { ContainerLookup } from '../runtime/types.js';

/** The pids whose cgroup path names the container `id` (a full id or a prefix of 4+ hex digits), at most `limit`. */
export function containerPids(id: string, limit = Infinity): number[] {
  const named = new RegExp(`[/:-]${id}[0-9a-f]*(\\.scope)?(/|$)`, 'm');
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (out.length >= limit) break;
    if (!/^\d+$/.test(name)) continue;
    try {
      if (named.test(readFileSync(`/proc/${name}/cgroup`, 'utf8'))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * The container id a --container selector names: through the agent's containers (a name, an id
 * or its prefix) when it has them, else the selector as an id prefix. E_CONTAINER otherwise.
 */
export function containerIdOf(tracker: string, selector: string, containers: ContainerLookup | undefined): string {
  const ids = containers?.idsOf(selector) ?? [];
  if (ids.length > 1) throw new EunomiaError(ErrorCodes.CONTAINER, `tracker ${tracker}: --container ${selector} is ambiguous: ${ids.map((i) => i.slice(0, 12)).join(', ')} — give more of the id`);
  const id = ids[0] ?? selector;
  if (!/^[0-9a-f]{4,64}$/.test(id)) {
    throw new EunomiaError(ErrorCodes.CONTAINER, `tracker ${tracker}: --container ${selector}: no running container of that name — start it first, or give its id`);
  }
  return id;
}
