/**
 * The `seccomp` tracker's rows (one per recorded cgroup) as Recordings: a container may have
 * several cgroups (and a command is one), so rows of one target are summed into one.
 */
import type { SeccompRow } from '../trackers/seccomp/index.js';
import { noArgs, unionArgs, unionCapabilities } from './profile.js';
import type { Recording, RecordTarget } from './types.js';

/**
 * One Recording of a target from its rows (empty rows: nothing was called under the gate —
 * a recording with no syscalls, which the caller reports as such). The gate is `exec` if any
 * cgroup ran without a filter: its runtime's calls after the filter would be missing.
 */
export function recordingOf(target: RecordTarget, rows: readonly SeccompRow[], started: Date, ended: Date, midRun = false): Recording {
  const syscalls: Record<string, number> = {};
  let args = noArgs();
  const unnamed = new Set<number>();
  let compatCalls = 0;
  let capabilities = { used: [] as string[], denied: [] as string[] };
  for (const r of rows) {
    for (const [name, n] of Object.entries(r.syscalls)) syscalls[name] = (syscalls[name] ?? 0) + n;
    args = unionArgs(args, r.args);
    for (const nr of r.unnamed) unnamed.add(nr);
    compatCalls += r.compat_calls;
    capabilities = unionCapabilities(capabilities, r.capabilities);
  }
  return {
    target,
    started: started.toISOString(),
    ended: ended.toISOString(),
    gate: rows.some((r) => r.gate === 'exec') ? 'exec' : 'filter',
    ...(midRun ? { midRun: true as const } : {}),
    syscalls,
    unnamed: [...unnamed].sort((a, b) => a - b),
    compatCalls,
    args,
    capabilities,
  };
}

/** A tracker row and the container its cgroup belongs to (from the events' enrichment). */
export interface RecordedRow {
  row: SeccompRow;
  container?: { full_id: string; name: string; image?: string };
}

/**
 * One recording per container from the rows of its cgroups (a row with no container is named by
 * its cgroup); with `command`, all rows are that command's. `joinedRunning`: full ids of the
 * containers that were running when the recording selected them (ScopeHandle.joinedRunning).
 */
export function recordingsOf(rows: Iterable<RecordedRow>, started: Date, ended: Date, { command, joinedRunning = [] }: { command?: RecordTarget; joinedRunning?: readonly string[] } = {}): Recording[] {
  const all = [...rows];
  if (command) return all.length ? [recordingOf(command, all.map((r) => r.row), started, ended)] : [];
  const byContainer = new Map<string, { target: RecordTarget; rows: SeccompRow[] }>();
  for (const { row, container } of all) {
    const key = container?.full_id ?? `cgroup ${row.cgroup_id}`;
    let g = byContainer.get(key);
    if (!g) {
      const target: RecordTarget = container ? { kind: 'container', name: container.name, id: container.full_id, ...(container.image ? { image: container.image } : {}) } : { kind: 'container', name: key };
      byContainer.set(key, (g = { target, rows: [] }));
    }
    g.rows.push(row);
  }
  return [...byContainer.values()].map((g) => recordingOf(g.target, g.rows, started, ended, g.target.id !== undefined && joinedRunning.includes(g.target.id)));
}
