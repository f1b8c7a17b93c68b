#pragma once
#include "eunomia.h"

/* How the signal was sent: one of the hooked syscalls, or generated in the kernel. */
enum signal_source {
	kill = 1,
	tkill = 2,
	tgkill = 3,
	rt_sigqueueinfo = 4,
	rt_tgsigqueueinfo = 5,
	pidfd_send_signal = 6,
	kernel = 7,          /* faults, SIGCHLD, SIGPIPE, timers, OOM killer, tty, ... */
};

/* What the kernel did with it (signal:signal_generate's result, shifted by one). */
enum signal_delivery {
	none = 0,            /* nothing generated: the send failed, or signal 0 (existence check) */
	delivered = 1,
	ignored = 2,         /* the target ignores it (or it is blocked-and-ignored) */
	pending = 3,         /* a non-real-time signal already pending: merged */
	overflow = 4,        /* real-time queue full: dropped */
	lost_info = 5,       /* delivered without its siginfo */
};

struct signal_event {
	struct eunomia_common;  /* the sender: the task in whose context the signal was sent */
	enum signal_source source;
	enum signal_delivery delivery;
	__s32 signal_raw;       /* signal number */
	__s32 si_code;          /* siginfo code: SI_USER 0, SI_KERNEL 128, SI_QUEUE -1, SI_TKILL -6, ... */
	__s32 target_pid;       /* target process (kill: the pid argument as given, <= 0 for groups) */
	__s32 target_tid;       /* target thread for thread-directed signals, else 0 */
	__u32 targets;          /* tasks the signal was generated for (kill to a group: several) */
	__u32 error_raw;        /* errno of the send, 0 on success */
	char target_comm[EUNOMIA_COMM_LEN]; /* the (first) receiving task */
};
