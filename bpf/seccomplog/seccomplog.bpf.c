/* seccomplog: what a workload running under a seccomp profile in log mode does outside it —
 * the calls its filter lets through (SCMP_ACT_LOG) but the profile would refuse, and its
 * capability checks outside the recorded set. A log-mode filter allows the call, so sys_enter
 * sees it (a refused call never reaches sys_enter); the profile's allowances are checked here
 * again, by syscall number and by the arguments Eunomia's profiles restrict. One event per
 * process, syscall (or capability) and kind; every call outside is counted. */
#include "eunomia.bpf.h"
#include "seccomp.bpf.h"
#include "seccomplog.h"

EUNOMIA_EVENT(seccomplog_event);

const volatile struct seccomplog_profile profile = {};

/* Calls outside the profile, reported or not (per CPU, summed by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} outside_calls SEC(".maps");

struct seen_key {
	__u32 tgid;
	__u32 kind;
	__u64 what; /* syscall number, or capability */
};

/* Reported already: a process making the same call in a loop is one event. LRU: never full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct seen_key);
	__type(value, __u8);
} seen SEC(".maps");

static __always_inline bool bit(const volatile __u64 *words, __u64 n)
{
	return (words[(n >> 6) & 7] >> (n & 63)) & 1;
}

static __always_inline bool persona_allowed(__u32 p)
{
	int b = seccomp_persona_bit(p);
	return b >= 0 && ((profile.personalities >> b) & 1);
}

/* Whether the argument that decides is one the profile allows (the call itself is allowed). */
static __always_inline bool arg_allowed(__u64 nr, __u64 a0)
{
	switch (nr) {
	case NR_CLONE:
		return !(a0 & NS_FLAGS & ~profile.clone_ns);
	case NR_UNSHARE:
		return !(a0 & NS_FLAGS & ~profile.unshare_ns);
	case NR_SOCKET:
		return a0 < 64 && ((profile.socket_families >> a0) & 1);
	case NR_PRCTL:
		if (a0 < 64)
			return (profile.prctl_options[0] >> a0) & 1;
		if (a0 < 128)
			return (profile.prctl_options[1] >> (a0 - 64)) & 1;
		return false;
	case NR_PERSONALITY:
		return persona_allowed((__u32)a0);
	}
	return true;
}

static __always_inline void report(__u32 kind, __u64 what, __u64 arg, __s32 cap_ret)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&outside_calls, &zero);
	if (n)
		*n += 1;
	struct seen_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .kind = kind, .what = what };
	if (bpf_map_lookup_elem(&seen, &k))
		return;
	__u8 one = 1;
	bpf_map_update_elem(&seen, &k, &one, BPF_ANY);
	struct seccomplog_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->kind = kind;
	e->nr = kind == SECCOMPLOG_CAPABILITY ? 0 : what;
	e->arg = arg;
	e->cap = kind == SECCOMPLOG_CAPABILITY ? what : -1;
	e->cap_ret = cap_ret;
	eunomia_submit(e);
}

/* A task of a watched cgroup that runs under a seccomp filter (the profile's, in log mode). */
static __always_inline bool watched(struct task_struct *task)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return false;
	return task->seccomp.mode == SECCOMP_MODE_FILTER;
}

SEC("raw_tp/sys_enter")
int log_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	/* A BTF pointer: its fields are plain loads, not bpf_probe_read calls. */
	struct task_struct *task = bpf_get_current_task_btf();
	if (!watched(task))
		return 0;
	/* The profile is x86-64's: a 32-bit call is refused by its architecture check. */
	if (task->thread_info.status & TS_COMPAT)
		return 0;
	if (nr >= SECCOMPLOG_MAX_NR || !bit(profile.allowed, nr)) {
		report(SECCOMPLOG_SYSCALL, nr, 0, 0);
		return 0;
	}
	if (bit(profile.any_args, nr))
		return 0;
	__u64 a0 = BPF_CORE_READ((struct pt_regs *)ctx->args[0], di);
	if (!arg_allowed(nr, a0))
		report(SECCOMPLOG_ARGUMENT, nr, a0, 0);
	return 0;
}

SEC("tp/capability/cap_capable")
int log_capable(struct trace_event_raw_cap_capable *ctx)
{
	if (!profile.check_caps)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!seccomp_workload_cap(ctx, task) || !watched(task) || ((profile.caps >> ctx->cap) & 1))
		return 0;
	report(SECCOMPLOG_CAPABILITY, ctx->cap, 0, ctx->ret);
	return 0;
}
