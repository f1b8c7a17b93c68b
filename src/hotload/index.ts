/**
 * Hot-loaded eBPF programs: a precompiled object sent as JSON, checked here, then run by
 * TrackerManager like any tracker (start, replace in place, stop). See docs/hotload.md.
 *
 *   const pkg = parseProgramPackage(body, { maxObjectBytes });   // E_PACKAGE on any problem
 *   const inst = manager.start(programDescriptor(pkg), pkg.options);
 *   await manager.replace(inst.id, programDescriptor(parseProgramPackage(next)), {});
 */
export { programDescriptor } from './descriptor.js';
export type { MapInfo, ProgramInfo } from './inspect.js';
export { DEFAULT_HOTLOAD_LIMITS, PROGRAM_TYPES, programType, resolveLimits, type HotloadLimits, type ProgramType } from './limits.js';
export { parseProgramPackage, parseSeedStart, type DecodeRule, type PackageFormat, type PackageStream, type ProgramPackage, type SeedStart } from './package.js';
export { SEED_EVENT } from './seed-event.js';
