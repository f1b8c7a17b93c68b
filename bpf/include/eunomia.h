/* Event header shared by kernel and user space. Each tracker's event struct embeds it
 * anonymously as its first member (built with -fms-extensions), so decoders see the fields
 * at top level. */
#pragma once

#define EUNOMIA_COMM_LEN 16

struct eunomia_common {
	/* CLOCK_MONOTONIC; user space turns it into the event's wall-clock `time` */
	__u64 ts_ns __attribute__((btf_decl_tag("eunomia.hidden")));
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
	/* 1: the task runs a binary that is not from its own mount namespace (a container
	 * runtime's, while it sets a container up; or a memfd) */
	__u8 foreign_exe;
};
