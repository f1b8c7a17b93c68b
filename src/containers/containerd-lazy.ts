/**
 * containerd's client, loaded when containerd first answers: gRPC and the protobuf definitions
 * cost ~100 ms and ~18 MB, and a node with containerd's socket may have nothing listening on it.
 * On demand (the agent's default), it is not even asked until a container appears that the other
 * runtimes do not know: on a Docker host, containerd holds only Docker's own containers.
 */
import { connect } from 'node:net';
import { ErrorCodes, EunomiaError } from '../core/errors.js';
import type { ContainerdClient } from './containerd.js';
import type { ContainerInfo, RuntimeClient, RuntimeEvent, RuntimeWatch } from './types.js';

/** Resolves when something accepts a connection on the unix socket. */
function accepts(socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve();
    });
    c.once('error', (e: NodeJS.ErrnoException) => {
      c.destroy();
      reject(new EunomiaError(ErrorCodes.RUNTIME, `containerd does not answer on ${socket}: ${e.code ?? e.message} — check that containerd runs and that this is its socket`));
    });
  });
}

export class LazyContainerdClient implements RuntimeClient {
  readonly runtime = 'containerd' as const;
  private client?: ContainerdClient;
  private closed = false;

  constructor(
    readonly socket: string,
    private readonly namespaces: string[],
    readonly onDemand = false,
  ) {}

  async ping(): Promise<void> {
    if (!this.client) {
      await accepts(this.socket);
      const { ContainerdClient } = await import('./containerd.js');
      // Closed while loading: a channel opened now would keep the process alive.
      if (this.closed) throw new EunomiaError(ErrorCodes.RUNTIME, `containerd client for ${this.socket} is closed`);
      this.client ??= new ContainerdClient({ socket: this.socket, namespaces: this.namespaces });
    }
    return this.client.ping();
  }

  /** The runtime connections call ping() first and use nothing else until it resolved. */
  private loaded(): ContainerdClient {
    if (!this.client) throw new EunomiaError(ErrorCodes.RUNTIME, `containerd on ${this.socket} has not answered yet`);
    return this.client;
  }

  list(): Promise<ContainerInfo[]> {
    return this.loaded().list();
  }

  inspect(id: string): Promise<ContainerInfo | undefined> {
    return this.loaded().inspect(id);
  }

  watch(onEvent: (ev: RuntimeEvent) => void): RuntimeWatch {
    return this.loaded().watch(onEvent);
  }

  close(): void {
    this.closed = true;
    this.client?.close();
  }
}
