/* An event struct used only as a local variable, sent to a ring buffer with bpf_ringbuf_output
 * (the copy-out style of many libbpf-tools): clang leaves the struct out of the object's BTF, so
 * its type must come from the tool's header (hot_local.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hot_local.h"

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	struct event e = {};
	e.ts = bpf_ktime_get_ns();
	e.pid = id >> 32;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.dfd = (int)ctx->args[0];
	e.flags = (int)ctx->args[2];
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(e.fname, sizeof(e.fname), (const char *)ctx->args[1]);
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
