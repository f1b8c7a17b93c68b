/**
 * Who started what: a bounded table of processes from the process tracker's exec events, for
 * an alert's parent chain. A process Eunomia never saw exec (started before it) is read from
 * /proc while it lives.
 */
import { readFileSync } from 'node:fs';

export interface ProcessNode {
  pid: number;
  ppid: number;
  comm: string;
  exe?: string;
  args?: string[];
}

export interface ProcessTreeOptions {
  /** Processes remembered (exited ones are dropped first, then the oldest). Default 32768. */
  max?: number;
  /** Reads /proc/<pid> for a process not seen; replaceable in tests. */
  proc?: (pid: number) => ProcessNode | undefined;
}

/** From /proc/<pid>/stat and cmdline; undefined when the process is gone. */
export function readProc(pid: number): ProcessNode | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    return { pid, ppid, comm, ...(args.length ? { args } : {}) };
  } catch {
    return undefined;
  }
}

export class ProcessTree {
  private readonly nodes = new Map<number, ProcessNode & { exited?: boolean }>();
  private readonly max: number;
  private readonly proc: (pid: number) => ProcessNode | undefined;

  constructor(opts: ProcessTreeOptions = {}) {
    this.max = opts.max ?? 32768;
    this.proc = opts.proc ?? readProc;
  }

  /**
   * Feed it process tracker events (type exec/exit). Each is added as it comes: held back in
   * batches of 256 (for the table's code and memory to be at hand), the events outlived young
   * collections and cost the pipeline ~20 ns per event more (bench/rules.ts, 2026-12-07).
   */
  observe(data: Record<string, unknown>): void {
    const pid = data.pid;
    if (typeof pid !== 'number') return;
    if (data.type === 'exec') {
      // One shape for every node (exited included) and the decoder's own strings and args
      // array, not copies: this runs for every exec on the host. A reused pid keeps its old
      // place in the eviction order (a set, not a delete and a set: half the hashing).
      const args = data.args;
      this.nodes.set(pid, {
        pid,
        ppid: typeof data.ppid === 'number' ? data.ppid : 0,
        comm: typeof data.comm === 'string' ? data.comm : '',
        exe: typeof data.exe === 'string' ? data.exe : undefined,
        args: Array.isArray(args) ? (args as string[]) : undefined,
        exited: false,
      });
      this.evict();
    } else if (data.type === 'exit') {
      const n = this.nodes.get(pid);
      if (n) n.exited = true; // kept: alerts about it may still be on their way
    }
  }

  get(pid: number): ProcessNode | undefined {
    let n: ProcessNode | undefined = this.nodes.get(pid);
    if (!n) {
      n = this.proc(pid);
      if (n) {
        this.nodes.set(pid, n);
        this.evict();
      }
    }
    return n;
  }

  /** The ancestors of `pid`, parent first, at most `depth` (stops at pid 1 or an unknown parent). */
  parents(pid: number, depth = 8): ProcessNode[] {
    const out: ProcessNode[] = [];
    const seen = new Set<number>([pid]);
    let cur = this.get(pid);
    while (cur && out.length < depth && cur.ppid > 0 && !seen.has(cur.ppid)) {
      seen.add(cur.ppid);
      const p = this.get(cur.ppid);
      if (!p) break;
      out.push(p);
      if (p.pid === 1) break;
      cur = p;
    }
    return out;
  }

  get size(): number {
    return this.nodes.size;
  }

  /**
   * Over the limit, down to 7/8 of it in one go (exited processes first, then the oldest), so
   * that a full table is not scanned again on every exec.
   */
  private evict(): void {
    if (this.nodes.size <= this.max) return;
    const target = this.max - Math.floor(this.max / 8);
    for (const [pid, n] of this.nodes) {
      if (this.nodes.size <= target) return;
      if (n.exited) this.nodes.delete(pid);
    }
    for (const pid of this.nodes.keys()) {
      if (this.nodes.size <= target) return;
      this.nodes.delete(pid);
    }
  }
}
