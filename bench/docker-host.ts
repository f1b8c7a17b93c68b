/** What the container benchmarks share: the test image's Docker engine, and a host with idle containers on it. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startContainers, type Containers } from '../src/containers/index.js';
import type { NativeBinding } from '../src/core/native.js';

export const run = promisify(execFile);
export const IMAGE = 'eunomia-test/busybox:4';

/** Whether the engine has the test image; if not, says why `part` is skipped. */
export async function dockerReady(part: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', IMAGE]);
    return true;
  } catch {
    console.log(`${part}: skipped — no Docker engine with ${IMAGE} (run scripts/test-env.sh as root)`);
    return false;
  }
}

/**
 * Runs `fn` with the container resolver started and `count` idle containers (named
 * `eunomia-bench-<kind>-<pid>-<i>`: two benches at once do not collide), removed afterwards.
 */
export async function withContainers(native: NativeBinding, kind: string, count: number, fn: (c: Containers) => Promise<void>): Promise<void> {
  const c = await startContainers(native, { log: (l) => console.log(`  (${l})`) });
  const sleepers: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = `eunomia-bench-${kind}-${process.pid}-${i}`;
      await run('docker', ['run', '-d', '--name', name, IMAGE, 'sleep', '3600']);
      sleepers.push(name);
    }
    await new Promise((r) => setTimeout(r, 300));
    await fn(c);
  } finally {
    if (sleepers.length) await run('docker', ['rm', '-f', ...sleepers]).catch(() => {});
    await c.close();
  }
}
