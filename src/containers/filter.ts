/**
 * Fills a tracker object's container filter maps (see bpf/include/eunomia.bpf.h) and keeps
 * them current: existing container cgroups at start, then containers the runtimes announce.
 * The kernel's own cgroup_mkdir hook covers containers whose id it already knows; this adds
 * those selected by name, as soon as their runtime names them.
 */
import type { BpfMap, BpfObject } from '../core/bpf-object.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { ContainerResolver } from './resolver.js';
import { FilterMode, kernelPrefix, KERNEL_PREFIX, selects, type ContainerScope, type ScopeHandle, type ScopeInstaller } from '../runtime/scope.js';
import type { ContainerInfo } from './types.js';

const CG_CONTAINER = 1;
const CG_WANTED = 2;

/** bpf/include/eunomia.bpf.h: EUNOMIA_WANTED_SLOTS, EUNOMIA_CG_SHARED. */
const WANTED_SLOTS = 1024n;
const SHARED = 0xffffffffffffffffn;

/**
 * Puts a wanted cgroup in the filter's direct-mapped table (eunomia_wanted_cg): its own id in
 * its slot, or the slot marked shared (the hash then decides) when another wanted cgroup holds
 * it — or when the kernel's mkdir hook may be writing the table (`live`): this read-then-write
 * could overwrite what the hook just put there, and "shared" is right whatever it was.
 */
function wantDirect(map: BpfMap, cg: bigint, live: boolean): void {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(Number(cg % WANTED_SLOTS));
  const was = map.lookup(key)?.readBigUInt64LE(0) ?? 0n;
  if (was === cg || was === SHARED) return;
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(was === 0n && !live ? cg : SHARED);
  map.update(key, value);
}

/** The runtime's ScopeInstaller over this resolver (TrackerDeps.scope). */
export function containerScopes(resolver: ContainerResolver): ScopeInstaller {
  return (obj, tracker, scope) => installContainerFilter(obj, tracker, scope, resolver);
}

function installContainerFilter(obj: BpfObject, tracker: string, { mode, selectors }: ContainerScope, resolver: ContainerResolver): ScopeHandle {
  const cgroups = obj.map('eunomia_cgroups');
  const wanted = obj.map('eunomia_wanted');
  const direct = obj.hasMap('eunomia_wanted_cg') ? obj.map('eunomia_wanted_cg') : undefined;
  const wantedIds = new Set<string>();

  const flagsFor = (id: string): number => CG_CONTAINER | (wantedIds.has(id.slice(0, KERNEL_PREFIX)) ? CG_WANTED : 0);
  // Before attach (the install) the kernel's mkdir hook does not run yet: a slot of the direct
  // table can take a cgroup's own id; after, only "shared" (see wantDirect).
  let attached = false;
  const markCgroup = (cg: number, id: string): void => {
    const key = Buffer.alloc(8);
    key.writeBigUInt64LE(BigInt(cg));
    const value = Buffer.alloc(4);
    const flags = flagsFor(id);
    value.writeUInt32LE(flags);
    cgroups.update(key, value);
    if (flags & CG_WANTED && direct) wantDirect(direct, BigInt(cg), attached);
  };
  const want = (prefix: string): void => {
    if (wantedIds.has(prefix)) return;
    wantedIds.add(prefix);
    wanted.update(Buffer.from(prefix, 'latin1'), Buffer.from([1]));
  };

  const matched = new Set<string>();
  // Selected while running: the kernel side counts a cgroup only from when it is wanted.
  const joined = new Set<string>();
  const running = (c: ContainerInfo): boolean => c.state === 'running' || (c.state === 'unknown' && resolver.cgroupsOf(c.id).length > 0);
  if (mode === FilterMode.WANTED) {
    for (const s of selectors) {
      const p = kernelPrefix(s);
      if (p) want(p);
      const found = resolver.find(s);
      if (found.length > 1) {
        throw new EunomiaError(ErrorCodes.CONTAINER, `tracker ${tracker}: container "${s}" is ambiguous: ${found.map((c) => `${c.name} (${c.id.slice(0, 12)})`).join(', ')} — give more of the id`);
      }
      for (const c of found) {
        want(c.id.slice(0, KERNEL_PREFIX));
        matched.add(s);
        if (running(c)) joined.add(c.id);
      }
    }
  }
  for (const [cg, id] of resolver.containerCgroups()) markCgroup(cg, id);
  attached = true;

  // Containers announced later: select them by name, and mark their cgroups (the kernel hook
  // may have classified them before the name was known).
  const onContainer = (info: ContainerInfo): void => {
    if (mode !== FilterMode.WANTED) return;
    if (!selectors.some((s) => selects(s, info))) return;
    const prefix = info.id.slice(0, KERNEL_PREFIX);
    const isNew = !wantedIds.has(prefix);
    if (isNew && running(info)) joined.add(info.id);
    want(prefix);
    if (isNew || info.state === 'running') for (const cg of resolver.cgroupsOf(info.id)) markCgroup(cg, info.id);
  };
  resolver.on('container', onContainer);
  return {
    unmatched: selectors.filter((s) => !matched.has(s) && !kernelPrefix(s)),
    get joinedRunning() {
      return [...joined];
    },
    close: () => resolver.off('container', onContainer),
  };
}
