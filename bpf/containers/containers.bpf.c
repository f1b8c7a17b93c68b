/* The container resolver's view of new cgroups: records, as each v2 cgroup is made, which
 * container id its path names. User space looks cgroup ids up here synchronously, so an
 * event from a container that lived a few milliseconds still resolves after the cgroup is gone. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "container.bpf.h"
#include "exe_ns.bpf.h"

struct eunomia_container_cgroup {
	char id[EUNOMIA_CID_LEN];
	char path[EUNOMIA_CGROUP_PATH_LEN];
};

/* LRU: the oldest cgroups make room; user space falls back to cgroupfs for those. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct eunomia_container_cgroup);
} container_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct eunomia_container_cgroup);
} scratch SEC(".maps");

SEC("tp/cgroup/cgroup_mkdir")
int container_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
	__u32 zero = 0;
	struct eunomia_container_cgroup *c = bpf_map_lookup_elem(&scratch, &zero);
	if (!c)
		return 0;
	int at = eunomia_mkdir_cid(ctx, c->path);
	if (at < 0)
		return 0;
	bpf_probe_read_kernel(c->id, sizeof(c->id), &c->path[at]);
	__u64 id = ctx->id;
	bpf_map_update_elem(&container_cgroups, &id, c, BPF_ANY);
	return 0;
}

/* Where each task is in its life, so that what a container runtime does while it sets a
 * container up is not taken for the container's own work: thread id -> CLOCK_MONOTONIC ns of
 * the exec that first ran a binary of the task's own (non-host) mount namespace, i.e. when it
 * entered its container; 0 = not yet. Inherited at fork, so a workload's children (and a
 * workload that later runs a memfd or moves to the host's namespace) stay entered. LRU: the
 * oldest tasks make room; user space treats a missing task as unknown. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} entered SEC(".maps");

/* A sched tracepoint: costs nothing on other paths, one map operation per fork. */
SEC("tp/sched/sched_process_fork")
int container_task_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 parent = (__u32)bpf_get_current_pid_tgid();
	__u32 child = ctx->child_pid;
	__u64 *at = bpf_map_lookup_elem(&entered, &parent);
	if (at) {
		__u64 v = *at;
		bpf_map_update_elem(&entered, &child, &v, BPF_ANY);
	} else {
		/* the parent is unknown (it predates us): so is the child; a stale entry of a
		 * reused id must not speak for it */
		bpf_map_delete_elem(&entered, &child);
	}
	return 0;
}

SEC("tp/sched/sched_process_exec")
int container_task_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	if (mnt_ns == eunomia_host_mnt_ns || eunomia_foreign_exe(task, mnt_ns))
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *at = bpf_map_lookup_elem(&entered, &tid);
	if (at && *at)
		return 0; /* entered before: the first time counts */
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&entered, &tid, &now, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
