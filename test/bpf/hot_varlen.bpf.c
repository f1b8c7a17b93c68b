/* A program in the style of libbpf-tools' execsnoop (written for these tests): an exec record
 * is a fixed head plus only the argument bytes used, sent to a perf event array with a size
 * computed at run time, so records are shorter than the struct. The struct reaches BTF as the
 * value type of the per-CPU scratch map, as in those tools. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define ARG_LEN 64
#define MAX_ARGS 8
#define ARGS_BYTES (ARG_LEN * MAX_ARGS)

struct exec_record {
	__u32 pid;
	__u32 ppid;
	__u32 args_count;
	__u32 args_size;
	char comm[16];
	char args[ARGS_BYTES];
};

const volatile __u32 target_ppid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_record);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} execs SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
	if (target_ppid && ppid != target_ppid)
		return 0;
	__u32 zero = 0;
	struct exec_record *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = ppid;
	e->args_count = 0;
	e->args_size = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	const char **argv = (const char **)ctx->args[1];
	for (int i = 0; i < MAX_ARGS; i++) {
		const char *arg = 0;
		bpf_probe_read_user(&arg, sizeof(arg), &argv[i]);
		if (!arg)
			break;
		if (e->args_size > ARGS_BYTES - ARG_LEN)
			break;
		long n = bpf_probe_read_user_str(&e->args[e->args_size], ARG_LEN, arg);
		if (n <= 0)
			break;
		e->args_count++;
		e->args_size += n;
	}
	__u32 size = e->args_size;
	if (size > ARGS_BYTES)
		size = ARGS_BYTES;
	bpf_perf_event_output(ctx, &execs, BPF_F_CURRENT_CPU, e, offsetof(struct exec_record, args) + size);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
