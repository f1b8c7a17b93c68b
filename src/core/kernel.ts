/** Checks that this host can run eBPF trackers, with a clear message for each missing piece. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { EunomiaError, ErrorCodes } from './errors.js';
import type { NativeBinding } from './native.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

function effectiveCaps(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt('0x' + m[1]) : 0n;
}

let hostMnt: number | undefined;

/**
 * Inode of the host's mount namespace, as events carry namespaces (`mnt_ns`): pid 1's, which
 * is the host's own even when Eunomia runs in a container with the host's pid namespace; else
 * kthreadd's (pid 2: kernel threads stay in the initial namespaces), for an init that even root
 * may not inspect (a sandbox's; Eunomia's image then still finds the host's); ours when neither
 * can be read (then Eunomia runs in the host's namespaces or sees no others).
 */
export function hostMntNs(): number {
  if (hostMnt === undefined) {
    for (const p of ['/proc/1/ns/mnt', '/proc/2/ns/mnt', '/proc/self/ns/mnt']) {
      try {
        hostMnt = statSync(p).ino;
        break;
      } catch {
        // next
      }
    }
    hostMnt ??= 0;
  }
  return hostMnt;
}

/** Sets the host's mount namespace in an object built with bpf/include/exe_ns.bpf.h (see there). */
export function hostMntGlobal(globals: readonly { name: string }[]): Record<string, number> {
  return globals.some((g) => g.name === 'eunomia_host_mnt_ns') ? { eunomia_host_mnt_ns: hostMntNs() } : {};
}

export function hasBpfPrivileges(): boolean {
  const caps = effectiveCaps();
  const has = (c: number): boolean => (caps & (1n << BigInt(c))) !== 0n;
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}

/** Why the kernel answered EPERM or EACCES (not the verifier's refusal): the one wording for it. */
export function permissionRefusal(privileged: boolean): string {
  return privileged
    ? 'refused by the kernel although this process may load eBPF (CAP_BPF and CAP_PERFMON): a security module, kernel lockdown or a sandbox forbids this program or attach type here'
    : 'not permitted: loading eBPF needs root (or CAP_BPF and CAP_PERFMON) — run as root';
}

export function checkPrivileges(): void {
  if (!hasBpfPrivileges()) {
    throw new EunomiaError(
      ErrorCodes.NOT_ROOT,
      'loading eBPF programs needs root (or CAP_BPF and CAP_PERFMON) — run with sudo',
    );
  }
}

export function checkBtf(path = VMLINUX_BTF): void {
  if (!existsSync(path)) {
    throw new EunomiaError(
      ErrorCodes.NO_BTF,
      `this kernel exposes no BTF (${path} is missing) — use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.10 or later)`,
    );
  }
}

/** libbpf reads tracepoint ids from tracefs; mount it where the host has not. */
export function ensureTracefs(native: NativeBinding): void {
  if (TRACEFS.some((p) => existsSync(`${p}/events`))) return;
  const err = native.mountTracefs(TRACEFS[0]);
  if (err !== 0 || !existsSync(`${TRACEFS[0]}/events`)) {
    throw new EunomiaError(
      ErrorCodes.ATTACH,
      `tracefs is not mounted and mounting it at ${TRACEFS[0]} failed (errno ${err}) — run: mount -t tracefs tracefs ${TRACEFS[0]}`,
    );
  }
}

/**
 * Whether the kernel has the tracepoint a `tp/<category>/<name>` (or `tracepoint/…`) section
 * names. True for other sections, and when tracefs is not mounted: then the attach decides.
 */
export function hasTracepoint(section: string): boolean {
  const m = /^(?:tp|tracepoint)\/([^/]+)\/([^/]+)$/.exec(section);
  const tracefs = TRACEFS.find((p) => existsSync(`${p}/events`));
  return !m || !tracefs || existsSync(`${tracefs}/events/${m[1]}/${m[2]}`);
}

/** Everything a tracker needs before it can load: privileges, BTF, tracefs. */
export function preflight(native: NativeBinding): void {
  checkPrivileges();
  checkBtf();
  ensureTracefs(native);
}
