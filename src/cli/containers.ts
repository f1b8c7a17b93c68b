/** `eunomia containers`: the running containers with their pids, namespaces and cgroups. */
import { readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cgroupIdOf, cgroup2Root, cgroupOfPid } from '../containers/cgroup.js';
import { ContainerResolver, defaultClients } from '../containers/index.js';
import type { ContainerInfo } from '../containers/types.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { parseFormat, toJson } from '../exporters/index.js';

export interface ContainerRow {
  id: string;
  name: string;
  image: string;
  runtime: string;
  state: string;
  pid?: number;
  privileged: boolean;
  k8s_namespace?: string;
  k8s_pod?: string;
  /** Namespace inode numbers, as events carry them (mnt_ns, pid_ns …). */
  mnt_ns?: number;
  pid_ns?: number;
  net_ns?: number;
  user_ns?: number;
  /** cgroup v2 id, as events carry it. */
  cgroup_id?: number;
}

function nsOf(pid: number, ns: string): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function containerRow(c: ContainerInfo, root = cgroup2Root()): ContainerRow {
  const row: ContainerRow = { id: c.id.slice(0, 12), name: c.name, image: c.image, runtime: c.runtime, state: c.state, privileged: c.privileged };
  if (c.k8s?.namespace) row.k8s_namespace = c.k8s.namespace;
  if (c.k8s?.pod) row.k8s_pod = c.k8s.pod;
  if (c.pid) {
    row.pid = c.pid;
    row.mnt_ns = nsOf(c.pid, 'mnt');
    row.pid_ns = nsOf(c.pid, 'pid');
    row.net_ns = nsOf(c.pid, 'net');
    row.user_ns = nsOf(c.pid, 'user');
    const path = cgroupOfPid(c.pid);
    if (root && path) row.cgroup_id = cgroupIdOf(root, path);
  }
  return row;
}

const COLUMNS: [keyof ContainerRow, string][] = [
  ['id', 'CONTAINER ID'], ['name', 'NAME'], ['image', 'IMAGE'], ['runtime', 'RUNTIME'], ['pid', 'PID'],
  ['k8s_namespace', 'NAMESPACE'], ['k8s_pod', 'POD'], ['mnt_ns', 'MNTNS'], ['pid_ns', 'PIDNS'], ['net_ns', 'NETNS'], ['cgroup_id', 'CGROUP'],
];

export function containersTable(rows: ContainerRow[]): string {
  const cells = rows.map((r) => COLUMNS.map(([k]) => (r[k] === undefined ? '-' : String(r[k]))));
  const widths = COLUMNS.map(([, h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (vals: string[]): string => vals.map((v, i) => (i < vals.length - 1 ? v.padEnd(widths[i]!) : v)).join('  ');
  return [line(COLUMNS.map(([, h]) => h)), ...cells.map(line)].join('\n') + '\n';
}

export async function containersCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { fmt: { type: 'string', short: 'f' }, all: { type: 'boolean', short: 'a' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    throw new EunomiaError(ErrorCodes.USAGE, `${(e as Error).message} — see "eunomia containers --help"`);
  }
  if (values.help) {
    out.write('Usage: eunomia containers [-a|--all] [-f|--fmt plain|json]\n\nThe running containers (all with -a) from Docker, Podman and containerd (Kubernetes),\nwith their first process, namespaces and cgroup v2 id as events carry them.\n');
    return 0;
  }
  const format = parseFormat(values.fmt ?? 'plain');
  if (format === 'csv') throw new EunomiaError(ErrorCodes.USAGE, '"eunomia containers" prints plain or json');
  // Every runtime at once: listing is the point here.
  const resolver = new ContainerResolver({ clients: defaultClients(process.env, { containerdOnDemand: false }), log: (l) => err.write(`eunomia: containers: ${l}\n`) });
  try {
    await resolver.start();
    const root = cgroup2Root();
    const list = resolver.list().filter((c) => values.all || c.state === 'running');
    const rows = list.map((c) => containerRow(c, root));
    // Containers no runtime told us about (no API reachable): known by id from cgroups.
    const known = new Set(list.map((c) => c.id));
    for (const id of new Set(resolver.containerCgroups().values())) {
      if (!known.has(id) && !resolver.get(id)) rows.push({ id: id.slice(0, 12), name: '', image: '', runtime: 'unknown', state: 'running', privileged: false });
    }
    rows.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    out.write(format === 'json' ? rows.map((r) => toJson(r)).join('\n') + (rows.length ? '\n' : '') : containersTable(rows));
    return 0;
  } finally {
    resolver.close();
  }
}
