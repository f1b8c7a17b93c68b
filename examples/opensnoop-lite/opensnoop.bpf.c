/* opensnoop-lite: every open(2) and openat(2) as it is asked for — who opened what, with
 * which flags. A hot-load example: compile it locally, push it, watch its events (see
 * ../README.md). It uses Eunomia's common header for the event header (pid, comm, cgroup,
 * ...), the in-kernel filters and the ring buffer; Eunomia's own process is left out. */
#include "eunomia.bpf.h"

struct open_lite_event {
	struct eunomia_common;
	__u32 flags;   /* O_* as passed */
	__s32 dfd;     /* -100 (AT_FDCWD) for open(2) and cwd-relative openat(2) */
	char path[256];
};

/* Keeps the struct in the BTF: Eunomia decodes the events by it, no other metadata needed. */
EUNOMIA_EVENT(open_lite_event);

/* An option, set by name before load (a package's "options": {"only_flags": 64}): report
 * only opens with any of these O_* flags (64 = O_CREAT); 0 = all. */
const volatile __u32 only_flags = 0;

static __always_inline int report(__s32 dfd, const char *path, __u32 flags)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (only_flags && !(flags & only_flags))
		return 0;
	struct open_lite_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->flags = flags;
	e->dfd = dfd;
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), path) < 0)
		e->path[0] = 0;
	eunomia_submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int lite_open(struct trace_event_raw_sys_enter *ctx)
{
	return report(-100, (const char *)ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int lite_openat(struct trace_event_raw_sys_enter *ctx)
{
	return report(ctx->args[0], (const char *)ctx->args[1], ctx->args[2]);
}
