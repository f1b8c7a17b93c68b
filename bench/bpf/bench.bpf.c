/* Benchmark source: one 64-byte record per getppid() of the target process. */
#include "eunomia.bpf.h"

struct bench_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 cpu;
	__u64 seq;
	__u64 a;
	__u64 b;
	char comm[16];
	__u32 c;
	__u32 d;
};

EUNOMIA_EVENT(bench_event);

/* Calls seen, whether or not the ring buffer took them: "generated". */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} generated SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&generated, &zero);
	if (!g)
		return 0;
	__u64 seq = (*g)++;
	struct bench_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->cpu = bpf_get_smp_processor_id();
	e->seq = seq;
	e->a = 1;
	e->b = 2;
	e->c = 3;
	e->d = 4;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	eunomia_submit(e);
	return 0;
}
