/* oomkill: OOM kills from the oom:mark_victim tracepoint. It fires in the OOM killer, in
 * the context of the task whose allocation triggered it, so `current` is the trigger. */
#include "eunomia.bpf.h"
#include "oomkill.h"

EUNOMIA_EVENT(oomkill_event);

/* The tracepoint gives the victim's pid, not its task: look it up for tgid and cgroups.
 * Weak and tested before use, for kernels without it (only 6.18, which has it, was tried). */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

#define MEMCG_DEPTH 8
#define NAME_MAX_PART (OOMKILL_PATH_LEN / 2) /* per component; keeps offsets provably in range */

/* kernfs_node.parent became __parent in 6.15 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* "/a/b/c" from the cgroup's kernfs node up to its hierarchy's root. */
static __always_inline void memcg_path(struct oomkill_event *e, struct kernfs_node *kn)
{
	const char *names[MEMCG_DEPTH] = {};
	int n = 0;
#pragma unroll
	for (int i = 0; i < MEMCG_DEPTH; i++) {
		struct kernfs_node *parent = kn_parent(kn);
		if (!parent)
			break;
		names[i] = BPF_CORE_READ(kn, name);
		kn = parent;
		n++;
	}
	e->memcg_truncated = n == MEMCG_DEPTH && kn_parent(kn);
	__u32 pos = 0;
	e->memcg_path[0] = '/';
	e->memcg_path[1] = 0;
#pragma unroll
	for (int i = MEMCG_DEPTH - 1; i >= 0; i--) {
		if (i >= n)
			continue;
		if (pos >= NAME_MAX_PART - 1) {
			e->memcg_truncated = 1;
			break;
		}
		/* hide the bound from the compiler so it keeps the masks the verifier needs */
		asm volatile("" : "+r"(pos));
		e->memcg_path[pos & (NAME_MAX_PART - 1)] = '/';
		pos++;
		asm volatile("" : "+r"(pos));
		long r = bpf_probe_read_kernel_str(&e->memcg_path[pos & (NAME_MAX_PART - 1)], NAME_MAX_PART, names[i]);
		if (r > 1)
			pos += r - 1;
	}
}

static __always_inline void victim_cgroups(struct oomkill_event *e, struct task_struct *t)
{
	struct css_set *cgroups = BPF_CORE_READ(t, cgroups);
	e->victim_cgroup_id = BPF_CORE_READ(cgroups, dfl_cgrp, kn, id);
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return; /* no memory controller */
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	bpf_core_read(&css, sizeof(css), &cgroups->subsys[id & 15]);
	struct kernfs_node *kn = BPF_CORE_READ(css, cgroup, kn);
	if (!kn)
		return;
	e->memcg_id = BPF_CORE_READ(kn, id);
	memcg_path(e, kn);
}

SEC("tp/oom/mark_victim")
int handle_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;

	struct oomkill_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	eunomia_fill_common((struct eunomia_common *)e, task);
	e->victim_pid = ctx->pid;
	e->victim_tid = ctx->pid;
	e->victim_uid = ctx->uid;
	e->oom_score_adj = ctx->oom_score_adj;
	e->total_vm_kb = ctx->total_vm;
	e->anon_rss_kb = ctx->anon_rss;
	e->file_rss_kb = ctx->file_rss;
	e->shmem_rss_kb = ctx->shmem_rss;
	e->pgtables_kb = ctx->pgtables;
	e->memcg_id = 0;
	e->victim_cgroup_id = 0;
	e->memcg_truncated = 0;
	e->memcg_path[0] = 0;
	unsigned int off = ctx->__data_loc_comm & 0xFFFF;
	bpf_probe_read_kernel_str(e->victim_comm, sizeof(e->victim_comm), (void *)ctx + off);

	if (bpf_task_from_pid) {
		struct task_struct *victim = bpf_task_from_pid(ctx->pid);
		if (victim) {
			e->victim_pid = victim->tgid;
			victim_cgroups(e, victim);
			bpf_task_release(victim);
		}
	}
	eunomia_submit(e);
	return 0;
}
