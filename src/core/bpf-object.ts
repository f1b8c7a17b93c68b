/**
 * An eBPF object: open (file or buffer) → set globals → load → attach → read → close.
 * Validation happens here so the native binding receives clean, positional values.
 */
import { readFileSync, statSync } from 'node:fs';
import { Btf, encodeValue } from './btf/index.js';
import { EunomiaError, ErrorCodes, logTail, type ErrorCode } from './errors.js';
import type { NativeBinding, NativeError, NativeMap, NativeObject, NativeProgram, NativeReaderStats } from './native.js';
import { hasBpfPrivileges, permissionRefusal } from './kernel.js';
import { coveringMinBtf, minBtfFor } from './kernel-btf.js';
import { attachKind, isRetprobe } from './sections.js';
import { mapMemory, type MapMemory } from './map-memory.js';

const PERCPU_MAP_TYPES = new Set([5, 6, 10, 21]); // percpu hash/array, lru percpu hash, percpu cgroup storage
export const MAP_TYPE_PERF_EVENT_ARRAY = 4;
export const MAP_TYPE_RINGBUF = 27;
/** Per-CPU counter of records the ring buffer refused (see bpf/include/eunomia.bpf.h). */
export const LOST_MAP = 'eunomia_lost';
/** Per-CPU counter of operations an aggregation map could not take (bpf/include/aggregate.bpf.h). */
export const MAP_INSERT_FAILURES_MAP = 'eunomia_map_insert_failures';
/** Set by an idle reader; programs then force a wake-up (bpf/include/eunomia.bpf.h). */
const READER_IDLE_FLAG = 'eunomia_reader_idle';
/** The container filter's program in bpf/include/eunomia.bpf.h; off unless a filter is set. */
export const CONTAINER_FILTER_PROGRAM = 'eunomia_cgroup_mkdir';
const GLOBAL_SECTIONS = ['.rodata', '.bss', '.data'];

export interface UprobeSpec {
  binary: string;
  /** Symbol to probe; or give `offset` alone. */
  func?: string;
  offset?: number;
  pid?: number;
  retprobe?: boolean;
  /**
   * What bpf_get_attach_cookie() returns in the program for this attachment (a u64, default
   * 0): one program attached to several functions tells them apart by it.
   */
  cookie?: number | bigint;
}

export interface PerfEventSpec {
  /** PERF_TYPE_* (0 hardware, 1 software). */
  type: number;
  config: number;
  /** Samples per second (frequency) or events per sample (period): exactly one. */
  frequency?: number;
  period?: number;
  /** CPUs to sample; default every possible CPU. */
  cpus?: number[];
  pid?: number;
}

export interface ReaderOptions {
  pollMs?: number;
  perfPages?: number;
  batchBytes?: number;
  maxQueuedBytes?: number;
}

export type ReaderStats = NativeReaderStats;

export class BpfReader {
  private delivered = 0;
  private final?: ReaderStats;

  constructor(
    private readonly obj: BpfObject,
    readonly id: number,
  ) {}

  /** @internal counts batches as they reach JavaScript, so close() knows when all arrived. */
  noteDelivered(count: number): void {
    this.delivered += count;
  }

  stats(): ReaderStats {
    return this.final ?? this.obj.nativeReaderStats(this.id);
  }

  /** Stops the reader thread and resolves once every batch it queued has been delivered. */
  async close(): Promise<ReaderStats> {
    if (this.final) return this.final;
    const s = this.obj.nativeCloseReader(this.id);
    // Batches queued before the thread stopped still arrive on later turns of the event loop.
    for (let i = 0; i < 1000 && this.delivered + s.lostQueue < s.records; i++) {
      await new Promise((r) => setImmediate(r));
    }
    this.final = { ...s, delivered: this.delivered };
    return this.final;
  }
}

function wrapNative(e: unknown, code: ErrorCode, what: string): EunomiaError {
  const ne = e as NativeError;
  const log = ne?.log ?? '';
  const reason = ne?.message ?? String(e);
  const tail = log ? `\n${logTail(log)}` : '';
  let hint = '';
  // EACCES is also the verifier's answer to an unsafe program: its log then says why.
  const verifier = /\bprocessed \d+ insns\b/.test(log);
  if (ne?.errno === 1 || ne?.errno === 13) {
    // Privileged already, "run as root" would send the user the wrong way: doctor says which kinds the kernel allows.
    const privileged = hasBpfPrivileges();
    hint = verifier ? ' — the verifier refused a program (its log follows)' : ` — ${permissionRefusal(privileged)}${privileged ? '; "eunomia doctor" shows which kinds this kernel allows' : ''}`;
  }
  return new EunomiaError(code, `${what}: ${reason}${hint}${tail}`, { cause: e, log, errno: ne?.errno });
}

export class BpfObject {
  /** The parsed BTF until releaseBtf(); parsed again from the ELF if asked for after. */
  private parsedBtf?: Btf;
  /** The ELF again: the file re-read (refused if it changed since), or the image given. */
  private readonly elfAgain: () => Buffer;
  private readonly obj: NativeObject;
  /** The minimized kernel BTF its CO-RE relocations are resolved against; '' = the kernel's own. */
  readonly coreBtf: string;
  private loaded = false;
  private closed = false;
  private readonly mapInfo = new Map<string, NativeMap>();
  private readonly progInfo = new Map<string, NativeProgram>();
  private readonly links = new Set<number>();
  private readonly readers = new Set<BpfReader>();

  private constructor(
    private readonly native: NativeBinding,
    readonly name: string,
    elf: Buffer,
    source: string | Buffer,
  ) {
    // BTF first: a malformed object fails here with a clear error before libbpf sees it.
    this.parsedBtf = Btf.fromElf(elf);
    this.elfAgain = typeof source === 'string' ? sameFile(name, source) : () => source;
    this.coreBtf = (typeof source === 'string' && minBtfFor(source)) || coveringMinBtf(elf, this.parsedBtf);
    try {
      this.obj = new native.BpfObject(source, name, this.coreBtf);
    } catch (e) {
      throw wrapNative(e, ErrorCodes.OPEN, `${name}: open`);
    }
    for (const m of this.obj.maps()) this.mapInfo.set(m.name, m);
    for (const p of this.obj.programs()) this.progInfo.set(p.name, p);
    // eunomia.bpf.h brings a cgroup_mkdir program into every object that includes it; it is
    // only for container filters, which turn it on (TrackerInstance).
    if (this.progInfo.has(CONTAINER_FILTER_PROGRAM)) this.setAutoload(CONTAINER_FILTER_PROGRAM, false);
  }

  /** Opens an object from a file path or an in-memory ELF image. */
  static open(native: NativeBinding, source: string | Buffer, name?: string): BpfObject {
    const elf = typeof source === 'string' ? readObject(source) : source;
    const objName = (name ?? (typeof source === 'string' ? source.replace(/^.*\//, '').replace(/\.bpf\.o$|\.o$/, '') : 'object')).slice(0, 15);
    return new BpfObject(native, objName, elf, source);
  }

  get btf(): Btf {
    return (this.parsedBtf ??= Btf.fromElf(this.elfAgain()));
  }

  /**
   * Frees the parsed BTF once what needed it is built (the decoders, the globals): ~0.3 MiB of
   * heap per object, 2.6 MiB for the server's default trackers. A later use parses it again.
   */
  releaseBtf(): void {
    this.parsedBtf = undefined;
  }

  programs(): NativeProgram[] {
    return [...this.progInfo.values()];
  }

  maps(): NativeMap[] {
    return this.live().maps();
  }

  /** Kernel memory of this object's maps (none once it is closed). */
  mapMemory(): MapMemory {
    return this.closed ? { maps: 0, bytes: 0 } : mapMemory(this.obj.maps().map((m) => m.fd));
  }

  hasMap(name: string): boolean {
    return this.findMap(name) !== undefined;
  }

  private findMap(name: string): NativeMap | undefined {
    const m = this.mapInfo.get(name);
    if (m) return m;
    // Internal maps (.rodata, .bss) are named "<obj>.rodata" by libbpf.
    for (const info of this.mapInfo.values()) if (info.internal && info.name.endsWith(name)) return info;
    return undefined;
  }

  private live(): NativeObject {
    if (this.closed) throw new EunomiaError(ErrorCodes.STATE, `${this.name}: object is closed`);
    return this.obj;
  }

  private mapOrThrow(name: string): NativeMap {
    const m = this.findMap(name);
    if (!m) throw new EunomiaError(ErrorCodes.MAP, `${this.name}: no map named "${name}" (maps: ${[...this.mapInfo.keys()].join(', ')})`);
    return m;
  }

  private progOrThrow(name: string): NativeProgram {
    const p = this.progInfo.get(name);
    if (!p) throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: no program named "${name}" (programs: ${[...this.progInfo.keys()].join(', ')})`);
    return p;
  }

  /** Global variables (`const volatile` in .rodata, or .bss/.data) that can be set before load. */
  globals(): { name: string; section: string; typeId: number; size: number }[] {
    const out = [];
    for (const sec of GLOBAL_SECTIONS) {
      const ds = this.btf.datasec(sec);
      if (ds) for (const v of ds.vars) out.push({ name: v.name, section: sec, typeId: v.typeId, size: v.size });
    }
    return out;
  }

  /** Sets globals by name before load; every value is type- and range-checked against BTF. */
  setGlobals(values: Record<string, unknown>): void {
    if (this.loaded) throw new EunomiaError(ErrorCodes.STATE, `${this.name}: globals must be set before load`);
    const obj = this.live();
    const pending = new Map<string, Buffer>();
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const found = this.findGlobal(name);
      if (!found) {
        const known = this.globals().map((g) => g.name).join(', ');
        throw new EunomiaError(ErrorCodes.OPTION, `${this.name}: no global variable "${name}" (known: ${known || 'none'})`);
      }
      const { section, offset, typeId } = found;
      let buf = pending.get(section);
      if (!buf) {
        const map = this.mapOrThrow(section);
        buf = obj.getInitialValue(map.name) ?? Buffer.alloc(map.valueSize);
        pending.set(section, buf);
      }
      encodeValue(this.btf, typeId, value, buf, offset, `${this.name} ${name}`);
    }
    for (const [section, buf] of pending) obj.setInitialValue(this.mapOrThrow(section).name, buf);
  }

  private findGlobal(name: string): { section: string; offset: number; typeId: number } | undefined {
    for (const sec of GLOBAL_SECTIONS) {
      const v = this.btf.datasec(sec)?.vars.find((x) => x.name === name);
      if (v) return { section: sec, offset: v.offset, typeId: v.typeId };
    }
    return undefined;
  }

  setMaxEntries(map: string, n: number): void {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 31) throw new EunomiaError(ErrorCodes.OPTION, `${this.name}: max entries of ${map} must be a positive integer, got ${n}`);
    this.live().setMaxEntries(this.mapOrThrow(map).name, n);
  }

  setAutoload(prog: string, on: boolean): void {
    this.live().setAutoload(this.progOrThrow(prog).name, on);
    this.progInfo.set(prog, { ...this.progOrThrow(prog), autoload: on });
  }

  load(): void {
    if (this.loaded) return;
    try {
      this.live().load();
    } catch (e) {
      throw wrapNative(e, ErrorCodes.LOAD, `${this.name}: load`);
    }
    this.loaded = true;
    for (const m of this.obj.maps()) this.mapInfo.set(m.name, m);
  }

  /**
   * load(), with the verifier's work on a worker thread: objects load in parallel, and the
   * event loop runs meanwhile. The object takes no other call until this settles.
   */
  async loadAsync(): Promise<void> {
    if (this.loaded) return;
    try {
      await this.live().loadAsync();
    } catch (e) {
      throw wrapNative(e, ErrorCodes.LOAD, `${this.name}: load`);
    }
    this.loaded = true;
    for (const m of this.obj.maps()) this.mapInfo.set(m.name, m);
  }

  private requireLoaded(what: string): void {
    if (!this.loaded) throw new EunomiaError(ErrorCodes.STATE, `${this.name}: ${what} needs the object loaded first`);
  }

  /** Attaches one program at the point its section names; returns the link id. */
  attach(prog: string): number {
    this.requireLoaded('attach');
    const p = this.progOrThrow(prog);
    if (attachKind(p.section) !== 'auto') {
      throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: program ${prog} (section "${p.section}") has no attach point in its section name — use attachUprobe/attachPerfEvent`);
    }
    try {
      const id = this.live().attach(prog);
      this.links.add(id);
      return id;
    } catch (e) {
      throw wrapNative(e, ErrorCodes.ATTACH, `${this.name}: attach ${prog} (${p.section})`);
    }
  }

  /** Attaches every loaded program whose section names its attach point. */
  attachAll(): number[] {
    return this.programs()
      .filter((p) => p.autoload && attachKind(p.section) === 'auto')
      .map((p) => this.attach(p.name));
  }

  attachUprobe(prog: string, spec: UprobeSpec): number {
    this.requireLoaded('attach');
    const p = this.progOrThrow(prog);
    if (!spec.binary) throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: uprobe ${prog} needs a binary path`);
    if (spec.func === undefined && spec.offset === undefined) throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: uprobe ${prog} needs a function name or an offset`);
    const offset = spec.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: uprobe ${prog} offset must be a non-negative integer`);
    const cookie = spec.cookie ?? 0;
    if (typeof cookie === 'number' ? !Number.isSafeInteger(cookie) || cookie < 0 : cookie < 0n || cookie >= 1n << 64n) {
      throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: uprobe ${prog} cookie must be an integer 0..2^64-1, got ${String(cookie)}`);
    }
    try {
      const id = this.live().attachUprobe(prog, spec.binary, spec.func ?? '', offset, spec.pid ?? -1, spec.retprobe ?? isRetprobe(p.section), BigInt(cookie));
      this.links.add(id);
      return id;
    } catch (e) {
      throw wrapNative(e, ErrorCodes.ATTACH, `${this.name}: attach uprobe ${prog} to ${spec.binary}:${spec.func ?? '0x' + offset.toString(16)}`);
    }
  }

  /** Opens a sampling perf event on each CPU and attaches the program to it. */
  attachPerfEvent(prog: string, spec: PerfEventSpec): number[] {
    this.requireLoaded('attach');
    this.progOrThrow(prog);
    if ((spec.frequency === undefined) === (spec.period === undefined)) {
      throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: perf event for ${prog} needs exactly one of frequency or period`);
    }
    const sample = spec.frequency ?? spec.period ?? 0;
    if (!Number.isSafeInteger(sample) || sample <= 0) throw new EunomiaError(ErrorCodes.ATTACH, `${this.name}: perf event sample value must be a positive integer`);
    const cpus = spec.cpus ?? [...Array(this.native.numPossibleCpus()).keys()];
    const ids: number[] = [];
    for (const cpu of cpus) {
      try {
        const id = this.live().attachPerfEvent(prog, spec.type, spec.config, sample, spec.frequency !== undefined, cpu, spec.pid ?? -1);
        this.links.add(id);
        ids.push(id);
      } catch (e) {
        const ne = e as NativeError;
        if (ne.errno === 19) continue; // ENODEV: CPU offline
        for (const id of ids) this.detach(id);
        throw wrapNative(e, ErrorCodes.ATTACH, `${this.name}: attach perf event ${prog} on CPU ${cpu}`);
      }
    }
    return ids;
  }

  detach(link: number): void {
    if (this.closed || !this.links.delete(link)) return;
    try {
      this.obj.detach(link);
    } catch (e) {
      throw wrapNative(e, ErrorCodes.ATTACH, `${this.name}: detach`);
    }
  }

  /** Detaches every program (off the event loop); maps and readers stay, to drain them. */
  async detachAll(): Promise<void> {
    if (this.closed) return;
    this.links.clear();
    await this.obj.detachAllAsync();
  }

  /** Kernel stats of a loaded program (run count and time need kernel.bpf_stats_enabled). */
  programInfo(prog: string): { id: number; runCount: number; runTimeNs: number } | null {
    this.progOrThrow(prog);
    return this.live().programInfo(prog);
  }

  map(name: string): BpfMap {
    this.requireLoaded('map access');
    const info = this.mapOrThrow(name);
    return new BpfMap(this.live(), info, PERCPU_MAP_TYPES.has(info.type) ? this.native.numPossibleCpus() : 0);
  }

  /**
   * Starts a background reader on a ring buffer or perf event array map. `records` is lent for
   * the call only: it is detached (empty) once onBatch returns, so copy what you keep.
   */
  openReader(map: string, onBatch: (records: Buffer, count: number) => void, opts: ReaderOptions = {}): BpfReader {
    this.requireLoaded('reading');
    const info = this.mapOrThrow(map);
    if (info.type !== MAP_TYPE_RINGBUF && info.type !== MAP_TYPE_PERF_EVENT_ARRAY) {
      throw new EunomiaError(ErrorCodes.READER, `${this.name}: map ${map} is neither a ring buffer nor a perf event array (type ${info.type})`);
    }
    const pollMs = opts.pollMs ?? 10;
    const perfPages = opts.perfPages ?? 64;
    const batchBytes = opts.batchBytes ?? 256 * 1024;
    const maxQueued = opts.maxQueuedBytes ?? 64 * 1024 * 1024;
    if (!(pollMs >= 1 && pollMs <= 1000)) throw new EunomiaError(ErrorCodes.READER, `poll interval must be 1..1000 ms, got ${pollMs}`);
    if (perfPages < 1 || (perfPages & (perfPages - 1)) !== 0) throw new EunomiaError(ErrorCodes.READER, `perf buffer pages must be a power of two, got ${perfPages}`);
    // Objects built with eunomia.bpf.h have an idle flag: an idle reader sleeps until the next
    // record instead of waking every pollMs (which costs CPU on an idle host).
    const idle = info.type === MAP_TYPE_RINGBUF ? this.idleFlag() : undefined;
    let reader: BpfReader | undefined;
    try {
      const id = this.live().openReader(
        info.name,
        (buf, count) => {
          reader?.noteDelivered(count);
          onBatch(buf, count);
        },
        info.type === MAP_TYPE_PERF_EVENT_ARRAY,
        pollMs,
        perfPages,
        batchBytes,
        maxQueued,
        idle?.map,
        idle?.offset,
      );
      reader = new BpfReader(this, id);
    } catch (e) {
      throw wrapNative(e, ErrorCodes.READER, `${this.name}: open reader on ${map}`);
    }
    this.readers.add(reader);
    return reader;
  }

  private idleFlag(): { map: string; offset: number } | undefined {
    const g = this.findGlobal(READER_IDLE_FLAG);
    if (!g || g.section !== '.bss') return undefined;
    const map = this.findMap('.bss');
    return map ? { map: map.name, offset: g.offset } : undefined;
  }

  /** @internal used by BpfReader */
  nativeReaderStats(id: number): NativeReaderStats {
    const s = this.live().readerStats(id);
    if (!s) throw new EunomiaError(ErrorCodes.STATE, `${this.name}: reader ${id} is closed`);
    return s;
  }

  /** @internal used by BpfReader */
  nativeCloseReader(id: number): NativeReaderStats {
    const s = this.live().closeReader(id);
    if (!s) throw new EunomiaError(ErrorCodes.STATE, `${this.name}: reader ${id} is closed`);
    return s;
  }

  /** Records the ring buffer refused, summed over CPUs; undefined if the object does not count them. */
  kernelLost(): number | undefined {
    return this.perCpuCount(LOST_MAP);
  }

  /** Operations its aggregation maps could not count (no entry: full, or no memory), summed over CPUs; undefined if not counted. */
  mapInsertFailures(): number | undefined {
    return this.perCpuCount(MAP_INSERT_FAILURES_MAP);
  }

  /** Slot 0 of a per-CPU array of u64 counters, summed over CPUs. */
  private perCpuCount(name: string): number | undefined {
    if (!this.loaded || this.closed || !this.findMap(name)) return undefined;
    const v = this.map(name).lookupPerCpu(Buffer.alloc(4));
    if (!v) return 0;
    let sum = 0;
    for (const b of v) sum += Number(b.readBigUInt64LE(0));
    return sum;
  }

  /** Detaches everything and frees the object; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const r of this.readers) await r.close();
    this.readers.clear();
    this.closed = true;
    this.links.clear();
    await this.obj.closeAsync();
  }

  /** Synchronous teardown for exit paths: readers stop without waiting for queued batches. */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.obj.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/**
 * Reads the object file at `path` again, as it was when opened: a file rebuilt or replaced
 * since would give BTF that no longer describes the programs loaded.
 */
function sameFile(name: string, path: string): () => Buffer {
  const was = statSync(path);
  return () => {
    const now = statSync(path, { throwIfNoEntry: false });
    if (!now || now.ino !== was.ino || now.size !== was.size || now.mtimeMs !== was.mtimeMs) {
      throw new EunomiaError(ErrorCodes.OBJECT_INVALID, `${name}: ${path} changed since the tracker loaded it, and its BTF is needed again: restart the tracker`);
    }
    return readObject(path);
  };
}

/** An object file's bytes; a missing file is E_OBJECT_MISSING saying how to build it. */
export function readObject(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EunomiaError(ErrorCodes.OBJECT_MISSING, `eBPF object ${path} cannot be read: ${(e as Error).message} — run "npm run setup" to build it`, { cause: e });
  }
}

/** Raw map access with sizes checked; per-CPU maps take/return one value per CPU. */
export class BpfMap {
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_MAP_TYPE_* */
  readonly type: number;
  /** Number of CPUs for per-CPU maps, 0 otherwise. */
  readonly perCpu: number;

  constructor(
    private readonly obj: NativeObject,
    info: NativeMap,
    perCpu: number,
  ) {
    this.name = info.name;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.type = info.type;
    this.perCpu = perCpu;
  }

  /** Bytes of one lookup result: per-CPU maps return a slot of roundup(size, 8) per CPU. */
  private get fullValueSize(): number {
    return this.perCpu ? ((this.valueSize + 7) & ~7) * this.perCpu : this.valueSize;
  }

  private checkKey(key: Buffer): void {
    if (key.length !== this.keySize) throw new EunomiaError(ErrorCodes.MAP, `map ${this.name}: key must be ${this.keySize} bytes, got ${key.length}`);
  }

  private wrap<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw wrapNative(e, ErrorCodes.MAP, `map ${this.name}: ${what}`);
    }
  }

  lookup(key: Buffer): Buffer | null {
    this.checkKey(key);
    return this.wrap('lookup', () => this.obj.mapLookup(this.name, key, this.fullValueSize));
  }

  /** Per-CPU maps: the value of each CPU. */
  lookupPerCpu(key: Buffer): Buffer[] | null {
    if (!this.perCpu) throw new EunomiaError(ErrorCodes.MAP, `map ${this.name} is not a per-CPU map`);
    const raw = this.lookup(key);
    return raw ? this.splitPerCpu(raw) : null;
  }

  private splitPerCpu(raw: Buffer): Buffer[] {
    const slot = (this.valueSize + 7) & ~7;
    return Array.from({ length: this.perCpu }, (_, i) => raw.subarray(i * slot, i * slot + this.valueSize));
  }

  update(key: Buffer, value: Buffer, flags = 0): void {
    this.checkKey(key);
    if (value.length !== this.fullValueSize) throw new EunomiaError(ErrorCodes.MAP, `map ${this.name}: value must be ${this.fullValueSize} bytes, got ${value.length}`);
    this.wrap('update', () => this.obj.mapUpdate(this.name, key, value, flags));
  }

  delete(key: Buffer): boolean {
    this.checkKey(key);
    return this.wrap('delete', () => this.obj.mapDelete(this.name, key));
  }

  *keys(): Generator<Buffer> {
    let k: Buffer | null = null;
    for (;;) {
      const prev: Buffer | null = k;
      k = this.wrap('iterate', () => this.obj.mapNextKey(this.name, prev));
      if (!k) return;
      yield k;
    }
  }

  /**
   * Every entry, with the kernel's batch operation where it has one (optionally deleting
   * what it read, for per-interval aggregation), else key-by-key iteration.
   */
  entries(opts: { delete?: boolean } = {}): { key: Buffer; value: Buffer }[] {
    const del = opts.delete ?? false;
    const size = this.fullValueSize;
    try {
      const r = this.obj.mapLookupBatch(this.name, size, del);
      const out = [];
      for (let i = 0; i < r.count; i++) {
        out.push({ key: r.keys.subarray(i * this.keySize, (i + 1) * this.keySize), value: r.values.subarray(i * size, (i + 1) * size) });
      }
      return out;
    } catch (e) {
      const errno = (e as NativeError).errno;
      if (errno !== 22 && errno !== 95 && errno !== 524) throw wrapNative(e, ErrorCodes.MAP, `map ${this.name}: batch lookup`);
    }
    const out = [];
    for (const key of [...this.keys()]) {
      const value = this.lookup(key);
      if (!value) continue;
      if (del) this.delete(key);
      out.push({ key, value });
    }
    return out;
  }
}
