/* funclatency: the latency of user functions (BINARY:FUNCTION) as log2 histograms per function
 * and cgroup, read every interval. User space attaches fl_entry and fl_return to each function
 * (a uprobe and a uretprobe) with the function's index as the attach cookie, so one pair of
 * programs serves every function.
 *
 * Nested and recursive calls: each thread keeps a stack of its open calls (task storage: freed
 * when the thread exits, never full), each with its entry time and stack pointer. A return
 * pops the calls entered below its stack pointer; the outermost of them is its own. Calls that
 * never returned (longjmp, an exception) are dropped there, and the return is counted as
 * mismatched. Calls beyond FUNCLATENCY_MAX_DEPTH open at once are counted (too_deep), not
 * measured. A histogram the map cannot take is a map insert failure (aggregate.bpf.h). */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "funclatency.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct funclatency_key);
	__type(value, struct funclatency_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct funclatency_stack);
} stacks SEC(".maps");

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = eunomia_log2(v);
	return r < FUNCLATENCY_SLOTS ? r : FUNCLATENCY_SLOTS - 1;
}

/* The histogram of this function in the current task's cgroup, made on first use. */
static __always_inline struct funclatency_hist *hist_of(__u64 func)
{
	struct funclatency_key key = { .cgroup_id = bpf_get_current_cgroup_id(), .func = func };
	struct funclatency_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (h)
		return h;
	static const struct funclatency_hist zero = {};
	/* -EEXIST: another CPU inserted it first, the lookup below finds it */
	long err = bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h && err)
		eunomia_map_insert_failed();
	return h;
}

SEC("uprobe")
int fl_entry(struct pt_regs *ctx)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return 0;
	__u64 func = bpf_get_attach_cookie(ctx);
	struct funclatency_stack *s = bpf_task_storage_get(&stacks, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s) {
		eunomia_map_insert_failed(); /* no memory for the thread's stack: the call is not measured */
		return 0;
	}
	__u32 d = s->depth;
	if (d >= FUNCLATENCY_MAX_DEPTH) {
		s->overflow++;
		struct funclatency_hist *h = hist_of(func);
		if (h)
			h->too_deep++;
		return 0;
	}
	s->frames[d].sp = PT_REGS_SP(ctx);
	s->frames[d].func = func;
	s->frames[d].ts_ns = bpf_ktime_get_ns();
	s->depth = d + 1;
	return 0;
}

SEC("uretprobe")
int fl_return(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	/* No stack: the thread never entered a traced function through the filters (or is a
	 * child forked inside one, which inherits the return probe but not the entry). */
	struct funclatency_stack *s = bpf_task_storage_get(&stacks, bpf_get_current_task_btf(), 0, 0);
	if (!s)
		return 0;
	__u64 func = bpf_get_attach_cookie(ctx);
	__u64 sp = PT_REGS_SP(ctx);
	__u32 depth = s->depth;
	__u32 n = depth;
	__u32 own = FUNCLATENCY_MAX_DEPTH;
	__u64 own_sp = 0;
	/* Pop the calls entered below this return's stack pointer, innermost first. Its own call
	 * is the outermost of them (the highest entry stack pointer; among equal ones, a stale
	 * frame below a live one, the latest). */
	for (int i = 0; i < FUNCLATENCY_MAX_DEPTH; i++) {
		if (n == 0)
			break;
		__u32 k = n - 1;
		if (k >= FUNCLATENCY_MAX_DEPTH)
			break;
		__u64 fsp = s->frames[k].sp;
		if (fsp >= sp)
			break;
		if (own == FUNCLATENCY_MAX_DEPTH || fsp > own_sp) {
			own = k;
			own_sp = fsp;
		}
		n = k;
	}
	if (n == depth) {
		/* Nothing to pop: a call beyond the depth limit returns (counted at its entry), or
		 * one whose entry was not seen. */
		if (s->overflow) {
			s->overflow--;
			return 0;
		}
		struct funclatency_hist *h = hist_of(func);
		if (h)
			h->mismatched++;
		return 0;
	}
	s->depth = n;
	s->overflow = 0; /* calls beyond the limit were all inside the ones just popped */
	if (own >= FUNCLATENCY_MAX_DEPTH)
		return 0;
	__u64 own_func = s->frames[own].func;
	__u64 ts = s->frames[own].ts_ns;
	struct funclatency_hist *h = hist_of(func);
	if (!h)
		return 0;
	if (own_func != func || depth - n > 1)
		h->mismatched++;
	if (own_func != func)
		return 0;
	__u64 ns = now - ts;
	__u32 slot = log2_slot(ns);
	h->slots[slot]++;
	h->slot_ns[slot] += ns;
	return 0;
}

/* Never attached: loaded alone, only to learn whether this kernel allows fentry programs
 * (user space asks when a kernel function is named). */
SEC("fentry/vfs_read")
int BPF_PROG(fl_fentry_probe)
{
	return 0;
}
