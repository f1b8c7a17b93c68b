/**
 * Kernel memory of eBPF maps as the kernel charges it (memlock, from /proc/self/fdinfo): each
 * map once, however many of the fds given hold it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface MapMemory {
  maps: number;
  bytes: number;
}

function fdinfoMap(fd: number): { id: number; memlock: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    return undefined; // closed meanwhile
  }
  const id = /^map_id:\s*(\d+)/m.exec(text);
  const mem = /^memlock:\s*(\d+)/m.exec(text);
  return id && mem ? { id: Number(id[1]), memlock: Number(mem[1]) } : undefined;
}

/** The maps among `fds` (others are skipped) and their memlock, summed. */
export function mapMemory(fds: Iterable<number>): MapMemory {
  const seen = new Map<number, number>();
  for (const fd of fds) {
    const m = fdinfoMap(fd);
    if (m) seen.set(m.id, m.memlock);
  }
  let bytes = 0;
  for (const b of seen.values()) bytes += b;
  return { maps: seen.size, bytes };
}

/** Every eBPF map this process holds. */
export function processMapMemory(): MapMemory {
  let fds: number[];
  try {
    fds = readdirSync('/proc/self/fdinfo').map(Number);
  } catch {
    fds = [];
  }
  return mapMemory(fds);
}
