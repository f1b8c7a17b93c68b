/** What Eunomia knows about a container, whichever runtime reported it. */

export type RuntimeName = 'docker' | 'containerd' | 'cri-o' | 'podman';

/** Kubernetes identity, read from the CRI labels the kubelet puts on every container. */
export interface K8sInfo {
  namespace?: string;
  pod?: string;
  podUid?: string;
  /** Container name inside the pod. */
  container?: string;
}

export interface ContainerInfo {
  /** Full id: 64 hex characters for Docker, containerd (CRI), CRI-O and Podman. */
  id: string;
  /** Runtime's name for it, without Docker's leading '/'. */
  name: string;
  /** Image reference as the user gave it (e.g. "busybox:1"), else the image id. */
  image: string;
  runtime: RuntimeName;
  labels: Record<string, string>;
  /** Runtime's state word: created, running, exited, … ('unknown' when not known). */
  state: string;
  privileged: boolean;
  /** Host pid of the container's first process, while it runs. */
  pid?: number;
  /** Host paths bind-mounted into the container (the mounts' sources), from its configuration. */
  hostMounts?: string[];
  /** Only what a runtime event said (name, image, labels): the full record is being fetched. */
  partial?: true;
  k8s?: K8sInfo;
}

/** A change reported by a runtime's event stream. */
export interface RuntimeEvent {
  action: 'create' | 'start' | 'die' | 'destroy' | 'rename' | 'update';
  id: string;
  /** ms since the epoch, as the runtime stamped it. */
  time: number;
  /** What the event itself says about the container (Docker: name, image, labels). */
  info?: Partial<ContainerInfo>;
}

/** An open event stream. `done` settles when the stream ends (resolves on close()). */
export interface RuntimeWatch {
  close(): void;
  readonly done: Promise<void>;
}

/** One container runtime's API, over its unix socket. */
export interface RuntimeClient {
  readonly runtime: RuntimeName;
  /** The unix socket it talks to. */
  readonly socket: string;
  /**
   * Connected only once a container appears that the connected runtimes do not know (costly
   * clients: containerd's gRPC is ~18 MB, and Docker's containers in it come from Docker).
   */
  readonly onDemand?: boolean;
  /** Resolves when the API answers; rejects with EunomiaError E_RUNTIME naming the socket otherwise. */
  ping(): Promise<void>;
  /** Containers that exist now (running or not). */
  list(): Promise<ContainerInfo[]>;
  /** One container by full id; undefined when the runtime no longer has it. */
  inspect(id: string): Promise<ContainerInfo | undefined>;
  /** Streams create/start/die/destroy events until closed or the runtime goes away. */
  watch(onEvent: (ev: RuntimeEvent) => void): RuntimeWatch;
  /** Releases connections the client keeps open (containerd's gRPC channel). */
  close?(): void;
}
