/**
 * Minimized kernel BTF (built next to each object by bpf/Makefile) makes libbpf's CO-RE
 * pass ~8× faster. It is only valid for the kernel it was cut from, so it is used only
 * when the running kernel's BTF has the same hash; otherwise libbpf uses the full BTF.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VMLINUX_BTF } from './kernel.js';

let kernelHash: string | undefined;

function runningKernelHash(): string {
  kernelHash ??= createHash('sha256').update(readFileSync(VMLINUX_BTF)).digest('hex');
  return kernelHash;
}

const matches = new Map<string, boolean>();

/** Path of the object's minimized BTF when it fits this kernel, '' otherwise. */
export function minBtfFor(objectPath: string): string {
  const btf = objectPath.replace(/\.bpf\.o$/, '.min.btf');
  const stamp = join(dirname(objectPath), 'vmlinux.sha256');
  if (btf === objectPath || !existsSync(btf) || !existsSync(stamp) || !existsSync(VMLINUX_BTF)) return '';
  let ok = matches.get(stamp);
  if (ok === undefined) {
    ok = readFileSync(stamp, 'utf8').trim() === runningKernelHash();
    matches.set(stamp, ok);
  }
  return ok ? btf : '';
}
