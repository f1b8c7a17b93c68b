/** Every tracker Eunomia ships. Adding one is one line here plus its own folder. */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { processTracker } from './process/index.js';
import type { TrackerDescriptor } from './types.js';

export const trackers: readonly TrackerDescriptor[] = [processTracker];

export function findTracker(name: string): TrackerDescriptor {
  const t = trackers.find((d) => d.name === name);
  if (!t) {
    throw new EunomiaError(ErrorCodes.UNKNOWN_TRACKER, `unknown tracker "${name}" — available: ${trackers.map((d) => d.name).join(', ')} (see "eunomia trackers")`);
  }
  return t;
}
