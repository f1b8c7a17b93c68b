/* One hook by three mechanisms, as libbpf-tools ship them for kernels that differ: fentry
 * (best), a kprobe on the same function, and the syscall's tracepoint standing in for both.
 * Plus a tracepoint reached two ways (tp_btf, then the classic tracepoint). Each program says
 * which one ran in `via`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct unlink_event {
	__u32 pid;
	__u32 via; /* 1 fentry, 2 kprobe, 3 tracepoint, 4 tp_btf exit, 5 tracepoint exit */
};

struct unlink_event *__eunomia_event_unlink_event __attribute__((unused, section(".eunomia.types")));

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

static __always_inline int send(__u32 via)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target_tgid && pid != target_tgid)
		return 0;
	struct unlink_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->via = via;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_fentry, int dfd, struct filename *name)
{
	return send(1);
}

SEC("kprobe/do_unlinkat")
int unlink_kprobe(void *ctx)
{
	return send(2);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int unlink_tp(void *ctx)
{
	return send(3);
}

SEC("tp_btf/sched_process_exit")
int exit_btf(u64 *ctx)
{
	return send(4);
}

SEC("tracepoint/sched/sched_process_exit")
int exit_tp(void *ctx)
{
	return send(5);
}

char LICENSE[] SEC("license") = "GPL";
