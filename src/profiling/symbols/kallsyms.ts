/**
 * Kernel stack addresses to names, from /proc/kallsyms: read once, on first use (the kernel
 * takes ~0.2 s to produce its 5 MB), parsed from bytes into typed arrays (8 bytes of address,
 * 4 of name offset and 2 of module per symbol, names packed in one buffer), searched by binary
 * search. Only text symbols (t, T, w, W) are kept: stacks hold code addresses.
 */
import { readFileSync } from 'node:fs';
import type { Frame } from './types.js';

/** The lowest address of the kernel half on x86-64 and arm64 (48-bit); below it nothing is kernel text. */
const KERNEL_HALF = 0xffff800000000000n;
/** No kernel function is this long: an address farther from the symbol before it is in none. */
const MAX_OFFSET = 1 << 20;
const CORE = 'vmlinux';
const TWO32 = 0x100000000;
const SCRATCH64 = new BigUint64Array(1);
const SCRATCH32 = new Uint32Array(SCRATCH64.buffer);
/** Which half of SCRATCH32 holds the high word (1 on little-endian hosts). */
const HI = (() => {
  SCRATCH64[0] = 1n;
  return SCRATCH32[0] === 1 ? 1 : 0;
})();

interface Loaded {
  hi: Uint32Array;
  lo: Uint32Array;
  nameOff: Uint32Array;
  names: Buffer;
  mod: Uint16Array;
  modules: string[];
  /** Every address reads 0: kptr_restrict, or not privileged (CAP_SYSLOG). */
  restricted: boolean;
  /** Why the file could not be read. */
  error?: string;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parses kallsyms text (`ADDR TYPE NAME[\t[MODULE]]` lines); lines that are not that are skipped. */
export function parseKallsyms(buf: Buffer): Loaded {
  let lines = 0;
  for (let p = buf.indexOf(10); p >= 0; p = buf.indexOf(10, p + 1)) lines++;
  lines++;
  const hi = new Uint32Array(lines);
  const lo = new Uint32Array(lines);
  const nameStart = new Uint32Array(lines);
  const nameEnd = new Uint32Array(lines);
  const mod = new Uint16Array(lines);
  const modules = [CORE];
  const modIndex = new Map<string, number>();
  let n = 0;
  let nonZero = false;
  let total = 0;
  for (let p = 0; p < buf.length; ) {
    let eol = buf.indexOf(10, p);
    if (eol < 0) eol = buf.length;
    // ADDR: up to 16 hex digits
    let q = p;
    let h = 0;
    let l = 0;
    let digits = 0;
    for (; q < eol; q++) {
      const d = hexDigit(buf[q]!);
      if (d < 0) break;
      h = ((h * 16) + Math.floor(l / 0x10000000)) >>> 0;
      l = ((l % 0x10000000) * 16 + d) >>> 0;
      digits++;
    }
    p = eol + 1;
    if (digits === 0 || digits > 16 || buf[q] !== 0x20 || q + 3 > eol || buf[q + 2] !== 0x20) continue;
    if (h !== 0 || l !== 0) nonZero = true;
    const type = buf[q + 1]!;
    if (type !== 0x74 && type !== 0x54 && type !== 0x77 && type !== 0x57) continue; // t T w W
    const ns = q + 3;
    let ne = ns; // up to the end of the line or a tab, which starts "[module]"
    while (ne < eol && buf[ne] !== 9) ne++;
    if (ne === ns) continue;
    let m = 0;
    if (ne < eol && buf[ne + 1] === 0x5b) {
      const close = buf.indexOf(0x5d, ne + 2);
      if (close > 0 && close < eol) {
        const name = buf.toString('latin1', ne + 2, close);
        let idx = modIndex.get(name);
        if (idx === undefined && modules.length < 0xffff) {
          idx = modules.length;
          modules.push(name);
          modIndex.set(name, idx);
        }
        m = idx ?? 0;
      }
    }
    hi[n] = h;
    lo[n] = l;
    nameStart[n] = ns;
    nameEnd[n] = ne;
    mod[n] = m;
    total += ne - ns;
    n++;
  }
  // The core kernel comes sorted; modules and BPF programs may not be.
  let order: Uint32Array | undefined;
  for (let i = 1; i < n; i++) {
    if (hi[i]! < hi[i - 1]! || (hi[i] === hi[i - 1] && lo[i]! < lo[i - 1]!)) {
      order = new Uint32Array(n);
      for (let k = 0; k < n; k++) order[k] = k;
      order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]!);
      break;
    }
  }
  const out = {
    hi: new Uint32Array(n),
    lo: new Uint32Array(n),
    nameOff: new Uint32Array(n + 1),
    names: Buffer.allocUnsafeSlow(total),
    mod: new Uint16Array(n),
    modules,
    restricted: !nonZero,
  };
  let at = 0;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k]! : k;
    out.hi[k] = hi[i]!;
    out.lo[k] = lo[i]!;
    out.mod[k] = mod[i]!;
    out.nameOff[k] = at;
    at += buf.copy(out.names, at, nameStart[i], nameEnd[i]);
  }
  out.nameOff[n] = at;
  return out;
}

export class KernelSymbols {
  private table: Loaded | undefined;

  constructor(private readonly path = '/proc/kallsyms') {}

  /** Text symbols held (0 before the first resolve). */
  get count(): number {
    return this.table?.hi.length ?? 0;
  }

  get bytes(): number {
    const t = this.table;
    return t ? t.hi.byteLength + t.lo.byteLength + t.nameOff.byteLength + t.names.length + t.mod.byteLength : 0;
  }

  /** Drops the table: the next resolve reads kallsyms again (modules or BPF programs loaded since). */
  reload(): void {
    this.table = undefined;
  }

  private load(): Loaded {
    if (this.table) return this.table;
    try {
      this.table = parseKallsyms(readFileSync(this.path));
    } catch (e) {
      const empty = parseKallsyms(Buffer.alloc(0));
      this.table = { ...empty, error: `${this.path}: ${(e as Error).message}` };
    }
    return this.table;
  }

  /** Why kernel frames cannot be named at all (unreadable file, hidden addresses), or undefined. */
  problem(): string | undefined {
    const t = this.load();
    if (t.error) return t.error;
    if (t.restricted) return `${this.path} shows every address as 0: run as root (CAP_SYSLOG) or lower kernel.kptr_restrict`;
    return undefined;
  }

  resolve(addrs: readonly bigint[]): Frame[] {
    const t = this.load();
    const unreadable = t.restricted || t.error !== undefined;
    return addrs.map((addr): Frame => {
      if (unreadable) return { addr, name: '[unknown]', resolved: false, reason: 'unreadable' };
      if (addr < KERNEL_HALF || addr >= 1n << 64n) return { addr, name: '[unknown]', resolved: false, reason: 'no-mapping' };
      SCRATCH64[0] = addr; // the two halves without allocating bigints
      const ah = SCRATCH32[HI]!;
      const al = SCRATCH32[1 - HI]!;
      let lo = 0;
      let hi = t.hi.length - 1;
      let i = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (t.hi[mid]! < ah || (t.hi[mid] === ah && t.lo[mid]! <= al)) {
          i = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (i < 0) return { addr, name: '[unknown]', resolved: false, reason: 'no-mapping' };
      const offset = (ah - t.hi[i]!) * TWO32 + (al - t.lo[i]!);
      if (offset > MAX_OFFSET) return { addr, name: '[unknown]', resolved: false, reason: 'no-mapping' };
      return { addr, name: t.names.toString('latin1', t.nameOff[i], t.nameOff[i + 1]), module: t.modules[t.mod[i]!]!, offset, resolved: true };
    });
  }
}
