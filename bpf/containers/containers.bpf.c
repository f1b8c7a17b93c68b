/* The container resolver's view of new cgroups: records, as each v2 cgroup is made, which
 * container id its path names. User space looks cgroup ids up here synchronously, so an
 * event from a container that lived a few milliseconds still resolves after the cgroup is gone. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "container.bpf.h"

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

char LICENSE[] SEC("license") = "GPL";
