/** A checked program package as a tracker descriptor: it then runs like any tracker. */
import type { Decoder } from '../core/btf/index.js';
import type { Column } from '../pipeline/types.js';
import type { TrackerDescriptor } from '../runtime/types.js';
import { ecliColumns, ecliInterval, ecliOptions, ecliPlain } from './ecli.js';
import type { ProgramPackage } from './package.js';

const SHOWN = new Set(['s8', 's16', 's32', 's64', 'u8', 'u16', 'u32', 'u64', 'bool', 'char', 'string', 'enum']);

/** Table columns: the scalar and string fields of the first stream's records. */
function columns(d: Decoder | undefined): Column[] {
  if (!d) return [];
  return d.fields.filter((f) => !f.hidden && SHOWN.has(f.kind)).map((f) => ({ key: f.name, header: f.name.toUpperCase() }));
}

/**
 * The descriptor TrackerManager.start/replace take: the object in memory, one stream per ring
 * buffer or perf event array, options as the object's globals (the package's `options` first),
 * and only the programs the package check saw.
 */
export function programDescriptor(pkg: ProgramPackage): TrackerDescriptor {
  const programs = pkg.programs.filter((p) => p.autoload).map((p) => p.name);
  const d: TrackerDescriptor = {
    name: pkg.name,
    summary: pkg.description ?? `hot-loaded ${pkg.format} package: ${programs.join(', ')}`,
    object: `${pkg.name} (hot-loaded)`,
    objectBytes: pkg.object,
    streams: pkg.streams.map((s) => ({ map: s.map, decoder: s.decoder })),
    globals: { ...pkg.options },
    // Options are the object's globals by name, each checked against its BTF type when set;
    // the common ones only where the object was built with bpf/include/eunomia.bpf.h.
    options: pkg.globals.map((g) => ({ name: g, flag: g, type: 'global', global: g, description: `the object's global variable ${g}` })),
    commonOptions: pkg.globals.includes('eunomia_exclude_pid'),
    columns: columns(pkg.streams[0]?.decoder),
    // libbpf might see a program the ELF check did not; it then stays unloaded.
    programs: () => programs,
  };
  if (pkg.ecli) withEcli(d, pkg);
  if (pkg.perfEvent) d.perfEvent = pkg.perfEvent;
  if (pkg.fallbacks.length > 0) d.fallbacks = pkg.fallbacks;
  if (Object.keys(pkg.unavailable).length > 0) d.unavailable = pkg.unavailable;
  return d;
}

/**
 * An eunomia-bpf package as ecli runs it: its sampled map reported every interval, and its
 * globals' flags as ecli names them (the others keep their own names).
 */
function withEcli(d: TrackerDescriptor, pkg: ProgramPackage): void {
  const x = pkg.ecli!;
  const interval = ecliInterval(x);
  if (interval) {
    d.interval = interval;
    const plain = ecliPlain(x);
    if (plain) d.plain = plain;
    if (pkg.streams.length === 0) d.columns = ecliColumns(x, pkg.btf);
  }
  const named = ecliOptions(x, { commonOptions: d.commonOptions !== false });
  const covered = new Set(x.variables.map((v) => v.name));
  d.options = [...named, ...d.options.filter((o) => !covered.has(o.name) && !o.name.startsWith('__eunomia_dummy'))];
}
