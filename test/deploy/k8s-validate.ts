/**
 * Kubernetes manifests checked against the Kubernetes schemas, twice:
 *
 * 1. kubernetes-models (and @kubernetes-models/prometheus-operator for ServiceMonitor and
 *    PodMonitor): the API's OpenAPI schemas compiled to ajv validators — types, enums,
 *    required fields, formats.
 * 2. Unknown fields. Those schemas, like the API's OpenAPI, allow any extra key, where the API
 *    server (strict field validation, kubectl's default) refuses one and a CRD's structural
 *    schema silently drops it: a misspelled `readonly` would pass (1) and do nothing. So each
 *    manifest is also type-checked by the TypeScript compiler as an object literal of the same
 *    package's declared type, whose excess-property check names every key the type lacks.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

interface Kind {
  /** the module the model and its interface come from */
  module: string;
  /** the exported class and interface (`I` + name) */
  name: string;
}

/** What this repository's manifests contain: a kind not here is an error, not a pass. */
const KINDS: Record<string, Kind> = {
  'v1/Namespace': { module: 'kubernetes-models/v1/Namespace', name: 'Namespace' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', name: 'ServiceAccount' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', name: 'Secret' },
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', name: 'ConfigMap' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', name: 'Service' },
  'apps/v1/DaemonSet': { module: 'kubernetes-models/apps/v1/DaemonSet', name: 'DaemonSet' },
  'monitoring.coreos.com/v1/ServiceMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', name: 'ServiceMonitor' },
  'monitoring.coreos.com/v1/PodMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor', name: 'PodMonitor' },
};

export interface Manifest {
  /** where it came from: a chart template or a file */
  source: string;
  doc: Record<string, unknown>;
}

function kindOf(doc: Record<string, unknown>): Kind {
  const key = `${String(doc.apiVersion)}/${String(doc.kind)}`;
  const k = KINDS[key];
  if (!k) throw new Error(`no schema known for ${key} (test/deploy/k8s-validate.ts lists the kinds)`);
  return k;
}

type ModelClass = new (data: unknown) => { validate(): void };
const models = new Map<string, ModelClass>();

/** Schema check (1): throws the validator's error, prefixed with where the manifest came from. */
export async function validateSchema(m: Manifest): Promise<void> {
  const k = kindOf(m.doc);
  let Model = models.get(k.module);
  if (!Model) {
    Model = ((await import(k.module)) as Record<string, ModelClass>)[k.name]!;
    models.set(k.module, Model);
  }
  try {
    new Model(m.doc).validate();
  } catch (e) {
    throw new Error(`${m.source} (${String(m.doc.kind)} ${nameOf(m.doc)}): ${(e as Error).message}`);
  }
}

const nameOf = (doc: Record<string, unknown>): string => String((doc.metadata as { name?: string } | undefined)?.name ?? '?');

const here = dirname(fileURLToPath(import.meta.url));
// The virtual file sits in the repository's test/deploy, so that node_modules resolves as for the tests.
const repoRoot = join(here, '..', '..', '..');
const virtualFile = join(repoRoot, 'test', 'deploy', '__k8s_strict_check__.ts');

/**
 * Unknown-field check (2) of many manifests in one compile (~2 s): one error per problem,
 * "source (Kind name): message"; [] when every key is known.
 */
export function unknownFields(manifests: Manifest[]): string[] {
  const imports = new Set<string>();
  const body: string[] = [];
  for (const [i, m] of manifests.entries()) {
    const k = kindOf(m.doc);
    imports.add(`import type { I${k.name} } from '${k.module}';`);
    body.push(`export const m${i}: I${k.name} = ${JSON.stringify(m.doc, null, 1)};`);
  }
  const head = [...imports];
  // The first line of each manifest's statement, to say which manifest a diagnostic is in.
  const starts: number[] = [];
  let at = head.length;
  for (const b of body) {
    starts.push(at);
    at += b.split('\n').length;
  }
  const text = [...head, ...body].join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) => (file === virtualFile ? ts.createSourceFile(file, text, lang) : getSourceFile(file, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === virtualFile || fileExists(file);
  const program = ts.createProgram([virtualFile], options, host);
  const sf = program.getSourceFile(virtualFile)!;
  const out: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file?.fileName !== virtualFile || d.start === undefined) {
      out.push(`strict check: ${msg}`);
      continue;
    }
    const line = sf.getLineAndCharacterOfPosition(d.start).line;
    let i = 0;
    while (i + 1 < starts.length && starts[i + 1]! <= line) i++;
    const m = manifests[i]!;
    const path = sf.text.slice(sf.getLineStarts()[line], sf.getLineStarts()[line + 1] ?? sf.text.length).trim();
    out.push(`${m.source} (${String(m.doc.kind)} ${nameOf(m.doc)}): ${msg} [at: ${path}]`);
  }
  return out;
}

/** The installed version of a package, for the report of what validated. */
export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}
