/** The container filter options (--container, --host-only, --containers-only): checked, and matched. */
import type { BpfObject } from '../core/bpf-object.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { OptionValues } from './types.js';

/** Values of eunomia_container_filter in bpf/include/eunomia.bpf.h. */
export const FilterMode = { OFF: 0, WANTED: 1, HOST: 2, CONTAINERS: 3 } as const;
export type FilterMode = (typeof FilterMode)[keyof typeof FilterMode];

// Docker's rule for names; ids are hex. Both are what users copy from `docker ps`.
const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Ids this long are matched in the kernel even before the container exists. */
export const KERNEL_PREFIX = 12;

/** The --container values, split and checked. */
function containerSelectors(tracker: string, values: OptionValues): string[] {
  const raw = values.container;
  if (raw === undefined || raw === '') return [];
  const list = String(raw).split(',').map((s) => s.trim());
  for (const s of list) {
    if (!NAME.test(s) || s.length > 253) {
      throw new EunomiaError(ErrorCodes.OPTION, `tracker ${tracker}: option container: "${s}" is neither a container id nor a container name`);
    }
  }
  return list.map((s) => s.replace(/^\//, ''));
}

/** Which processes a tracker instance sees, by container: parsed once from its options. */
export interface ContainerScope {
  mode: FilterMode;
  /** With mode WANTED: the container ids (prefixes) and names asked for. */
  selectors: string[];
}

export function containerScope(tracker: string, values: OptionValues): ContainerScope {
  const selectors = containerSelectors(tracker, values);
  const chosen = [selectors.length > 0 && '--container', values.hostOnly === true && '--host-only', values.containersOnly === true && '--containers-only'].filter(Boolean);
  if (chosen.length > 1) {
    throw new EunomiaError(ErrorCodes.OPTION, `tracker ${tracker}: ${chosen.join(' and ')} exclude each other — use one`);
  }
  const mode = selectors.length > 0 ? FilterMode.WANTED : values.hostOnly === true ? FilterMode.HOST : values.containersOnly === true ? FilterMode.CONTAINERS : FilterMode.OFF;
  return { mode, selectors };
}

/** A scope kept in force on a loaded object (its container filter maps), until closed. */
export interface ScopeHandle {
  /** Selectors that matched no container yet (they may still, when one starts). */
  readonly unmatched: string[];
  /**
   * Full ids of the selected containers that were already running when they were selected (at
   * install, or when their runtime named them later): what they did before, their start-up
   * included, was not seen.
   */
  readonly joinedRunning: string[];
  close(): void;
}

/**
 * Fills an object's container filter maps for a scope and keeps them current; called after
 * load, before attach. The container subsystem provides it (src/containers/filter.ts): the
 * runtime only knows the interface.
 */
export type ScopeInstaller = (obj: BpfObject, tracker: string, scope: ContainerScope) => ScopeHandle;

/** Does a selector name this container (exact name, or id prefix)? */
export function selects(selector: string, c: { id: string; name: string }): boolean {
  return c.name === selector || (/^[0-9a-f]+$/.test(selector) && c.id.startsWith(selector));
}

/** A selector that is an id long enough to match in the kernel on its own. */
export function kernelPrefix(selector: string): string | undefined {
  return /^[0-9a-f]+$/.test(selector) && selector.length >= KERNEL_PREFIX ? selector.slice(0, KERNEL_PREFIX) : undefined;
}
