/**
 * `eunomia doctor`: what this host lets Eunomia do, and for each tracker and rule whether it can
 * run here — human text, or `--json`. Exit 0 when everything the defaults (`eunomia server`)
 * need can run, 1 otherwise (the reasons are the report's last lines), 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { loadNative } from '../core/native.js';
import { buildReport, type DoctorReport, type TrackerReport } from '../agent/doctor.js';
import { CAPABILITY_NAMES } from '../agent/host-facts.js';

export const DOCTOR_HELP = `Usage: eunomia doctor [--json]

What this host lets Eunomia do: the kernel, BTF, the eBPF program kinds the kernel really loads
and attaches (each probed with a do-nothing program: tracepoint, raw tracepoint, tp_btf, kprobe,
fentry, fexit, LSM, uprobe, perf event), tracefs, cgroups, this process's capabilities, memlock,
the container runtimes; then each tracker and rule: can it run here, and if not, why and what
to do (docs/doctor.md). Run it as the user that runs eunomia (root).

  --json      the report as one JSON document
  -h, --help  this help

Exit status: 0 when everything "eunomia server" starts by default can run here; 1 when not
(the reasons are printed last); 2 on a usage error.
`;

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

function trackerLine(t: TrackerReport, width: number): string[] {
  const head = `  ${t.name.padEnd(width)}  ${t.canRun ? 'can run' : 'CANNOT run'}${t.byDefault ? ' (default)' : ''}`;
  if (!t.canRun) return [head, `  ${' '.repeat(width)}    why: ${t.reason}`, `  ${' '.repeat(width)}    to do: ${t.todo}`];
  const counts = new Map<string, number>();
  for (const p of t.programs) if (p.status === 'runs' && p.kind) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
  const kinds = [...counts].map(([k, n]) => `${k} ×${n}`).join(', ');
  return [`${head}: ${kinds}`, ...t.notes.map((n) => `  ${' '.repeat(width)}    ${n}`)];
}

/** The whole report as text: sections in the order of docs/doctor.md. */
export function renderReport(r: DoctorReport): string {
  const out: string[] = [];
  const k = r.kernel;
  out.push(`Eunomia ${r.eunomia} doctor (${r.ms} ms)`, '');
  out.push('Kernel');
  out.push(`  release     ${k.release} (${k.arch}); ${k.version}`);
  out.push(`  libbpf      ${k.libbpf}`);
  out.push(`  config      ${k.configFrom ?? 'not readable (no /proc/config.gz, no /boot/config-<release>)'}`);
  out.push(`  BTF         ${r.btf.present ? `${r.btf.path} (${r.btf.bytes} bytes)` : `MISSING: ${r.btf.path} — a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed`}`);
  out.push(`  tracefs     ${r.tracefs.path && !r.tracefs.readable ? `${r.tracefs.path}, NOT readable by this process — run as root` : r.tracefs.path ? `${r.tracefs.path} (${r.tracefs.tracepoints} tracepoints; kprobe_events ${yesNo(r.tracefs.kprobeEvents)}, uprobe_events ${yesNo(r.tracefs.uprobeEvents)})` : 'not mounted — eunomia mounts it at /sys/kernel/tracing when it starts (as root)'}`);
  out.push(`  cgroup      ${r.cgroup.version}${r.cgroup.v2Root ? ` (v2 hierarchy at ${r.cgroup.v2Root})` : ' — no cgroup v2: containers cannot be told apart'}`);
  out.push(`  LSMs        ${r.lsms ? r.lsms.join(', ') : 'unknown (securityfs not mounted)'}`);
  out.push('', 'Program kinds (each loaded and attached by a do-nothing program)');
  for (const p of r.programKinds) {
    out.push(`  ${p.kind.padEnd(15)} ${p.ok ? 'yes' : `NO  ${p.stage}${p.error ? ` ${p.error}` : ''}: ${p.reason}`}`);
    if (!p.ok && p.config) out.push(`  ${' '.repeat(15)}     kernel config: ${p.config}`);
  }
  const caps = r.privileges.capabilities;
  out.push('', 'This process');
  out.push(`  uid         ${r.privileges.uid ?? 'unknown'}; may load eBPF: ${r.privileges.bpf ? 'yes' : 'NO — run as root (or with CAP_BPF and CAP_PERFMON)'}`);
  out.push(`  capabilities ${caps.effective.length === 0 ? 'none' : caps.effective.length > 20 ? `${caps.effective.length}: all but ${allBut(caps.effective)}` : caps.effective.join(', ')}`);
  for (const m of caps.missing) out.push(`              lacks ${m.name}: used to ${m.usedFor}`);
  const ml = r.memlock;
  out.push(`  memlock     ${bytes(ml.soft)} (hard ${bytes(ml.hard)}): ${ml.charged ? 'this kernel charges eBPF maps to it — raise it (ulimit -l unlimited) if loads fail with EPERM' : 'not what limits eBPF here: since 5.11 the memory cgroup is charged'}`);
  out.push('', 'Container runtimes');
  for (const x of r.runtimes) {
    const state = !x.present ? 'no socket' : x.answers === true ? (x.checked === 'socket' ? 'accepts connections' : 'answers') : x.answers === false ? `does NOT answer${x.error ? `: ${x.error}` : ''}` : 'not asked';
    out.push(`  ${x.runtime.padEnd(11)} ${x.socket}: ${state}; used: ${x.used}${x.usedWhy ? ` (${x.usedWhy})` : ''}`);
  }
  const w = Math.max(...r.trackers.map((t) => t.name.length));
  out.push('', 'Trackers (with their default options)');
  for (const t of r.trackers) out.push(...trackerLine(t, w));
  const cannot = r.rules.filter((x) => !x.canRun);
  out.push('', `Rules: ${r.rules.length - cannot.length} of ${r.rules.length} enabled rules can run here`);
  // By reason: without privileges every rule fails, for a few reasons.
  const byReason = new Map<string, string[]>();
  for (const x of cannot) byReason.set(x.reason!, [...(byReason.get(x.reason!) ?? []), x.id]);
  for (const [why, ids] of byReason) out.push(`  ${ids.length > 5 ? `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more` : ids.join(', ')}: ${why}`);
  out.push('', 'Summary (the server logs this at start)');
  for (const l of r.summary) out.push(`  ${l}`);
  if (!r.ok) {
    out.push('', 'Cannot run the defaults here:');
    for (const p of r.problems) out.push(`  - ${p}`);
  }
  return out.join('\n') + '\n';
}

/** The known capabilities this process lacks. */
function allBut(effective: string[]): string {
  const missing = CAPABILITY_NAMES.filter((n) => !effective.includes(n));
  return missing.length ? missing.join(', ') : 'none';
}

function bytes(n: number | null): string {
  return n === null ? 'unlimited' : n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n} bytes`;
}

export async function doctorCommand(argv: string[], io: { stdout: NodeJS.WritableStream }): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    throw new EunomiaError(ErrorCodes.USAGE, `${(e as Error).message.replace(/\. To specify.*$/s, '')} — see "eunomia doctor --help"`);
  }
  if (v.help) {
    io.stdout.write(DOCTOR_HELP);
    return 0;
  }
  const report = await buildReport({ native: loadNative(), runtimes: 'ping' });
  io.stdout.write(v.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
  return report.ok ? 0 : 1;
}
