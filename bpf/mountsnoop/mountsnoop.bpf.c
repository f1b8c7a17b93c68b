/* mountsnoop: mount, umount2 and the new mount API (fsopen, fsconfig, fsmount, move_mount,
 * open_tree, fspick). No non-syscall tracepoint carries mount arguments, so this uses
 * syscall tracepoints: enter keeps the arguments per thread, exit reads the strings (by
 * then the kernel has faulted them in) and reports them with the result. */
#include "eunomia.bpf.h"
#include "mountsnoop.h"

EUNOMIA_EVENT(mount_event);

struct mount_args {
	__u64 source;   /* user pointers, read at exit */
	__u64 target;
	__u64 fs_type;
	__u64 data;
	__u64 value;    /* fsconfig: the value (data holds the key) */
	__u64 flags;
	__u32 call;
	__s32 in_fd;
	__s32 aux_fd;
	__u32 attr;
};

/* In-flight calls by thread (pid_tgid); deleted at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct mount_args);
} inflight SEC(".maps");

static __always_inline int enter(struct mount_args *a)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	bpf_map_update_elem(&inflight, &id, a, BPF_ANY);
	return 0;
}

static __always_inline void read_str(char *dst, __u32 size, __u64 src)
{
	if (!src || bpf_probe_read_user_str(dst, size, (void *)src) < 0)
		dst[0] = 0;
}

/* fsconfig values that are strings (FSCONFIG_SET_STRING, _SET_PATH, _SET_PATH_EMPTY). */
#define FSCONFIG_STRING_VALUE(cmd) ((cmd) == 1 || (cmd) == 3 || (cmd) == 4)

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mount_args *ap = bpf_map_lookup_elem(&inflight, &id);
	if (!ap)
		return 0;
	struct mount_args a = *ap;
	bpf_map_delete_elem(&inflight, &id);

	struct mount_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->call = a.call;
	bool returns_fd = a.call == fsopen || a.call == fsmount || a.call == open_tree || a.call == fspick;
	e->fd = returns_fd && ret >= 0 ? ret : -1;
	e->error_raw = ret < 0 ? -ret : 0;
	e->in_fd = a.in_fd;
	e->aux_fd = a.aux_fd;
	e->attr_raw = a.attr;
	e->flags_raw = a.flags;
	read_str(e->fs_type, sizeof(e->fs_type), a.fs_type);
	read_str(e->source, sizeof(e->source), a.source);
	read_str(e->target, sizeof(e->target), a.target);
	read_str(e->data, sizeof(e->data), a.data);
	if (a.call == fsconfig && a.value && FSCONFIG_STRING_VALUE(a.flags)) {
		/* "key=value"; the key's length is bounded for the verifier */
		long n = bpf_probe_read_user_str(e->data, MOUNT_DATA_LEN / 2, (void *)a.data);
		if (n > 0 && n < MOUNT_DATA_LEN / 2) {
			e->data[(n - 1) & (MOUNT_DATA_LEN - 1)] = '=';
			if (bpf_probe_read_user_str(&e->data[n & (MOUNT_DATA_LEN / 2 - 1)], MOUNT_DATA_LEN / 2, (void *)a.value) < 0)
				e->data[n & (MOUNT_DATA_LEN / 2 - 1)] = 0;
		}
	}
	eunomia_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_enter_mount")
int enter_mount(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = {
		.call = mount, .source = ctx->args[0], .target = ctx->args[1], .fs_type = ctx->args[2],
		.flags = ctx->args[3], .data = ctx->args[4], .in_fd = -1, .aux_fd = -1,
	};
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_umount")
int enter_umount(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = { .call = umount, .target = ctx->args[0], .flags = (__u32)ctx->args[1], .in_fd = -1, .aux_fd = -1 };
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_fsopen")
int enter_fsopen(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = { .call = fsopen, .fs_type = ctx->args[0], .flags = (__u32)ctx->args[1], .in_fd = -1, .aux_fd = -1 };
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_fsconfig")
int enter_fsconfig(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = {
		.call = fsconfig, .in_fd = ctx->args[0], .flags = (__u32)ctx->args[1], .data = ctx->args[2],
		.value = ctx->args[3], .aux_fd = ctx->args[4],
	};
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_fsmount")
int enter_fsmount(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = {
		.call = fsmount, .in_fd = ctx->args[0], .flags = (__u32)ctx->args[1], .attr = ctx->args[2], .aux_fd = -1,
	};
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_move_mount")
int enter_move_mount(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = {
		.call = move_mount, .in_fd = ctx->args[0], .source = ctx->args[1], .aux_fd = ctx->args[2],
		.target = ctx->args[3], .flags = (__u32)ctx->args[4],
	};
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_open_tree")
int enter_open_tree(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = { .call = open_tree, .in_fd = ctx->args[0], .source = ctx->args[1], .flags = (__u32)ctx->args[2], .aux_fd = -1 };
	return enter(&a);
}

SEC("tp/syscalls/sys_enter_fspick")
int enter_fspick(struct trace_event_raw_sys_enter *ctx)
{
	struct mount_args a = { .call = fspick, .in_fd = ctx->args[0], .target = ctx->args[1], .flags = (__u32)ctx->args[2], .aux_fd = -1 };
	return enter(&a);
}

#define EXIT(call) \
	SEC("tp/syscalls/sys_exit_" #call) \
	int exit_##call(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

EXIT(mount)
EXIT(umount)
EXIT(fsopen)
EXIT(fsconfig)
EXIT(fsmount)
EXIT(move_mount)
EXIT(open_tree)
EXIT(fspick)
