/* Event header shared by kernel and user space. Each tracker's event struct embeds it
 * anonymously as its first member (built with -fms-extensions), so decoders see the fields
 * at top level. */
#pragma once

#define EUNOMIA_COMM_LEN 16

struct eunomia_common {
	__u64 ts_ns;      /* CLOCK_MONOTONIC, converted to wall time in user space */
	__u32 pid;        /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 pid_ns;
	__u32 mnt_ns;
	__u32 user_ns;
	__u64 cgroup_id;
	char comm[EUNOMIA_COMM_LEN];
};
