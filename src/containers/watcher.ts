/**
 * The container subsystem's eBPF side (bpf/containers): container cgroups as the kernel makes
 * them, and when each task entered its container (see `entered` in containers.bpf.c).
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject, type BpfMap } from '../core/bpf-object.js';
import { hostMntGlobal, hostMntNs } from '../core/kernel.js';
import type { NativeBinding } from '../core/native.js';
import { objectDir } from '../core/paths.js';

const ID_LEN = 64;

/** Monotonic ns of a task's entry into its container; 0: not entered (yet); undefined: unknown. */
export type EnteredAt = number | undefined;

export class CgroupWatcher {
  private readonly key = Buffer.alloc(8);
  private readonly tidKey = Buffer.alloc(4);

  private constructor(
    private readonly obj: BpfObject,
    private readonly map: BpfMap,
    private readonly entered: BpfMap,
  ) {}

  /** Loads on a worker thread (BpfObject.loadAsync): the trackers' objects load meanwhile. */
  static async start(native: NativeBinding, dir = objectDir): Promise<CgroupWatcher> {
    const obj = BpfObject.open(native, join(dir, 'containers.bpf.o'), 'containers');
    try {
      obj.setGlobals(hostMntGlobal(obj.globals()));
      await obj.loadAsync();
      obj.attachAll();
      const w = new CgroupWatcher(obj, obj.map('container_cgroups'), obj.map('entered'));
      w.seed();
      obj.releaseBtf();
      return w;
    } catch (e) {
      obj.closeNow();
      throw e;
    }
  }

  /** The container id of a v2 cgroup made since start; undefined if none was recorded. */
  containerOf(cgroupId: number): string | undefined {
    this.key.writeBigUInt64LE(BigInt(cgroupId));
    const v = this.map.lookup(this.key);
    return v ? v.toString('latin1', 0, ID_LEN) : undefined;
  }

  /** When thread `tid` (else its process `pid`) entered its container. */
  enteredAt(tid: number, pid: number): EnteredAt {
    for (const id of tid === pid ? [tid] : [tid, pid]) {
      this.tidKey.writeUInt32LE(id >>> 0);
      const v = this.entered.lookup(this.tidKey);
      if (v) return Number(v.readBigUInt64LE(0));
    }
    return undefined;
  }

  /**
   * Tasks that predate the watcher are unknown to it: those living in a mount namespace other
   * than the host's are taken as having entered (1 ns: before anything we see), unless they
   * run from a memfd, which a runtime mid-setup may; a missing or raced /proc entry is skipped.
   */
  private seed(): void {
    const host = hostMntNs();
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (statSync(`/proc/${name}/ns/mnt`).ino === host) continue;
        if (readlinkSync(`/proc/${name}/exe`).startsWith('/memfd:')) continue;
        for (const tid of readdirSync(`/proc/${name}/task`)) {
          this.tidKey.writeUInt32LE(Number(tid));
          this.entered.update(this.tidKey, one);
        }
      } catch {
        // gone, or a kernel thread (no exe)
      }
    }
  }

  close(): Promise<void> {
    return this.obj.close();
  }

  closeNow(): void {
    this.obj.closeNow();
  }
}
