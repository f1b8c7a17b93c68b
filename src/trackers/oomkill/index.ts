/** oomkill: OOM kills, with the victim, the task that triggered the kill, and the memory cgroup. */
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { oomkillMetrics } from './metrics.js';
import type { OomkillEvent } from './event.gen.js';

const mb = (v: unknown): string => (typeof v === 'number' ? (v / 1024).toFixed(1) : '');

export const oomkillTracker: TrackerDescriptor = {
  name: 'oomkill',
  summary: 'OOM kills: victim and triggering task, memory sizes, oom_score_adj and memory cgroup',
  metrics: oomkillMetrics,
  object: 'oomkill.bpf.o',
  event: { struct: 'oomkill_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
  options: [],
  columns: [
    { ...c.pid, header: 'TPID' },
    { ...c.comm, header: 'TCOMM' },
    { key: 'victim_pid', header: 'VPID', width: 7 },
    { key: 'victim_comm', header: 'VCOMM', width: 16 },
    { key: 'victim_uid', header: 'VUID', width: 5 },
    { key: 'anon_rss_kb', header: 'ANON_MB', width: 8, format: mb },
    { key: 'total_vm_kb', header: 'VM_MB', width: 8, format: mb },
    { key: 'oom_score_adj', header: 'ADJ', width: 5 },
    { key: 'memcg_path', header: 'MEMCG' },
  ],
} satisfies TrackerDescriptor<OomkillEvent>;
