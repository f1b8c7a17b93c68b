/* syscall: which syscalls each process uses and how often, counted in the kernel, plus an
 * event the first time a process uses a syscall. One raw tracepoint on sys_enter: it hands
 * the syscall number as an argument (no pt_regs read), and one program is cheaper than
 * hundreds of syscalls:sys_enter_* tracepoints. */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "syscall.h"

EUNOMIA_EVENT(syscall_event);

#define EEXIST 17

const volatile __s64 target_nr = -1; /* --syscall: only this number, -1 = all */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 131072);
	/* memory for the pairs in use only, not 131072 per CPU up front; lookups cost the same.
	 * Short-lived processes each add ~30 pairs per interval: size for exec storms. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct syscall_key);
	__type(value, struct syscall_count);
} counts SEC(".maps");

/* With -p (one process) the key is the syscall number alone: an array, whose lookup the
 * verifier inlines (no hashing), ~50 ns less per call than the hash. Never cleared: user
 * space reports the difference between reads, so a zero count means "first call on this
 * CPU since the start", the only time `seen` is consulted. */
#define PID_NRS 512
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PID_NRS);
	__type(key, __u32);
	__type(value, struct syscall_count);
} pid_counts SEC(".maps");

/* (process, syscall) pairs already reported, with the process's start time so that a reused
 * pid is a new process. Not cleared by the interval, so first-use events do not repeat. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct syscall_key);
	__type(value, __u64);
} seen SEC(".maps");

/* True only the first time this process uses this syscall. */
static __always_inline bool first_use(struct syscall_key *k, struct task_struct *task)
{
	__u64 start = BPF_CORE_READ(task, group_leader, start_time);
	__u64 *s = bpf_map_lookup_elem(&seen, k);
	if (s) {
		if (*s == start)
			return false;
		*s = start; /* the pid was reused by a new process */
		return true;
	}
	/* NOEXIST: of two threads racing here, only one reports. */
	return bpf_map_update_elem(&seen, k, &start, BPF_NOEXIST) == 0;
}

static __always_inline void emit(struct syscall_key *k, struct task_struct *task)
{
	struct syscall_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return;
	eunomia_fill_common((struct eunomia_common *)e, task);
	e->syscall_raw = k->syscall_raw;
	eunomia_submit(e);
}

/* Off the hot path: the first call of a (process, syscall) pair in an interval. */
static __noinline int miss(struct syscall_key *k)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (first_use(k, task))
		emit(k, task);
	struct syscall_count init = { .count = 1 };
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	long err = bpf_map_update_elem(&counts, k, &init, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* another CPU created it meanwhile */
		struct syscall_count *v = bpf_map_lookup_elem(&counts, k);
		if (v)
			v->count++;
	} else if (err) {
		eunomia_map_insert_failed(); /* map full or no memory: this call is not counted */
	}
	return 0;
}

/* The first call of the syscall on this CPU by the one process of -p. */
static __noinline int pid_first(struct syscall_key *k, struct syscall_count *v)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (first_use(k, task))
		emit(k, task);
	bpf_get_current_comm(v->comm, sizeof(v->comm));
	v->count = 1;
	return 0;
}

SEC("raw_tp/sys_enter")
int syscall_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	if (target_nr >= 0 && nr != target_nr)
		return 0;
	if (nr < 0)
		return 0; /* -1: a syscall skipped by ptrace or seccomp */
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;
	struct syscall_key k = { .pid = tgid, .syscall_raw = nr };
	if (eunomia_target_pid) {
		if (nr >= PID_NRS)
			return 0; /* x32-ABI numbers (bit 30): not counted with -p */
		__u32 i = nr;
		struct syscall_count *c = bpf_map_lookup_elem(&pid_counts, &i);
		if (!c)
			return 0;
		if (c->count) {
			c->count++;
			return 0;
		}
		return pid_first(&k, c);
	}
	/* --first-only uses the counts too, as the cache that keeps repeated calls off the
	 * `seen` set; user space then just does not report them. */
	struct syscall_count *v = bpf_map_lookup_elem(&counts, &k);
	if (v) {
		v->count++; /* per-CPU value: no atomic needed */
		return 0;
	}
	return miss(&k);
}
