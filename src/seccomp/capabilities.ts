/**
 * The capabilities a recording saw used, as what a container needs: Docker's
 * `--cap-drop ALL --cap-add …` and a Kubernetes securityContext.
 */

/** "CAP_NET_BIND_SERVICE" → "NET_BIND_SERVICE" (how Docker and Kubernetes spell them). */
const bare = (cap: string): string => cap.replace(/^CAP_/, '');

export interface CapabilityAdvice {
  /** Docker (and Podman) flags. */
  docker: string;
  /** A Kubernetes container securityContext (YAML lines). */
  kubernetes: string[];
}

export function capabilityAdvice(used: readonly string[]): CapabilityAdvice {
  const caps = [...new Set(used.map(bare))].sort();
  return {
    docker: ['--cap-drop ALL', ...caps.map((c) => `--cap-add ${c}`)].join(' '),
    kubernetes: [
      'securityContext:',
      '  allowPrivilegeEscalation: false',
      '  capabilities:',
      '    drop: ["ALL"]',
      ...(caps.length ? [`    add: [${caps.map((c) => JSON.stringify(c)).join(', ')}]`] : []),
    ],
  };
}
