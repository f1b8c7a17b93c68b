#pragma once
#include "eunomia.h"

/* x86-64 syscall numbers are below 512; larger ones (x32 ABI bit) are not counted. */
#define SYSCOUNT_MAX_NR 512

/* By syscall: the value of the per-CPU array indexed by syscall number. */
struct syscount_value {
	__u64 count;
	__u64 total_ns;   /* --latency: time spent in the calls counted */
};

/* By process (--by-process): keyed by tgid. */
struct syscount_proc_key {
	__u32 pid;
};

struct syscount_proc_value {
	__u64 count;
	__u64 total_ns;
	char comm[EUNOMIA_COMM_LEN];   /* read once per interval, on the process's first call */
};

/* --latency: what sys_enter leaves for sys_exit, per thread. */
struct syscount_start {
	__u64 ts_ns;
	__u64 nr;
};
