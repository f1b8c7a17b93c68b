/** Running the agent's image as docs/image.md says, and measuring it from the host. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker } from '../docker.js';

/** The capabilities docs/image.md documents (Docker's names, without CAP_), and no others. */
export const AGENT_CAPS = ['SYS_ADMIN', 'SYS_PTRACE', 'DAC_READ_SEARCH'];

/** `docker run` flags for the agent: docs/image.md's command, with the ports given. */
export function agentRunArgs(o: { tokenFile: string; apiPort: number; metricsPort: number }): string[] {
  return [
    '--pid', 'host',
    '--cap-drop', 'ALL',
    ...AGENT_CAPS.flatMap((c) => ['--cap-add', c]),
    '-v', '/sys/kernel/btf:/sys/kernel/btf:ro',
    '-v', '/sys/kernel/tracing:/sys/kernel/tracing:ro',
    '-v', '/sys/fs/bpf:/sys/fs/bpf:ro',
    '-v', '/var/run/docker.sock:/var/run/docker.sock:ro',
    '-v', `${o.tokenFile}:/run/secrets/eunomia-token:ro`,
    '-p', `127.0.0.1:${o.apiPort}:8527`,
    '-p', `127.0.0.1:${o.metricsPort}:8528`,
  ];
}

/** The last lines a container wrote (the agent writes to stderr), for a failure's message. */
export function containerLogs(container: string): string {
  const r = spawnSync('docker', ['logs', '--tail', '30', container], { encoding: 'utf8', timeout: 30_000 });
  return `${container}'s last lines:\n${r.stdout}${r.stderr}`;
}

/** The container's main process as the host numbers it. */
export function hostPid(container: string): number {
  const pid = Number(docker('inspect', '-f', '{{.State.Pid}}', container));
  if (!(pid > 0)) throw new Error(`${container} is not running`);
  return pid;
}

/**
 * GETs `url` until `ok(body)` holds; resolves with the body. On timeout, rejects with the last
 * answer and, when given, what `context` says (the container's logs). `requestMs`: how long one
 * request may take (a published port whose container does not listen yet can hold one).
 */
export async function pollJson(url: string, headers: Record<string, string>, ok: (body: unknown) => boolean, what: string, ms: number,
  context?: () => string | Promise<string>, requestMs = 5000): Promise<unknown> {
  const end = Date.now() + ms;
  let last = 'no answer';
  for (;;) {
    // A timer of our own, not AbortSignal.timeout's (unref'd): a request whose connection the
    // port's proxy accepted and then dropped may otherwise leave nothing to keep the loop alive.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no answer in ${requestMs} ms`)), requestMs);
    try {
      const r = await fetch(url, { headers, signal: abort.signal });
      const text = await r.text();
      last = `${r.status} ${text.slice(0, 500)}`;
      if (r.ok) {
        const body = JSON.parse(text) as unknown;
        if (ok(body)) return body;
      }
    } catch (e) {
      last = (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > end) {
      const more = context ? `\n${await Promise.resolve(context()).catch((e: Error) => e.message)}` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}: last answer ${last}${more}`);
    }
    await sleep(100);
  }
}

const CLK_TCK = 100; // USER_HZ: what /proc/<pid>/stat counts in, on every Linux architecture

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

/** The RSS at the end, and the CPU used over `ms`, of a host pid. */
export async function idleFigures(pid: number, ms: number): Promise<{ rssMiB: number; cpuPercent: number; seconds: number }> {
  const t0 = performance.now();
  const c0 = cpuTicks(pid);
  await sleep(ms);
  const c1 = cpuTicks(pid);
  const seconds = (performance.now() - t0) / 1000;
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { rssMiB: Number(rss?.[1]) / 1024, cpuPercent: ((c1 - c0) / CLK_TCK / seconds) * 100, seconds: Math.round(seconds) };
}
