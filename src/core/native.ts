/**
 * The native binding's surface, declared in one place. Arguments are validated by the
 * TypeScript wrappers (bpf-object.ts) before they get here: the C++ side trusts them.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EunomiaError, ErrorCodes } from './errors.js';

export interface NativeProgram {
  name: string;
  section: string;
  type: number;
  autoload: boolean;
}

export interface NativeMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  fd: number;
  internal: boolean;
}

export interface NativeReaderStats {
  records: number;
  delivered: number;
  batches: number;
  lostKernel: number;
  lostQueue: number;
  queuedBytes: number;
  error?: string;
}

/** Errors thrown by the binding carry the libbpf log and errno. */
export interface NativeError extends Error {
  errno?: number;
  log?: string;
}

export interface NativeObject {
  programs(): NativeProgram[];
  maps(): NativeMap[];
  getInitialValue(map: string): Buffer | null;
  setInitialValue(map: string, data: Buffer): void;
  setMaxEntries(map: string, n: number): void;
  setAutoload(prog: string, on: boolean): void;
  /** Returns libbpf's informational log. */
  load(): string;
  /** load() on a libuv worker thread; other calls throw until it settles. */
  loadAsync(): Promise<string>;
  attach(prog: string): number;
  /** `cookie`: the u64 bpf_get_attach_cookie() returns in the program (checked: 0 ≤ cookie < 2^64). */
  attachUprobe(prog: string, binary: string, func: string, offset: number, pid: number, retprobe: boolean, cookie: bigint): number;
  attachPerfEvent(prog: string, type: number, config: number, sample: number, freq: boolean, cpu: number, pid: number): number;
  detach(link: number): boolean;
  mapLookup(map: string, key: Buffer, valueSize: number): Buffer | null;
  mapUpdate(map: string, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(map: string, key: Buffer): boolean;
  mapNextKey(map: string, key: Buffer | null): Buffer | null;
  mapLookupBatch(map: string, valueSize: number, del: boolean): { keys: Buffer; values: Buffer; count: number };
  openReader(
    map: string,
    onBatch: (records: Buffer, count: number) => void,
    perf: boolean,
    pollMs: number,
    perfPages: number,
    batchBytes: number,
    maxQueuedBytes: number,
    /** Ring buffers: the idle flag as (global-data map, byte offset); see eunomia.bpf.h. */
    idleMap?: string,
    idleOffset?: number,
  ): number;
  readerStats(id: number): NativeReaderStats | null;
  closeReader(id: number): NativeReaderStats | null;
  programInfo(prog: string): { id: number; runCount: number; runTimeNs: number } | null;
  close(): void;
  /** close() on a worker thread: detaching waits for kernel RCU grace periods. */
  closeAsync(): Promise<void>;
  /** Detaches every link on a worker thread; maps and readers stay usable. */
  detachAllAsync(): Promise<void>;
}

export interface NativeBinding {
  /** `btfPath`: a minimized kernel BTF for CO-RE ('' = the kernel's own). */
  BpfObject: new (source: string | Buffer, name: string, btfPath: string) => NativeObject;
  numPossibleCpus(): number;
  libbpfVersion(): string;
  mountTracefs(target: string): number;
  /** BPF run-time stats on while the returned fd is open; a negative errno on failure. */
  enableBpfStats(): number;
  /** Returns the C heap's free memory to the kernel (malloc_trim); whether any was released. */
  trimMemory(): boolean;
}

let cached: NativeBinding | undefined;

/** Loads the addon once; a missing build is reported with how to make it. */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  const path = fileURLToPath(new URL('../../../native/build/Release/eunomia.node', import.meta.url));
  try {
    cached = createRequire(import.meta.url)(path) as NativeBinding;
  } catch (e) {
    throw new EunomiaError(
      ErrorCodes.NATIVE_MISSING,
      `native addon not found at ${path} — run "npm run setup" to build it`,
      { cause: e },
    );
  }
  return cached;
}
