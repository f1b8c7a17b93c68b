/* seccomp: what each recorded container (cgroup) calls, counted in the kernel — one map entry
 * per cgroup with a count per syscall number and the arguments that decide safety, no event per
 * syscall. User space reads it without clearing, while recording and when it stops, and turns
 * it into a seccomp profile (src/seccomp/).
 *
 * From which moment: a container runtime sets a container up inside its cgroup (mount,
 * pivot_root, sethostname …) before it execs the workload; none of that must reach the
 * profile. Two gates, per task:
 *  - a runtime installs the container's seccomp filter just before that exec, so a call made
 *    under a filter (task->seccomp.mode == SECCOMP_MODE_FILTER) is exactly a call the profile
 *    will filter — the runtime's own calls after the filter included, as they must be;
 *  - a container that runs without a filter: a process counts once it has executed a program
 *    of the container's own filesystem (the runtime runs its own binary, the host's file, a
 *    bind-mounted copy or a memfd, until it execs the workload), and so do its children. */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "seccomp.bpf.h"
#include "seccomp.h"

/* The recorded cgroups' entries, found by open addressing on the cgroup id (an entry names its
 * cgroup): on the hook every syscall of a recorded container passes, an array lookup the verifier
 * inlines, where a hash lookup cost ~70 ns per call (5 % of a getppid here). 64 × 4 KiB,
 * allocated when the recording starts; a 65th cgroup is a map insert failure, counted. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SECCOMP_SLOTS);
	__type(key, __u32);
	__type(value, struct seccomp_slot);
} recordings SEC(".maps");

/* Processes (tgid) of unfiltered recorded containers that run the workload: they executed a
 * program of their container's filesystem, or descend from one that did. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	/* Allocated as processes are added (a preallocated table would hold 1.3 MiB from the start);
	 * one that does not fit is a map insert failure, counted. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
} workload SEC(".maps");

/* The recorded cgroup's entry, claimed on its first call; NULL if the table is full. */
static __always_inline struct seccomp_slot *slot_of(__u64 cg)
{
	for (__u32 i = 0; i < SECCOMP_SLOTS; i++) {
		__u32 at = (cg + i) & (SECCOMP_SLOTS - 1);
		struct seccomp_slot *s = bpf_map_lookup_elem(&recordings, &at);
		if (!s)
			return NULL;
		if (s->cgroup_id == cg)
			return s;
		/* A free entry: ours, unless another CPU claimed it first (for this cgroup or another). */
		if (s->cgroup_id == 0) {
			__u64 was = __sync_val_compare_and_swap(&s->cgroup_id, 0, cg);
			if (was == 0 || was == cg)
				return s;
		}
	}
	eunomia_map_insert_failed();
	return NULL;
}

/* The current task's cgroup v2 id through its BTF pointer: plain loads where the helper is a call. */
static __always_inline __u64 cgroup_of(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

/* Set when the exec gate first admits a process: until then no unfiltered task is recorded,
 * and the host's tasks (unfiltered, nearly all) leave after two loads. A small array, not a .bss
 * global: arrays under 32 KiB come from kmalloc, .bss and .rodata from vmalloc, page by page — a
 * TLB miss each on every syscall here, where page-table isolation empties the TLB at each. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} workload_seen SEC(".maps");

/* The entry the current task's calls count in, or NULL: not recorded, or not the workload yet. */
static __always_inline struct seccomp_slot *recorded(struct task_struct *task)
{
	bool filtered = task->seccomp.mode == SECCOMP_MODE_FILTER;
	__u32 zero = 0;
	__u32 *seen = filtered ? NULL : bpf_map_lookup_elem(&workload_seen, &zero);
	if (!filtered && (!seen || !*seen))
		return NULL;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip_pid(tgid))
		return NULL;
	if (!filtered) {
		/* Recording containers: a task of the host's mount namespace is none of theirs. */
		if (eunomia_container_filter == EUNOMIA_FILTER_WANTED && eunomia_host_mnt_ns &&
		    task->nsproxy->mnt_ns->ns.inum == eunomia_host_mnt_ns)
			return NULL;
		if (!bpf_map_lookup_elem(&workload, &tgid))
			return NULL;
	}
	__u64 cg = cgroup_of(task);
	if (eunomia_skip_cgroup(cg))
		return NULL;
	return slot_of(cg);
}

/* Whether the task's executable is a file of its own mount namespace (not the runtime's: the
 * host's binary seen from the container, a detached bind mount, a memfd). Unlike
 * eunomia_foreign_exe, tasks in the host's namespace are checked too: runc re-executes itself
 * from a memfd before it leaves the host's namespace. */
static __always_inline bool own_exe(struct task_struct *task)
{
	struct vfsmount *vfsmnt = BPF_CORE_READ(task, mm, exe_file, f_path.mnt);
	if (!vfsmnt)
		return false;
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	return BPF_CORE_READ(mnt, mnt_ns, ns.inum) == BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

static __always_inline void persona(struct seccomp_slot *s, __u32 p)
{
	int bit = seccomp_persona_bit(p);
	if (bit < 0)
		__sync_fetch_and_or(&s->other, SECCOMP_OTHER_PERSONALITY);
	else
		__sync_fetch_and_or(&s->personalities, 1ULL << bit);
}

/* The arguments that decide what these calls can do (as Docker's default profile restricts them). */
static __always_inline void record_args(struct seccomp_slot *s, struct pt_regs *regs, __u64 nr)
{
	if (nr != NR_CLONE && nr != NR_CLONE3 && nr != NR_UNSHARE && nr != NR_SOCKET && nr != NR_PRCTL && nr != NR_PERSONALITY)
		return;
	__u64 a0 = BPF_CORE_READ(regs, di);
	switch (nr) {
	case NR_CLONE:
		__sync_fetch_and_or(&s->clone_ns, a0 & NS_FLAGS);
		break;
	case NR_CLONE3: {
		__u64 flags = 0; /* struct clone_args starts with the flags */
		bpf_probe_read_user(&flags, sizeof(flags), (void *)a0);
		__sync_fetch_and_or(&s->clone_ns, flags & NS_FLAGS);
		break;
	}
	case NR_UNSHARE:
		__sync_fetch_and_or(&s->unshare_ns, a0 & NS_FLAGS);
		break;
	case NR_SOCKET:
		if (a0 < 64)
			__sync_fetch_and_or(&s->socket_families, 1ULL << a0);
		break;
	case NR_PRCTL:
		if (a0 < 64)
			__sync_fetch_and_or(&s->prctl_options[0], 1ULL << a0);
		else if (a0 < 128)
			__sync_fetch_and_or(&s->prctl_options[1], 1ULL << (a0 - 64));
		else
			__sync_fetch_and_or(&s->other, SECCOMP_OTHER_PRCTL);
		break;
	case NR_PERSONALITY:
		persona(s, (__u32)a0);
		break;
	}
}

SEC("raw_tp/sys_enter")
int record_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	/* A BTF pointer: its fields are plain loads, not bpf_probe_read calls. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct seccomp_slot *s = recorded(task);
	if (!s)
		return 0;
	if (task->thread_info.status & TS_COMPAT) {
		__sync_fetch_and_add(&s->compat_calls, 1);
		return 0;
	}
	if (nr >= SECCOMP_MAX_NR)
		return 0;
	__sync_fetch_and_add(&s->counts[nr], 1);
	record_args(s, (struct pt_regs *)ctx->args[0], nr);
	return 0;
}

/* The capabilities the workload checks (capability:cap_capable, 6.14+), under the same gate. */
SEC("tp/capability/cap_capable")
int record_capable(struct trace_event_raw_cap_capable *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (!seccomp_workload_cap(ctx, task))
		return 0;
	struct seccomp_slot *s = recorded(task);
	if (!s)
		return 0;
	if (ctx->ret == 0)
		__sync_fetch_and_or(&s->caps_used, 1ULL << ctx->cap);
	else
		__sync_fetch_and_or(&s->caps_denied, 1ULL << ctx->cap);
	return 0;
}

/* An unfiltered task of a recorded cgroup that executes a program of its container's own
 * filesystem runs the workload from now on (see the top of this file). */
SEC("tp/sched/sched_process_exec")
int record_exec(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (task->seccomp.mode == SECCOMP_MODE_FILTER || eunomia_skip_pid(tgid))
		return 0;
	__u64 cg = cgroup_of(task);
	if (eunomia_skip_cgroup(cg) || bpf_map_lookup_elem(&workload, &tgid) || !own_exe(task))
		return 0;
	struct seccomp_slot *s = slot_of(cg);
	if (!s)
		return 0;
	__u8 one = 1;
	if (bpf_map_update_elem(&workload, &tgid, &one, BPF_ANY)) {
		eunomia_map_insert_failed();
		return 0;
	}
	s->exec_gate = 1;
	__u32 zero = 0;
	__u32 *seen = bpf_map_lookup_elem(&workload_seen, &zero);
	if (seen)
		*seen = 1;
	/* The exec itself came before the gate: the profile must allow it. */
	__u64 nr = BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(task), orig_ax);
	if (nr == NR_EXECVE || nr == NR_EXECVEAT)
		__sync_fetch_and_add(&s->counts[nr], 1);
	return 0;
}

/* A new process of the workload is the workload too (threads share their process's entry). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(record_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	if (child->pid != child->tgid || !bpf_map_lookup_elem(&workload, &ptgid))
		return 0;
	__u32 tgid = child->tgid;
	__u8 one = 1;
	if (bpf_map_update_elem(&workload, &tgid, &one, BPF_ANY))
		eunomia_map_insert_failed();
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(record_exit, struct task_struct *task)
{
	/* The leader's exit ends the process's entry (its other threads end with it, almost always). */
	if (task->pid == task->tgid) {
		__u32 tgid = task->tgid;
		bpf_map_delete_elem(&workload, &tgid);
	}
	return 0;
}
