/* sigsnoop: signals sent, from two sources.
 * - raw_tp/signal_generate sees every signal the kernel generates, whoever causes it (kill,
 *   faults, SIGCHLD, SIGPIPE, timers, the OOM killer), in the sender's context, with the
 *   target task and what happened to the signal. It never fires for a send that fails
 *   before a target is found (ESRCH, EPERM, EINVAL).
 * - syscall tracepoints of the six send calls add those failures and the call used. A
 *   signal generated while its own send call is in flight is folded into that call's event,
 *   so each send is reported once. */
#include "eunomia.bpf.h"
#include "sigsnoop.h"

EUNOMIA_EVENT(signal_event);

const volatile __s32 target_signal = 0;   /* only this signal, 0 = all */
const volatile bool failed_only = false;  /* only sends that failed */

struct send {
	__s32 sig;
	__s32 target_pid;
	__s32 target_tid;
	__s32 si_code;
	__u32 source;
	__u32 delivery;
	__u32 targets;
	char target_comm[EUNOMIA_COMM_LEN];
};

/* Send calls in flight by thread (pid_tgid); deleted at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct send);
} inflight SEC(".maps");

static __always_inline int enter(enum signal_source source, __s32 pid, __s32 tid, __s32 sig)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (target_signal && sig != target_signal)
		return 0;
	if (eunomia_skip(id >> 32))
		return 0;
	struct send s = { .sig = sig, .target_pid = pid, .target_tid = tid, .source = source };
	bpf_map_update_elem(&inflight, &id, &s, BPF_ANY);
	return 0;
}

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct send *sp = bpf_map_lookup_elem(&inflight, &id);
	if (!sp)
		return 0;
	struct send s = *sp;
	bpf_map_delete_elem(&inflight, &id);
	if (failed_only && ret == 0 && s.delivery != overflow)
		return 0;

	struct signal_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->source = s.source;
	e->delivery = s.delivery;
	e->signal_raw = s.sig;
	e->si_code = s.si_code;
	e->target_pid = s.target_pid;
	e->target_tid = s.target_tid;
	e->targets = s.targets;
	e->error_raw = ret < 0 ? -ret : 0;
	__builtin_memcpy(e->target_comm, s.target_comm, sizeof(e->target_comm));
	eunomia_submit(e);
	return 0;
}

#define SI_USER 0
#define SI_KERNEL 0x80

SEC("raw_tp/signal_generate")
int BPF_PROG(on_generate, int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result)
{
	if (target_signal && sig != target_signal)
		return 0;
	/* as the tracepoint itself decodes SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) */
	int code = (unsigned long)info == 0 ? SI_USER : (unsigned long)info == 1 ? SI_KERNEL : BPF_CORE_READ(info, si_code);
	__s32 tgid = BPF_CORE_READ(task, tgid);
	__s32 tid = group ? 0 : BPF_CORE_READ(task, pid);
	__u64 id = bpf_get_current_pid_tgid();

	struct send *s = bpf_map_lookup_elem(&inflight, &id);
	if (s && s->sig == sig) {
		if (s->targets++ == 0) {
			s->delivery = result + 1;
			s->si_code = code;
			/* kill's pid argument stays as given (0 and negative name groups) */
			if (!s->target_pid && s->source != kill)
				s->target_pid = tgid;
			if (!s->target_tid)
				s->target_tid = tid;
			BPF_CORE_READ_STR_INTO(&s->target_comm, task, comm);
		}
		return 0;
	}
	if (eunomia_skip(id >> 32))
		return 0;
	if (failed_only && result != TRACE_SIGNAL_OVERFLOW_FAIL)
		return 0;

	struct signal_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->source = kernel;
	e->delivery = result + 1;
	e->signal_raw = sig;
	e->si_code = code;
	e->target_pid = tgid;
	e->target_tid = tid;
	e->targets = 1;
	e->error_raw = result == TRACE_SIGNAL_OVERFLOW_FAIL ? 11 /* EAGAIN */ : 0;
	BPF_CORE_READ_STR_INTO(&e->target_comm, task, comm);
	eunomia_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_enter_kill")
int enter_kill(struct trace_event_raw_sys_enter *ctx)
{
	return enter(kill, ctx->args[0], 0, ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_tkill")
int enter_tkill(struct trace_event_raw_sys_enter *ctx)
{
	return enter(tkill, 0, ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_tgkill")
int enter_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	return enter(tgkill, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_rt_sigqueueinfo")
int enter_rt_sigqueueinfo(struct trace_event_raw_sys_enter *ctx)
{
	return enter(rt_sigqueueinfo, ctx->args[0], 0, ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_rt_tgsigqueueinfo")
int enter_rt_tgsigqueueinfo(struct trace_event_raw_sys_enter *ctx)
{
	return enter(rt_tgsigqueueinfo, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_pidfd_send_signal")
int enter_pidfd_send_signal(struct trace_event_raw_sys_enter *ctx)
{
	return enter(pidfd_send_signal, 0, 0, ctx->args[1]);
}

#define EXIT(call) \
	SEC("tp/syscalls/sys_exit_" #call) \
	int exit_##call(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

EXIT(kill)
EXIT(tkill)
EXIT(tgkill)
EXIT(rt_sigqueueinfo)
EXIT(rt_tgsigqueueinfo)
EXIT(pidfd_send_signal)
