/* What the seccomp recorder (bpf/seccomp) and the log-mode watcher (bpf/seccomplog) both read:
 * the calls whose first argument decides, how a persona maps to a bit, and which capability
 * checks are the workload's. Include after eunomia.bpf.h. */
#pragma once

#define SECCOMP_MODE_FILTER 2
#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h: a 32-bit syscall is under way */

#define NR_SOCKET 41
#define NR_CLONE 56
#define NR_EXECVE 59
#define NR_PERSONALITY 135
#define NR_PRCTL 157
#define NR_UNSHARE 272
#define NR_EXECVEAT 322
#define NR_CLONE3 435

/* CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET, and CLONE_NEWTIME
 * (0x80, only for clone3 and unshare). */
#define NS_FLAGS 0x7E020080ULL

/* The personas kept by bit (the ones Docker's default profile allows), in this order:
 * PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and the query 0xffffffff; -1 for others. */
static __always_inline int seccomp_persona_bit(__u32 p)
{
	return p == 0 ? 0 : p == 0x8 ? 1 : p == 0x20000 ? 2 : p == 0x20008 ? 3 : p == 0xffffffff ? 4 : -1;
}

/* runc's init, by its comm ("runc:[0:PARENT]" … "runc:[2:INIT]"), until it execs the workload. */
static __always_inline bool seccomp_runc_init(void)
{
	char comm[EUNOMIA_COMM_LEN];
	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == 'r' && comm[1] == 'u' && comm[2] == 'n' && comm[3] == 'c' && comm[4] == ':';
}

/* Whether a capability check is the workload's own: not runc's (without no_new_privs it installs
 * the filter before it drops the container's capabilities), not made under borrowed credentials
 * (overlayfs reads its xattrs with the mounter's: current->cred is then not the task's own), and
 * not the kernel's CAP_SYS_ADMIN question on every mapping for the admin's memory reserve
 * (cap_vm_enough_memory, unaudited), whose refusal says nothing of what a program needs. */
static __always_inline bool seccomp_workload_cap(struct trace_event_raw_cap_capable *ctx, struct task_struct *task)
{
	if (seccomp_runc_init())
		return false;
	if ((void *)ctx->cred != (void *)task->real_cred)
		return false;
	if (ctx->cap < 0 || ctx->cap > 63)
		return false;
	return !(ctx->ret != 0 && ctx->cap == 21);
}
