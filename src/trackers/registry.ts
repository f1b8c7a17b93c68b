/** Every tracker Eunomia ships. Adding one is one line here plus its own folder. */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { bindsnoopTracker } from './bindsnoop/index.js';
import { capableTracker } from './capable/index.js';
import { filesTracker } from './files/index.js';
import { funclatencyTracker } from './funclatency/index.js';
import { ipcTracker } from './ipc/index.js';
import { memleakTracker } from './memleak/index.js';
import { mountsnoopTracker } from './mountsnoop/index.js';
import { oomkillTracker } from './oomkill/index.js';
import { opensnoopTracker } from './opensnoop/index.js';
import { processTracker } from './process/index.js';
import { profileTracker } from './profile/index.js';
import { seccompTracker } from './seccomp/index.js';
import { seccomplogTracker } from './seccomplog/index.js';
import { secsnoopTracker } from './secsnoop/index.js';
import { sigsnoopTracker } from './sigsnoop/index.js';
import { syscallTracker } from './syscall/index.js';
import { syscountTracker } from './syscount/index.js';
import { tcpconnectTracker } from './tcpconnect/index.js';
import { tcpconnlatTracker } from './tcpconnlat/index.js';
import { tcprttTracker } from './tcprtt/index.js';
import type { TrackerDescriptor } from '../runtime/types.js';

export const trackers: readonly TrackerDescriptor[] = [
  processTracker,
  filesTracker,
  syscallTracker,
  opensnoopTracker,
  sigsnoopTracker,
  mountsnoopTracker,
  oomkillTracker,
  capableTracker,
  secsnoopTracker,
  ipcTracker,
  bindsnoopTracker,
  tcpconnectTracker,
  tcpconnlatTracker,
  syscountTracker,
  tcprttTracker,
  funclatencyTracker,
  seccompTracker,
  seccomplogTracker,
  profileTracker,
  memleakTracker,
];

/** The original Eunomia's tracker names (its README's `tcp`) → this release's. */
const ORIGINAL_NAMES: Readonly<Record<string, string>> = { tcp: 'tcpconnect' };

/**
 * A tracker by name, in the catalogue or in `among` (a part of it). Given `note`, an original
 * Eunomia's name is read as this release's, and `note` is told so.
 */
export function findTracker(name: string, among: readonly TrackerDescriptor[] = trackers, note?: (line: string) => void): TrackerDescriptor {
  const current = note ? ORIGINAL_NAMES[name] : undefined;
  if (current !== undefined && !among.some((d) => d.name === name) && among.some((d) => d.name === current)) {
    note!(`tracker "${name}" is deprecated (the original Eunomia's): read as ${current}`);
    return findTracker(current, among);
  }
  const t = among.find((d) => d.name === name);
  if (!t) {
    throw new EunomiaError(ErrorCodes.UNKNOWN_TRACKER, `unknown tracker "${name}" — available: ${among.map((d) => d.name).join(', ')} (see "eunomia trackers")`);
  }
  return t;
}
