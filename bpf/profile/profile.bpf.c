/* profile: on-CPU stack sampling. A perf event per CPU fires at a fixed frequency; each sample
 * counts one (process, user stack, kernel stack) in the kernel, so only unique stacks and their
 * counts come up (bcc's profile, the same way). Two sets of maps, chosen by `buffer`: user space
 * flips it at each report and reads the set the samples have left, so no sample of a report
 * refers to a stack it cleared. */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "profile.h"

const volatile bool user_stacks = true;   /* take user stacks */
const volatile bool kernel_stacks = true; /* take kernel stacks */
const volatile bool include_idle = false; /* samples of the idle task (pid 0) */

#define COUNTS(n)                                   \
	struct {                                    \
		__uint(type, BPF_MAP_TYPE_HASH);    \
		__uint(max_entries, 16384);         \
		__type(key, struct profile_key);    \
		__type(value, __u64);               \
	} n SEC(".maps")
#define STACKS(n)                                                     \
	struct {                                                      \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);               \
		__uint(max_entries, 8192);                            \
		__uint(key_size, sizeof(__u32));                      \
		__uint(value_size, PROFILE_MAX_DEPTH * sizeof(__u64)); \
	} n SEC(".maps")

COUNTS(counts0);
COUNTS(counts1);
STACKS(stacks0);
STACKS(stacks1);

/* Which set samples go to: 0 or 1, flipped by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} buffer SEC(".maps");

static __always_inline void count(void *counts, struct profile_key *key)
{
	__u64 *n = bpf_map_lookup_elem(counts, key);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	__u64 one = 1;
	/* -EEXIST: another CPU made it first; add to that one. */
	if (bpf_map_update_elem(counts, key, &one, BPF_NOEXIST) == 0)
		return;
	n = bpf_map_lookup_elem(counts, key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		eunomia_map_insert_failed(); /* the sample is not counted, the failure is */
}

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!include_idle && (__u32)id == 0)
		return 0;
	if (eunomia_skip(tgid))
		return 0;
	struct profile_key key = {};
	key.pid = tgid;
	key.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	__u32 zero = 0;
	__u32 *b = bpf_map_lookup_elem(&buffer, &zero);
	if (b && *b) {
		key.user_stack = user_stacks ? bpf_get_stackid(ctx, &stacks1, BPF_F_USER_STACK) : PROFILE_NOT_TAKEN;
		key.kernel_stack = kernel_stacks ? bpf_get_stackid(ctx, &stacks1, 0) : PROFILE_NOT_TAKEN;
		count(&counts1, &key);
	} else {
		key.user_stack = user_stacks ? bpf_get_stackid(ctx, &stacks0, BPF_F_USER_STACK) : PROFILE_NOT_TAKEN;
		key.kernel_stack = kernel_stacks ? bpf_get_stackid(ctx, &stacks0, 0) : PROFILE_NOT_TAKEN;
		count(&counts0, &key);
	}
	return 0;
}
