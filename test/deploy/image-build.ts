/**
 * Building the images the deploy tests run (docs/image.md): the Debian base from Debian's
 * packages (scripts/image-base.sh: no registry is reachable here), the agent's image from the
 * Dockerfile on it, and Prometheus's from Debian's package (deploy/compose/prometheus.Dockerfile).
 * Idempotent: the base is kept once made; Docker's layer cache makes a rebuild of unchanged
 * sources take seconds, and of changed TypeScript only the last layers.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

/** scripts/image-base.sh's default tag. */
export const BASE_IMAGE = 'eunomia-image/base:trixie-1';
export const AGENT_IMAGE = 'eunomia-image/agent:test';
export const PROMETHEUS_IMAGE = 'eunomia-image/prometheus:test';

/** Runs a command in the repository; resolves with its output, rejects with its last lines. */
export function run(cmd: string, args: string[], { timeoutMs = 20 * 60_000, env = process.env } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')}: ${signal ? `killed (${signal}, timeout ${timeoutMs / 1000} s)` : `exit ${code}`}\n${out.split('\n').slice(-40).join('\n')}`));
    });
  });
}

export interface Built {
  /** Seconds each step took (a cached build is the warm figure). */
  seconds: { base: number; agent: number; prometheus: number };
}

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await f();
  return Math.round((performance.now() - t) / 100) / 10;
};

/**
 * This machine's own additions to the system's certificates (update-ca-certificates' local
 * directory), for the build's npm: where TLS goes through an inspecting proxy, the host trusts
 * its certificate and the build must too (the Dockerfile's EXTRA_CA_CERTS). Empty when none.
 */
function localCaCerts(dir = '/usr/local/share/ca-certificates'): string {
  let names: string[] = [];
  try {
    names = readdirSync(dir, { recursive: true }).map(String).filter((n) => n.endsWith('.crt'));
  } catch {
    return '';
  }
  return names.map((n) => readFileSync(join(dir, n), 'utf8').trim()).join('\n');
}

/** The base, then the agent's and Prometheus's images on it (the two at once). */
export async function buildImages(): Promise<Built> {
  const base = await timed(() => run('bash', ['scripts/image-base.sh', BASE_IMAGE]));
  const [agent, prometheus] = await Promise.all([
    timed(() => run('docker', ['build', '-q', '--build-arg', `BASE=${BASE_IMAGE}`, '--build-arg', `EXTRA_CA_CERTS=${localCaCerts()}`, '-t', AGENT_IMAGE, '.'])),
    timed(() => run('docker', ['build', '-q', '--build-arg', `BASE=${BASE_IMAGE}`, '-f', 'deploy/compose/prometheus.Dockerfile', '-t', PROMETHEUS_IMAGE, 'deploy/compose'])),
  ]);
  return { seconds: { base, agent, prometheus } };
}
