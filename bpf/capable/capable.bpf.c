/* capable: capability checks from the capability:cap_capable tracepoint (6.14+), which
 * cap_capable() fires with its verdict for every check made through security_capable(). */
#include "eunomia.bpf.h"
#include "capable.h"

EUNOMIA_EVENT(capable_event);

const volatile bool only_denied = false;
const volatile bool unique = false;
const volatile __u32 target_cap = 0; /* capability + 1; 0 = all */

struct cap_key {
	__u32 tgid;
	__s32 cap;
	__u32 denied; /* part of the key: a denial is news even after the same check passed */
};

/* --unique: process+capability+verdict already reported; LRU so it never fills up */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct cap_key);
	__type(value, __u8);
} seen SEC(".maps");

SEC("tp/capability/cap_capable")
int handle_cap_capable(struct trace_event_raw_cap_capable *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;
	int cap = ctx->cap;
	int ret = ctx->ret;
	if (target_cap && cap != (int)target_cap - 1)
		return 0;
	if (only_denied && ret == 0)
		return 0;
	if (unique) {
		struct cap_key key = { .tgid = tgid, .cap = cap, .denied = ret != 0 };
		__u8 one = 1;
		if (bpf_map_lookup_elem(&seen, &key))
			return 0;
		bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
	}

	struct capable_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->cap_raw = cap;
	e->ret = ret;
	e->euid = BPF_CORE_READ(ctx->cred, euid.val);
	e->target_ns = BPF_CORE_READ(ctx->target_ns, ns.inum);
	e->target_ns_level = BPF_CORE_READ(ctx->target_ns, level);
	/* the tracepoint sets capable_ns only when the check passed */
	e->capable_ns = ctx->capable_ns ? BPF_CORE_READ(ctx->capable_ns, ns.inum) : 0;
	eunomia_submit(e);
	return 0;
}
