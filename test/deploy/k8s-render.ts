/**
 * Renders deploy/helm/eunomia with test/deploy/k8s-render.go (Helm's template engine's parts,
 * from Debian's Go packages: see that file), building it first when it is missing or older
 * than its source. scripts/test-env.sh installs Go and the libraries, and builds it once.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from './k8s-validate.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const chartDir = join(repoRoot, 'deploy', 'helm', 'eunomia');
const source = join(repoRoot, 'test', 'deploy', 'k8s-render.go');
/** Where scripts/test-env.sh builds it too. */
export const rendererPath = '/usr/local/libexec/eunomia-test/k8s-render';

const mtime = (p: string): number => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** Builds the renderer if needed; throws with the way to get Go when it cannot. */
export function buildRenderer(): string {
  if (mtime(rendererPath) >= mtime(source)) return rendererPath;
  mkdirSync(dirname(rendererPath), { recursive: true });
  // Debian's Go libraries live in GOPATH form under /usr/share/gocode: no module download.
  const r = spawnSync('go', ['build', '-o', rendererPath, source], {
    encoding: 'utf8',
    env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? '/var/cache/eunomia-test/go-build' },
  });
  if (r.error) throw new Error(`cannot run go (${r.error.message}): run "bash scripts/test-env.sh", which installs golang-go and the Go libraries the renderer uses`);
  if (r.status !== 0) throw new Error(`building ${source} failed:\n${r.stderr}`);
  return rendererPath;
}

export interface Rendered {
  status: number;
  stdout: string;
  stderr: string;
  manifests: Manifest[];
}

/**
 * `helm template NAME CHART -n NAMESPACE -f <each values object>`; the values are written as
 * JSON files (JSON is YAML). Manifests are parsed; a document that is not valid YAML throws.
 */
export function render(values: object[] = [], opts: { name?: string; namespace?: string; notes?: boolean; chart?: string } = {}): Rendered {
  const bin = buildRenderer();
  const dir = mkdtempSync(join(tmpdir(), 'k8s-deploy-values-'));
  try {
    const args = ['--name', opts.name ?? 'eunomia', '--namespace', opts.namespace ?? 'eunomia'];
    values.forEach((v, i) => {
      const f = join(dir, `values-${i}.yaml`);
      writeFileSync(f, JSON.stringify(v));
      args.push('-f', f);
    });
    if (opts.notes) args.push('--notes');
    args.push(opts.chart ?? chartDir);
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    const out: Rendered = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, manifests: [] };
    if (out.status === 0 && !opts.notes) out.manifests = parseManifests(r.stdout, 'chart');
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every YAML document of a stream, with its "# Source:" (helm template's) or `origin`. */
export function parseManifests(text: string, origin: string): Manifest[] {
  const out: Manifest[] = [];
  // YAML 1.1, as Kubernetes reads manifests (go-yaml): 0400 is octal there, 400 in YAML 1.2.
  for (const d of parseAllDocuments(text, { version: '1.1' })) {
    if (d.errors.length) throw new Error(`${origin}: not valid YAML: ${d.errors[0]!.message}`);
    const doc = d.toJS() as Record<string, unknown> | null;
    if (doc === null) continue;
    const src = /^\s*Source: (.+)$/m.exec(d.commentBefore ?? '');
    out.push({ source: src ? src[1]!.trim() : origin, doc });
  }
  return out;
}
