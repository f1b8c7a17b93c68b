/**
 * Minimized kernel BTF (built next to each object by bpf/Makefile) makes libbpf's CO-RE
 * pass ~8× faster. It is only valid for the kernel it was cut from, so it is used only
 * when the running kernel's BTF has the same hash; otherwise libbpf uses the full BTF.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Btf } from './btf/index.js';
import { coreRelocations, coversRelocations } from './co-re.js';
import { VMLINUX_BTF } from './kernel.js';
import { objectDir } from './paths.js';

/**
 * Reading and hashing the kernel's 5 MB of BTF costs ~40 ms of every start. The kernel cannot
 * change without a reboot, so the hash is kept for this boot (keyed by its boot id) in /run,
 * a tmpfs that a reboot empties; without root it is computed each time.
 */
export const KERNEL_HASH_CACHE = '/run/eunomia/kernel-btf.sha256';
const BOOT_ID = '/proc/sys/kernel/random/boot_id';

let kernelHash: string | undefined;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The running kernel's BTF hash: from this boot's cache, else computed (and cached). */
export function runningKernelHash(cache = KERNEL_HASH_CACHE): string {
  if (kernelHash) return kernelHash;
  const boot = read(BOOT_ID);
  const [cachedBoot, cachedHash] = (read(cache) ?? '').split(' ');
  if (boot && cachedBoot === boot && /^[0-9a-f]{64}$/.test(cachedHash ?? '')) return (kernelHash = cachedHash!);
  // Loaded only on a cache miss: node:crypto costs ~6 ms of every start otherwise.
  const { createHash } = process.getBuiltinModule('node:crypto');
  kernelHash = createHash('sha256').update(readFileSync(VMLINUX_BTF)).digest('hex');
  if (boot) {
    try {
      mkdirSync(dirname(cache), { recursive: true, mode: 0o755 });
      writeFileSync(cache, `${boot} ${kernelHash}\n`, { mode: 0o644 });
    } catch {
      // not root, or /run read-only: computed again next time
    }
  }
  return kernelHash;
}

const matches = new Map<string, boolean>();

/** Whether the minimized BTF at `btf` was cut from this kernel (the stamp next to it says which). */
function fitsKernel(btf: string): boolean {
  const stamp = join(dirname(btf), 'vmlinux.sha256');
  if (!existsSync(btf) || !existsSync(stamp) || !existsSync(VMLINUX_BTF)) return false;
  let ok = matches.get(stamp);
  if (ok === undefined) {
    ok = readFileSync(stamp, 'utf8').trim() === runningKernelHash();
    matches.set(stamp, ok);
  }
  return ok;
}

/** Path of the object's minimized BTF when it fits this kernel, '' otherwise. */
export function minBtfFor(objectPath: string): string {
  const btf = objectPath.replace(/\.bpf\.o$/, '.min.btf');
  return btf !== objectPath && fitsKernel(btf) ? btf : '';
}

/** What every shipped object relocates against, cut together (bpf/Makefile). */
export const SHARED_MIN_BTF = join(objectDir, 'shared.min.btf');
/** Parsed once (6.6 KB here), on the first object without a file of its own; undefined when it does not fit. */
const sharedParsed = new Map<string, Btf | undefined>();

/**
 * For an object with no minimized BTF of its own (hot-loaded, or built elsewhere): the shared
 * one when it fits this kernel and answers every CO-RE relocation the object has, else ''
 * (libbpf then parses the kernel's full BTF).
 */
export function coveringMinBtf(elf: Buffer, local: Btf, shared = SHARED_MIN_BTF): string {
  // The file first: on another kernel (every shipped object's own file is refused too) the
  // object's relocations are not read at all.
  if (!sharedParsed.has(shared)) {
    let btf: Btf | undefined;
    try {
      btf = fitsKernel(shared) ? Btf.parse(readFileSync(shared)) : undefined;
    } catch {
      btf = undefined; // unreadable or malformed: the full BTF, as if it were absent
    }
    sharedParsed.set(shared, btf);
  }
  const target = sharedParsed.get(shared);
  if (!target) return '';
  const relocations = coreRelocations(elf);
  return relocations?.length && coversRelocations(local, relocations, target) ? shared : '';
}
