/* One do-nothing program of each kind Eunomia may use: `eunomia doctor` (src/core/kernel-probe.ts)
 * loads each alone and attaches it, and reports what the kernel answered. Never a tracker's.
 * Targets that every kernel has: sched_process_exit (a tracepoint since 2.6), vfs_read (the
 * function funclatency's fentry probe names), the sb_mount LSM hook (as old as BPF LSM). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp/sched/sched_process_exit")
int probe_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tp/sched_process_exit")
int probe_raw_tp(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(probe_tp_btf)
{
	return 0;
}

SEC("kprobe/vfs_read")
int probe_kprobe(void *ctx)
{
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(probe_fexit)
{
	return 0;
}

SEC("lsm/sb_mount")
int BPF_PROG(probe_lsm)
{
	return 0;
}

/* Attached by user space to a libc function, in its own process only. */
SEC("uprobe")
int probe_uprobe(void *ctx)
{
	return 0;
}

/* Attached by user space to a software CPU-clock event, one sample a second, on one CPU. */
SEC("perf_event")
int probe_perf_event(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
