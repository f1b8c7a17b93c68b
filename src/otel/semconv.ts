/**
 * OpenTelemetry semantic-convention names for what Eunomia knows about containers, pods and
 * processes, shared by metrics, logs and the resource. Stable names come from the package;
 * incubating ones are copied here, as the package advises (its incubating entry point may
 * change in any minor release).
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CONTAINER_ID,
  ATTR_CONTAINER_IMAGE_NAME,
  ATTR_CONTAINER_IMAGE_REPO_DIGESTS,
  ATTR_CONTAINER_IMAGE_TAGS,
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_K8S_POD_UID,
} from '@opentelemetry/semantic-conventions';

export { ATTR_CONTAINER_ID, ATTR_CONTAINER_IMAGE_NAME, ATTR_K8S_NAMESPACE_NAME, ATTR_K8S_POD_NAME };
export { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

// Incubating (semantic-conventions 1.x).
export const ATTR_CONTAINER_NAME = 'container.name';
export const ATTR_CONTAINER_IMAGE_ID = 'container.image.id';
export const ATTR_CONTAINER_RUNTIME_NAME = 'container.runtime.name';
export const ATTR_HOST_NAME = 'host.name';
export const ATTR_HOST_ID = 'host.id';
export const ATTR_HOST_ARCH = 'host.arch';
export const ATTR_OS_TYPE = 'os.type';
export const ATTR_PROCESS_PID = 'process.pid';
export const ATTR_PROCESS_PARENT_PID = 'process.parent_pid';
export const ATTR_PROCESS_EXECUTABLE_NAME = 'process.executable.name';
export const ATTR_PROCESS_EXECUTABLE_PATH = 'process.executable.path';
export const ATTR_PROCESS_COMMAND_ARGS = 'process.command_args';
export const ATTR_PROCESS_RUNTIME_NAME = 'process.runtime.name';
export const ATTR_PROCESS_RUNTIME_VERSION = 'process.runtime.version';

/** Prometheus container labels (docs/metrics.md) → attribute names; other labels keep their name. */
export const LABEL_ATTRIBUTES: Readonly<Record<string, string>> = {
  container: ATTR_CONTAINER_NAME,
  container_id: ATTR_CONTAINER_ID,
  pod: ATTR_K8S_POD_NAME,
  namespace: ATTR_K8S_NAMESPACE_NAME,
};

/**
 * An image reference as the runtime gives it ("registry:5000/app:1.2", "app@sha256:…", or an
 * image id "sha256:…") → container.image.name without tag or digest, plus tags, digests or id.
 */
export function imageAttributes(ref: string, out: Attributes = {}): Attributes {
  if (/^(sha256:)?[0-9a-f]{64}$/.test(ref)) {
    out[ATTR_CONTAINER_IMAGE_ID] = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
    return out;
  }
  let name = ref;
  const at = name.indexOf('@');
  if (at >= 0) {
    out[ATTR_CONTAINER_IMAGE_REPO_DIGESTS] = [ref];
    name = name.slice(0, at);
  }
  // A tag is after the last ':' that follows the last '/' (a registry port comes before a '/').
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    out[ATTR_CONTAINER_IMAGE_TAGS] = [name.slice(colon + 1)];
    name = name.slice(0, colon);
  }
  out[ATTR_CONTAINER_IMAGE_NAME] = name;
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * An event's `container` and `k8s` fields (src/containers/enrich.ts) → attributes. Host
 * processes (container id "host") get none: the resource already says which host.
 */
export function containerAttributes(container: unknown, k8s: unknown, out: Attributes = {}): Attributes {
  if (container && typeof container === 'object') {
    const c = container as Record<string, unknown>;
    const id = str(c.full_id) ?? str(c.id);
    if (id !== undefined && id !== 'host') {
      out[ATTR_CONTAINER_ID] = id;
      const name = str(c.name);
      if (name !== undefined) out[ATTR_CONTAINER_NAME] = name;
      const image = str(c.image);
      if (image !== undefined) imageAttributes(image, out);
      const runtime = str(c.runtime);
      if (runtime !== undefined) out[ATTR_CONTAINER_RUNTIME_NAME] = runtime;
      if (c.privileged === true) out['eunomia.container.privileged'] = true;
    }
  }
  if (k8s && typeof k8s === 'object') {
    const k = k8s as Record<string, unknown>;
    const set = (key: string, v: unknown): void => {
      const s = str(v);
      if (s !== undefined) out[key] = s;
    };
    set(ATTR_K8S_POD_NAME, k.pod);
    set(ATTR_K8S_NAMESPACE_NAME, k.namespace);
    set(ATTR_K8S_POD_UID, k.pod_uid);
    set(ATTR_K8S_CONTAINER_NAME, k.container);
  }
  return out;
}
