/* Aggregates getppid() calls in the kernel, for the interval-report tests. */
#include "eunomia.bpf.h"

struct counter_key {
	__u32 pid;
};

struct counter_value {
	__u64 calls;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct counter_key);
	__type(value, struct counter_value);
} counts SEC(".maps");

struct hist {
	__u32 slots[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hist SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;
	struct counter_key k = { .pid = tgid };
	struct counter_value *v = bpf_map_lookup_elem(&counts, &k);
	if (!v) {
		struct counter_value init = {};
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		bpf_map_update_elem(&counts, &k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, &k);
		if (!v)
			return 0;
	}
	v->calls++;
	__u32 zero = 0;
	struct hist *h = bpf_map_lookup_elem(&hist, &zero);
	if (h)
		h->slots[3]++;
	return 0;
}
