#pragma once
#include "eunomia.h"

/* First use of a syscall by a process (ring buffer). */
struct syscall_event {
	struct eunomia_common;
	__u32 syscall_raw; /* x86-64 syscall number; user space adds the name as `syscall` */
};

/* Per-interval counts (per-CPU hash, summed and cleared by user space). */
struct syscall_key {
	__u32 pid;
	__u32 syscall_raw;
};

struct syscall_count {
	__u64 count;
	char comm[EUNOMIA_COMM_LEN]; /* filled when the entry is created */
};
