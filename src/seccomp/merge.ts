/**
 * Several Eunomia profiles as one: their runs renumbered r1…rn in order, what each run saw kept
 * (counts summed), argument values and capabilities unioned, and the rules made again from that
 * (profile.ts, profileFrom) — so a merged profile is exactly what recording all the runs at once
 * would have given.
 *
 * A profile without provenance (made by hand, or Docker's) is refused rather than taken as one
 * run with unknown counts: its rules may allow what no workload used (Docker's default allows
 * ~350 calls), and a merge would carry that into a profile that claims each call was seen.
 * Rules edited by hand in an Eunomia profile are not carried either: the rules are rebuilt
 * from the provenance.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { baseNames } from './base.js';
import { modeOf, noArgs, profileFrom, unionArgs, unionCapabilities, type ProfileFacts } from './profile.js';
import { verdict } from './read.js';
import type { DenyMode, DockerProfile } from './types.js';

const byRun = (a: string, b: string): number => Number(a.slice(1)) - Number(b.slice(1));

/**
 * The union of Eunomia profiles. `mode`: the deny mode of the result; by default the inputs'
 * own when they all share one, else errno. The base list is in the result if it was in any input.
 */
export function merge(profiles: DockerProfile[], mode?: DenyMode): DockerProfile {
  if (!profiles.length) throw new EunomiaError(ErrorCodes.USAGE, 'merge: no profile given — give the profiles to merge');
  const facts: ProfileFacts = { runs: [], syscalls: {}, args: noArgs(), capabilities: { used: [], denied: [] }, compatCalls: 0, unnamed: [] };
  const unnamed = new Set<number>();
  profiles.forEach((p, i) => {
    const prov = p.eunomia;
    if (!prov) {
      throw new EunomiaError(ErrorCodes.PROFILE, `merge: profile ${i + 1} has no Eunomia provenance (no "eunomia" key): merge needs profiles Eunomia made, as it rebuilds the rules from what each run saw — compare other profiles with diff or check`);
    }
    const ids = new Map<string, string>();
    for (const run of prov.runs) {
      const id = `r${facts.runs.length + 1}`;
      ids.set(run.id, id);
      facts.runs.push({ ...run, id });
    }
    for (const [name, e] of Object.entries(prov.syscalls)) {
      if (!e.runs.length) continue; // added by the base list or as clone3's fallback: made again below
      const into = (facts.syscalls[name] ??= { count: 0, runs: [] });
      into.count += e.count;
      into.runs = [...new Set([...into.runs, ...e.runs.map((r) => ids.get(r)!)])].sort(byRun);
    }
    facts.args = unionArgs(facts.args, prov.args);
    facts.capabilities = unionCapabilities(facts.capabilities, prov.capabilities);
    facts.compatCalls += prov.compatCalls;
    for (const n of prov.unnamed) unnamed.add(n);
  });
  facts.unnamed = [...unnamed].sort((a, b) => a - b);
  const sorted: ProfileFacts['syscalls'] = {};
  for (const n of Object.keys(facts.syscalls).sort()) sorted[n] = facts.syscalls[n]!;
  facts.syscalls = sorted;
  const modes = new Set(profiles.map((p) => modeOf(p.defaultAction)));
  const [only] = modes;
  const base = profiles.some((p) => baseNames().every((n) => verdict(p, n).allowed));
  return profileFrom(facts, { mode: mode ?? (modes.size === 1 && only ? only : 'errno'), base });
}
