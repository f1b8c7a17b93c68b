/** The resolver's eBPF side (bpf/containers): container cgroups as the kernel makes them. */
import { join } from 'node:path';
import { BpfObject, type BpfMap } from '../core/bpf-object.js';
import type { NativeBinding } from '../core/native.js';
import { objectDir } from '../core/paths.js';

const ID_LEN = 64;

export class CgroupWatcher {
  private readonly key = Buffer.alloc(8);

  private constructor(
    private readonly obj: BpfObject,
    private readonly map: BpfMap,
  ) {}

  static start(native: NativeBinding, dir = objectDir): CgroupWatcher {
    const obj = BpfObject.open(native, join(dir, 'containers.bpf.o'), 'containers');
    try {
      obj.load();
      obj.attachAll();
      return new CgroupWatcher(obj, obj.map('container_cgroups'));
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

  close(): Promise<void> {
    return this.obj.close();
  }

  closeNow(): void {
    this.obj.closeNow();
  }
}
