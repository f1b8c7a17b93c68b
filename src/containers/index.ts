/** Starting the container subsystem: runtime clients, the kernel cgroup watcher, the resolver. */
import { existsSync } from 'node:fs';
import { isEunomiaError, ErrorCodes } from '../core/errors.js';
import type { NativeBinding } from '../core/native.js';
import { DockerClient } from './docker.js';
import { LazyContainerdClient } from './containerd-lazy.js';
import { ContainerResolver } from './resolver.js';
import type { RuntimeClient } from './types.js';
import { CgroupWatcher } from './watcher.js';

export { ContainerResolver } from './resolver.js';
export { enrichHandler, HOST_CONTAINER, type EnrichHandler } from './enrich.js';
export { containerScopes } from './filter.js';
export type { ContainerInfo, RuntimeClient } from './types.js';

/** Socket paths, honouring the runtimes' own environment variables. */
export function runtimeSockets(env: NodeJS.ProcessEnv = process.env): { docker: string; podman: string; containerd: string } {
  const dockerHost = env.DOCKER_HOST?.startsWith('unix://') ? env.DOCKER_HOST.slice('unix://'.length) : undefined;
  return {
    docker: dockerHost ?? '/var/run/docker.sock',
    podman: '/run/podman/podman.sock',
    containerd: env.CONTAINERD_ADDRESS ?? '/run/containerd/containerd.sock',
  };
}

/** Signs of a Kubernetes node, or of CRI containers under containerd (cheap file checks). */
function looksLikeKubernetes(): boolean {
  return existsSync('/var/lib/kubelet') || existsSync('/run/containerd/io.containerd.runtime.v2.task/k8s.io');
}

/**
 * Docker always (its socket may appear later); Podman when its socket exists; containerd when
 * its socket exists on what looks like a Kubernetes node. containerd is asked only about
 * Kubernetes' namespace: Docker's own containers there ("moby") come from Docker, with names.
 * `containerdOnDemand`: connect containerd only once a container no other runtime knows appears
 * (the agent); off for commands that list every container.
 */
export function defaultClients(env: NodeJS.ProcessEnv = process.env, { containerdOnDemand = true } = {}): RuntimeClient[] {
  const s = runtimeSockets(env);
  const clients: RuntimeClient[] = [new DockerClient({ socket: s.docker, runtime: 'docker' })];
  if (existsSync(s.podman)) clients.push(new DockerClient({ socket: s.podman, runtime: 'podman' }));
  if (existsSync(s.containerd) && looksLikeKubernetes()) clients.push(new LazyContainerdClient(s.containerd, ['k8s.io'], containerdOnDemand));
  return clients;
}

export interface Containers {
  resolver: ContainerResolver;
  close(): Promise<void>;
  closeNow(): void;
}

export interface Containers {
  resolver: ContainerResolver;
  /** Settles when each runtime has answered or failed once (the resolver asks them in the background). */
  ready: Promise<void>;
  close(): Promise<void>;
  closeNow(): void;
}

/**
 * Loads the kernel watcher and returns; the runtimes are asked in the background (`ready`), so
 * trackers attach meanwhile — the enrichment waits for their first answer where it needs names.
 * The watcher needs root; without it (or if it fails to load) cgroups made after start are
 * found by rescanning cgroupfs, which misses containers gone before the rescan.
 */
export async function startContainers(native: NativeBinding, opts: { log: (line: string) => void; clients?: RuntimeClient[] }): Promise<Containers> {
  let watcher: CgroupWatcher | undefined;
  try {
    watcher = await CgroupWatcher.start(native);
  } catch (e) {
    if (isEunomiaError(e, ErrorCodes.OBJECT_MISSING)) throw e; // a broken install, not a kernel limit
    opts.log(`containers: the kernel cgroup watcher did not start (${(e as Error).message}); short-lived containers may show as host`);
  }
  const resolver = new ContainerResolver({ clients: opts.clients ?? defaultClients(), watcher, log: (l) => opts.log(`containers: ${l}`) });
  return {
    resolver,
    ready: resolver.start(),
    async close() {
      resolver.close();
      await watcher?.close();
    },
    closeNow() {
      resolver.close();
      watcher?.closeNow();
    },
  };
}
