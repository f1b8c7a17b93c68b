/* Refused by the verifier: reads past the end of a map value. */
#include "eunomia.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} one SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int out_of_bounds(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&one, &k);
	if (!v)
		return 0;
	return *(v + 4);
}
