/** Kubernetes identity from CRI labels: no API server needed. */
import type { K8sInfo } from './types.js';

const LABELS: Record<string, keyof K8sInfo> = {
  'io.kubernetes.pod.namespace': 'namespace',
  'io.kubernetes.pod.name': 'pod',
  'io.kubernetes.pod.uid': 'podUid',
  'io.kubernetes.container.name': 'container',
};

/** undefined when no Kubernetes label is present (a plain container). */
export function k8sFromLabels(labels: Record<string, string>): K8sInfo | undefined {
  let out: K8sInfo | undefined;
  for (const [label, key] of Object.entries(LABELS)) {
    const v = labels[label];
    if (v) (out ??= {})[key] = v;
  }
  return out;
}
