/**
 * A profile as a Security Profiles Operator resource (security-profiles-operator.x-k8s.io/v1beta1,
 * kind SeccompProfile), YAML. The spec's fields and enums are the CRD's
 * (api/seccompprofile/v1beta1/seccompprofile_types.go; still served next to v1 in SPO 1.0):
 * defaultAction, architectures, syscalls [{names, action, errnoRet, args [{index, value,
 * valueTwo, op}]}], flags, listenerPath, listenerMetadata. What the CRD lacks is left out when
 * that changes nothing (rule comments, defaultErrnoRet 1 — the runtimes' ERRNO default is EPERM)
 * and refused when it would change the filter (another defaultErrnoRet, Docker's includes/excludes).
 *
 * SeccompProfile is cluster-scoped since SPO 0.9 (namespaced before): `namespace` is for older
 * operators, and newer ones ignore it.
 */
import { createRequire } from 'node:module';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { EPERM } from './profile.js';
import type { DockerProfile, DockerRule } from './types.js';

type Yaml = typeof import('yaml');
let yamlLib: Yaml | undefined;
/** Loaded when first written: the YAML library costs tens of ms to load, and most runs write JSON. */
const yaml = (): Yaml => (yamlLib ??= createRequire(import.meta.url)('yaml') as Yaml);

export const SPO_API_VERSION = 'security-profiles-operator.x-k8s.io/v1beta1';
/** The CRD's pattern for listenerPath. */
const LISTENER_PATH = /^\/var\/run\/security-profiles-operator\/[a-zA-Z0-9_\-.]+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkNames(name: string, namespace: string | undefined): void {
  const subdomain = name.length <= 253 && name.split('.').every((l) => DNS_LABEL.test(l) && l.length <= 63);
  if (!subdomain) {
    throw new EunomiaError(ErrorCodes.USAGE, `SeccompProfile name "${name}": a Kubernetes name is lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (253 characters at most)`);
  }
  if (namespace !== undefined && !(DNS_LABEL.test(namespace) && namespace.length <= 63)) {
    throw new EunomiaError(ErrorCodes.USAGE, `namespace "${namespace}": a Kubernetes namespace is lowercase letters, digits and '-', starting and ending with a letter or digit (63 characters at most)`);
  }
}

const filled = (o: Record<string, unknown> | undefined): boolean => o !== undefined && Object.values(o).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== ''));

function specRule(r: DockerRule, i: number): Record<string, unknown> {
  if (filled(r.includes) || filled(r.excludes)) {
    throw new EunomiaError(ErrorCodes.PROFILE, `syscalls[${i}] (${r.names.slice(0, 3).join(', ')}${r.names.length > 3 ? ', …' : ''}): includes/excludes are Docker's conditions on the machine, capabilities or kernel, and a SeccompProfile has no such field — make the profile for one machine first (Eunomia's own profiles have none)`);
  }
  return {
    action: r.action,
    names: r.names,
    ...(r.args?.length ? { args: r.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}), op: a.op })) } : {}),
    ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
  };
}

/** The provenance, in a few annotations (values are strings). */
function annotations(p: DockerProfile): Record<string, string> | undefined {
  const prov = p.eunomia;
  if (!prov) return undefined;
  const out: Record<string, string> = {
    'eunomia/runs': String(prov.runs.length),
    'eunomia/targets': prov.runs.map((r) => `${r.id} ${r.target.kind} ${r.target.name}${r.target.image ? ` (${r.target.image})` : ''}`).join('; '),
  };
  if (prov.runs.length) {
    const started = prov.runs.map((r) => r.started).sort()[0]!;
    const ended = prov.runs.map((r) => r.ended).sort().at(-1)!;
    out['eunomia/recorded'] = `${started} to ${ended}`;
  }
  out['eunomia/seen'] = String(Object.values(prov.syscalls).filter((e) => e.runs.length).length);
  if (prov.base.length) out['eunomia/base-list'] = prov.base.join(', ');
  return out;
}

/** The SeccompProfile resource of a profile, as YAML. */
export function toSpo(profile: DockerProfile, name: string, namespace?: string): string {
  checkNames(name, namespace);
  const p = profile as DockerProfile & { listenerPath?: string; listenerMetadata?: string };
  if (p.defaultAction === 'SCMP_ACT_ERRNO' && p.defaultErrnoRet !== undefined && p.defaultErrnoRet !== EPERM) {
    throw new EunomiaError(ErrorCodes.PROFILE, `defaultErrnoRet ${p.defaultErrnoRet}: a SeccompProfile has no defaultErrnoRet, and refused calls would fail with EPERM (1) instead — make the profile with defaultErrnoRet 1, or none`);
  }
  if (p.listenerPath !== undefined && !LISTENER_PATH.test(p.listenerPath)) {
    throw new EunomiaError(ErrorCodes.PROFILE, `listenerPath "${p.listenerPath}": the operator only takes a socket in /var/run/security-profiles-operator/`);
  }
  // archMap: the x86-64 entry, as Docker would pick it on this machine.
  const x86 = p.archMap?.find((m) => m.architecture === 'SCMP_ARCH_X86_64');
  const architectures = p.architectures ?? (x86 ? [x86.architecture, ...x86.subArchitectures] : undefined);
  const notes = annotations(p);
  const resource = {
    apiVersion: SPO_API_VERSION,
    kind: 'SeccompProfile',
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}), ...(notes ? { annotations: notes } : {}) },
    spec: {
      defaultAction: p.defaultAction,
      ...(architectures?.length ? { architectures } : {}),
      ...(p.flags?.length ? { flags: p.flags } : {}),
      ...(p.listenerPath !== undefined ? { listenerPath: p.listenerPath } : {}),
      ...(p.listenerMetadata !== undefined ? { listenerMetadata: p.listenerMetadata } : {}),
      syscalls: p.syscalls.map(specRule),
    },
  };
  const doc = new (yaml().Document)(resource);
  doc.commentBefore = ' A seccomp profile for the Security Profiles Operator, made by Eunomia.';
  return doc.toString({ lineWidth: 0 });
}
