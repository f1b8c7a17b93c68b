/** Options every tracker has, backed by the globals of bpf/include/eunomia.bpf.h. */
import type { OptionSpec } from './types.js';

export const commonOptions: OptionSpec[] = [
  { name: 'pid', flag: 'pid', short: 'p', type: 'uint', arg: 'PID', description: 'only this process (in-kernel filter)', global: 'eunomia_target_pid', max: 2 ** 22 },
  { name: 'cgroup', flag: 'cgroup', type: 'uint', arg: 'ID', description: 'only this cgroup v2 id (in-kernel filter)', global: 'eunomia_target_cgroup', max: Number.MAX_SAFE_INTEGER },
  { name: 'container', flag: 'container', short: 'c', type: 'string', arg: 'ID|NAME', repeatable: true, description: 'only this container, by id (prefix) or name; repeatable; also picks up a container started later (in-kernel filter)' },
  { name: 'hostOnly', flag: 'host-only', type: 'bool', default: false, description: 'only processes outside containers (in-kernel filter)' },
  { name: 'containersOnly', flag: 'containers-only', type: 'bool', default: false, description: 'only processes in containers (in-kernel filter)' },
  { name: 'includeSelf', flag: 'include-self', type: 'bool', default: false, description: "also report Eunomia's own process (excluded by default)" },
];
