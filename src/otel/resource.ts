/**
 * The OTLP resource: this agent on this host. Containers are not the resource (one agent sees
 * every container of the host); they are attributes of each data point and log record.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { arch, hostname } from 'node:os';
import type { Attributes } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  ATTR_HOST_ARCH,
  ATTR_HOST_ID,
  ATTR_HOST_NAME,
  ATTR_OS_TYPE,
  ATTR_PROCESS_PID,
  ATTR_PROCESS_RUNTIME_NAME,
  ATTR_PROCESS_RUNTIME_VERSION,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from './semconv.js';
import { eunomiaVersion } from '../core/version.js';

export { eunomiaVersion };

/** systemd's machine id: stable across reboots, the spec's host.id on Linux. */
function machineId(): string | undefined {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(path, 'utf8').trim();
      if (id) return id;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

/** Node's arch names → the spec's host.arch values. */
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'x86', arm: 'arm32', ppc64: 'ppc64', s390x: 's390x' };

export interface ResourceOptions {
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES: over what is detected here. */
  attributes: Record<string, string>;
}

export function buildResource(opts: ResourceOptions): Resource {
  const detected: Attributes = {
    [ATTR_SERVICE_VERSION]: eunomiaVersion(),
    [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
    [ATTR_HOST_NAME]: hostname(),
    [ATTR_HOST_ARCH]: ARCH[arch()] ?? arch(),
    [ATTR_OS_TYPE]: process.platform,
    [ATTR_PROCESS_PID]: process.pid,
    [ATTR_PROCESS_RUNTIME_NAME]: 'nodejs',
    [ATTR_PROCESS_RUNTIME_VERSION]: process.versions.node,
  };
  const id = machineId();
  if (id) detected[ATTR_HOST_ID] = id;
  // Later wins: the SDK's telemetry.sdk.*, what is detected, the user's attributes, the service name.
  return defaultResource()
    .merge(resourceFromAttributes(detected))
    .merge(resourceFromAttributes(opts.attributes))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName }));
}
