/* syscount: syscalls counted in the kernel, by syscall number (a per-CPU array: no hashing,
 * no atomics) or by process. One raw tracepoint in the default mode; sys_exit only when the
 * result (--failed) or the latency (--latency) is needed: user space loads only the programs
 * the options need (descriptor.programs). */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "syscount.h"

const volatile bool by_process = false;
const volatile bool failed_only = false;   /* only calls returning -errno */
const volatile __s32 target_nr = -1;       /* only this syscall, -1 = all */
const volatile bool with_latency = false;  /* stamp_enter runs: count_exit measures */

#define NR_EXIT 60
#define NR_EXIT_GROUP 231
#define MAX_ERRNO 4095

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCOUNT_MAX_NR);
	__type(key, __u32);
	__type(value, struct syscount_value);
} syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct syscount_proc_key);
	__type(value, struct syscount_proc_value);
} processes SEC(".maps");

/* --latency: enter time and number by thread (pid_tgid), deleted at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct syscount_start);
} start SEC(".maps");

static __always_inline void count(__u32 tgid, __u64 nr, __u64 ns)
{
	if (by_process) {
		struct syscount_proc_key k = { .pid = tgid };
		struct syscount_proc_value *v = bpf_map_lookup_elem(&processes, &k);
		if (!v) {
			struct syscount_proc_value init = {};
			bpf_get_current_comm(init.comm, sizeof(init.comm));
			/* -EEXIST: another CPU inserted it first, the lookup below finds it */
			long err = bpf_map_update_elem(&processes, &k, &init, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&processes, &k);
			if (!v) {
				if (err)
					eunomia_map_insert_failed();
				return;
			}
		}
		v->count++;
		v->total_ns += ns;
		return;
	}
	if (nr >= SYSCOUNT_MAX_NR)
		return;
	__u32 k = nr;
	struct syscount_value *v = bpf_map_lookup_elem(&syscalls, &k);
	if (!v)
		return;
	v->count++;
	v->total_ns += ns;
}

/* Default mode: count on entry; nothing else runs per syscall. */
SEC("raw_tp/sys_enter")
int count_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	if (target_nr >= 0 && nr != (__u64)target_nr)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;
	count(tgid, nr, 0);
	return 0;
}

/* --latency: note when the thread entered which syscall. */
SEC("raw_tp/sys_enter")
int stamp_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	if (target_nr >= 0 && nr != (__u64)target_nr)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	if (nr == NR_EXIT || nr == NR_EXIT_GROUP) {
		/* They never return: an entry would stay behind. Counted now, with no latency. */
		if (!failed_only)
			count(id >> 32, nr, 0);
		return 0;
	}
	struct syscount_start s = { .ts_ns = bpf_ktime_get_ns(), .nr = nr };
	if (bpf_map_update_elem(&start, &id, &s, BPF_ANY))
		eunomia_map_insert_failed(); /* count_exit finds no start: the call is not counted */
	return 0;
}

/* --failed and/or --latency: count on exit, where the result is known. */
SEC("raw_tp/sys_exit")
int count_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	__u64 id = bpf_get_current_pid_tgid();
	__u64 nr, ns = 0;
	if (with_latency) {
		struct syscount_start *s = bpf_map_lookup_elem(&start, &id);
		if (!s)
			return 0; /* filtered at entry, or entered before the tracker started */
		ns = bpf_ktime_get_ns() - s->ts_ns;
		nr = s->nr;
		bpf_map_delete_elem(&start, &id);
		if (failed_only && (ret >= 0 || ret < -MAX_ERRNO))
			return 0;
	} else {
		if (ret >= 0 || ret < -MAX_ERRNO)
			return 0; /* without latency this program runs only for --failed */
		if (eunomia_skip(id >> 32))
			return 0;
		struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
		nr = BPF_CORE_READ(regs, orig_ax);
		if (target_nr >= 0 && nr != (__u64)target_nr)
			return 0;
	}
	count(id >> 32, nr, ns);
	return 0;
}
