/* Container ids from cgroup paths, in the kernel: Docker, containerd (CRI), CRI-O and Podman
 * all name a container's cgroup after its 64-hex-character id ("/docker/<id>",
 * "/system.slice/docker-<id>.scope", "/kubepods/.../cri-containerd-<id>.scope", "crio-<id>.scope",
 * "libpod-<id>.scope"). The first run of exactly 64 hex digits is the container id; a
 * sub-cgroup below it belongs to the same container. */
#pragma once

#define EUNOMIA_CGROUP_PATH_LEN 256
#define EUNOMIA_CID_LEN 64

/* The cgroup v2 (default) hierarchy has id 0; v1 hierarchies are numbered from 1. */
#define EUNOMIA_DFL_HIERARCHY 0

struct eunomia_cgroup_path {
	char path[EUNOMIA_CGROUP_PATH_LEN];
};

static __always_inline bool eunomia_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

struct eunomia_cid_scan {
	const char *p;
	int run;
	int found;
};

/* One character per call: bpf_loop verifies this once, where a plain loop's states multiply
 * (one per run length) past the verifier's limit. */
static long eunomia_cid_step(__u32 i, void *arg)
{
	struct eunomia_cid_scan *s = arg;
	char c = s->p[i & (EUNOMIA_CGROUP_PATH_LEN - 1)];
	if (eunomia_is_hex(c)) {
		s->run++;
		return 0;
	}
	if (s->run == EUNOMIA_CID_LEN) {
		s->found = i - EUNOMIA_CID_LEN;
		return 1;
	}
	if (c == 0)
		return 1;
	s->run = 0;
	return 0;
}

/* Offset of the first 64-hex run in `p` (EUNOMIA_CGROUP_PATH_LEN bytes, NUL-terminated), or -1. */
static __always_inline int eunomia_find_cid(const char *p)
{
	struct eunomia_cid_scan s = { .p = p, .run = 0, .found = -1 };
	bpf_loop(EUNOMIA_CGROUP_PATH_LEN, eunomia_cid_step, &s, 0);
	return s.found;
}

/* For the cgroup_mkdir tracepoint: reads the new cgroup's path into `path` and returns where
 * the container id starts in it, or -1 (a v1 hierarchy, a host cgroup, or unreadable). */
static __always_inline int eunomia_mkdir_cid(struct trace_event_raw_cgroup *ctx, char *path)
{
	if (ctx->root != EUNOMIA_DFL_HIERARCHY)
		return -1;
	unsigned int off = ctx->__data_loc_path & 0xffff; /* __data_loc: length << 16 | offset */
	if (bpf_probe_read_kernel_str(path, EUNOMIA_CGROUP_PATH_LEN, (void *)ctx + off) <= 0)
		return -1;
	int at = eunomia_find_cid(path);
	if (at < 0 || at > EUNOMIA_CGROUP_PATH_LEN - EUNOMIA_CID_LEN)
		return -1;
	return at & (EUNOMIA_CGROUP_PATH_LEN - 1);
}
