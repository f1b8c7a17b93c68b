/**
 * Eunomia as a library: `import { Agent, trackers, … } from 'eunomia'`. This file is the whole
 * public surface (package.json "exports"); docs/library.md says how to use it. Everything else
 * under dist/ is internal and may change.
 */

// The agent: trackers, container attribution, rules, metrics, outputs — parts switched on by its config.
export { Agent, trackersToStart, type AgentDeps, type InstanceView } from './agent/agent.js';
export { defaultConfig, type ServerConfig, type TrackerConfig } from './agent/config.js';
export { loadConfig, checkConfig } from './agent/config-load.js';

// The catalogue of trackers, and what a tracker is.
export { trackers, findTracker } from './trackers/registry.js';
export type { TrackerDescriptor, OptionSpec, OptionValues, StreamSpec, IntervalSpec } from './runtime/types.js';

// Each tracker's event data (`ev.data`), generated from its object's BTF (src/trackers/<name>/event.gen.ts).
export type { BindsnoopData } from './trackers/bindsnoop/index.js';
export type { CapableData } from './trackers/capable/index.js';
export type { FilesData } from './trackers/files/index.js';
export type { IpcData } from './trackers/ipc/index.js';
export type { MountsnoopData } from './trackers/mountsnoop/index.js';
export type { OpensnoopData } from './trackers/opensnoop/index.js';
export type { ProcessData } from './trackers/process/index.js';
export type { SecsnoopData } from './trackers/secsnoop/index.js';
export type { SigsnoopData } from './trackers/sigsnoop/index.js';
export type { SyscallData } from './trackers/syscall/index.js';
export type { SyscountData } from './trackers/syscount/index.js';
export type { TcpconnectData } from './trackers/tcpconnect/index.js';
export type { TcpconnlatData } from './trackers/tcpconnlat/index.js';
export type { TcprttData } from './trackers/tcprtt/index.js';
export type { OomkillEvent as OomkillData } from './trackers/oomkill/event.gen.js';
export type { EunomiaCommon } from './trackers/common-event.gen.js';

// Events, and the stages and sinks a plug-in adds to the agent's pipeline.
export type { TrackerEvent, Emit, Column, Handler, Sink } from './pipeline/types.js';
export { mapHandler, filterHandler, countingSink, type CountingSink } from './pipeline/handlers.js';
export type { ContainerField, K8sField } from './containers/enrich.js';
export type { ContainerInfo } from './containers/types.js';

// Security rules and their alerts.
export { loadRules, parseRuleFile, RuleSet, type RuleInfo, type Match } from './rules/index.js';
export type { Alert, AlertProcess, AlertSink, Priority } from './alerts/index.js';

// Without an agent: tracker instances on your own pipeline.
export { TrackerManager, type InstanceInfo } from './runtime/manager.js';
export type { TrackerInstance, TrackerStats, TrackerDeps } from './runtime/tracker.js';
export { Pipeline, type PipelineStats } from './pipeline/pipeline.js';
export { loadNative, type NativeBinding } from './core/native.js';
export { systemClock, type Clock } from './core/clock.js';

// Errors: one type, stable codes (docs/errors.md).
export { EunomiaError, ErrorCodes, isEunomiaError, type ErrorCode } from './core/errors.js';
