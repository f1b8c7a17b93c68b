/** Docker for the container tests: scripts/test-env.sh (run by `npm test`) starts the engine. */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { isRoot } from './helpers.js';

const execFileAsync = promisify(execFile);

/** Made by scripts/test-env.sh with `docker import` of busybox-static: no registry needed. */
export const TEST_IMAGE = 'eunomia-test/busybox:4';

function engineUp(): boolean {
  const r = spawnSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

/** For `{ skip: needsDocker }`: a reason when the engine or the test image is not there. */
export const needsDocker: string | false = !isRoot
  ? 'needs root to use Docker and eBPF'
  : !engineUp() && `no Docker engine with ${TEST_IMAGE} (run scripts/test-env.sh as root)`;

/** Runs the docker CLI; returns trimmed stdout; throws with stderr on failure. */
export function docker(...args: string[]): string {
  try {
    return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** A unique container name for this test run, so parallel or leftover runs do not clash. */
export function uniqueName(prefix: string): string {
  return `eunomia-${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** `docker run -d` of the test image sleeping; returns the full container id. */
export function startSleeper(name: string, extra: string[] = []): string {
  return docker('run', '-d', '--name', name, ...extra, TEST_IMAGE, 'sleep', '3600');
}

/** Removes containers by name or id, ignoring the ones already gone. */
export function removeContainers(...ids: string[]): void {
  if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore', timeout: 60_000 });
}

/**
 * Like docker(), without blocking the event loop: needed whenever the test process itself must
 * answer while the command runs (a server the container talks to, events to collect).
 */
export async function dockerAsync(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('docker', args, { encoding: 'utf8', timeout: 60_000 });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}
