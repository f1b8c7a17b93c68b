/* opensnoop: open, openat and openat2 with their result. No non-syscall tracepoint carries
 * the path and flags, so this uses syscall tracepoints: enter keeps the arguments per
 * thread, exit reports them with the result. */
#include "eunomia.bpf.h"
#include "opensnoop.h"

EUNOMIA_EVENT(open_event);

const volatile bool failed_only = false;
/* Only paths that start with this (as passed, not resolved); "" = all. */
const volatile char path_prefix[OPENSNOOP_PREFIX_LEN] = {};

struct open_args {
	__u64 path;       /* user pointer, read at exit: by then the kernel has faulted it in */
	__u64 how;        /* openat2: user pointer to struct open_how */
	__s32 dfd;
	__u32 flags;
	__u32 mode;
	__u32 syscall;
};

/* In-flight opens by thread (pid_tgid); deleted at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct open_args);
} inflight SEC(".maps");

static __always_inline int enter(enum open_syscall call, __s32 dfd, __u64 path, __u32 flags, __u32 mode, __u64 how)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	struct open_args a = { .path = path, .how = how, .dfd = dfd, .flags = flags, .mode = mode, .syscall = call };
	bpf_map_update_elem(&inflight, &id, &a, BPF_ANY);
	return 0;
}

static __always_inline bool prefix_matches(const char *path)
{
	for (int i = 0; i < OPENSNOOP_PREFIX_LEN; i++) {
		char c = path_prefix[i];
		if (!c)
			return true;
		if (path[i] != c)
			return false;
	}
	return true;
}

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct open_args *ap = bpf_map_lookup_elem(&inflight, &id);
	if (!ap)
		return 0;
	struct open_args a = *ap;
	bpf_map_delete_elem(&inflight, &id);
	if (failed_only && ret >= 0)
		return 0;

	struct open_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)a.path) < 0)
		e->path[0] = 0;
	if (path_prefix[0] && !prefix_matches(e->path)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->syscall = a.syscall;
	e->dfd = a.dfd;
	e->fd = ret >= 0 ? ret : -1;
	e->error_raw = ret < 0 ? -ret : 0;
	e->flags_raw = a.flags;
	e->mode_raw = a.mode;
	e->resolve_raw = 0;
	if (a.how) {
		struct open_how how = {};
		bpf_probe_read_user(&how, sizeof(how), (void *)a.how);
		e->flags_raw = how.flags;
		e->mode_raw = how.mode;
		e->resolve_raw = how.resolve;
	}
	eunomia_submit(e);
	return 0;
}

#define AT_FDCWD -100

SEC("tp/syscalls/sys_enter_open")
int enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return enter(open, AT_FDCWD, ctx->args[0], ctx->args[1], ctx->args[2], 0);
}

SEC("tp/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return enter(openat, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], 0);
}

SEC("tp/syscalls/sys_enter_openat2")
int enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	return enter(openat2, ctx->args[0], ctx->args[1], 0, 0, ctx->args[2]);
}

SEC("tp/syscalls/sys_exit_open")
int exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}
