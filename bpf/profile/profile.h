#pragma once
#include "eunomia.h"

/* Frames kept per stack (the kernel's own limit, kernel.perf_event_max_stack, is 127 by default). */
#define PROFILE_MAX_DEPTH 127

/* One unique (process, user stack, kernel stack): the key of the count maps. A stack id below
 * zero is the error bpf_get_stackid returned (-EFAULT: no user stack, a kernel thread; -EEXIST:
 * the stack map's slot held another stack; -ENOMEM: … ), or PROFILE_NOT_TAKEN (not asked for). */
struct profile_key {
	__u32 pid;
	__s32 user_stack;
	__s32 kernel_stack;
	__u32 pad;
	__u64 cgroup_id;
	char comm[EUNOMIA_COMM_LEN];
};

#define PROFILE_NOT_TAKEN (-1000)
