/* For trackers that count in a kernel map (files, syscall, syscount, tcprtt). An operation
 * whose new entry the map cannot take is not counted, but the failure is: the map is full
 * (-E2BIG) or, for a map allocated as used (BPF_F_NO_PREALLOC), the kernel had no memory at
 * hand (-ENOMEM: its per-CPU caches refill asynchronously, and a burst of new entries, or
 * the first ones on a fresh machine, can outrun them). No event is lost here — eunomia_lost
 * counts those, records the ring buffer refused — but a count falls short: user space sums
 * this one over CPUs and reports it under its own name. Include after eunomia.bpf.h. */
#pragma once

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} eunomia_map_insert_failures SEC(".maps");

static __always_inline void eunomia_map_insert_failed(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&eunomia_map_insert_failures, &zero);
	if (n)
		*n += 1;
}

/* floor(log2(v)), 0 for 0: the slot of a log2 histogram (funclatency, tcprtt), in a few shifts. */
static __always_inline __u32 eunomia_log2(__u64 v)
{
	__u32 r = 0, shift;
	shift = (v > 0xFFFFFFFFULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFFFF) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (__u32)(v >> 1);
}
