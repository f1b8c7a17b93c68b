#pragma once
#include "eunomia.h"

#define FILES_NAME_LEN 64
#define FILES_PATH_LEN 256

/* One (process, file) pair: the file is its inode, not the fd (fds are reused). */
struct files_key {
	__u32 pid;
	__u32 dev_raw;  /* kernel dev_t of the file system (major << 20 | minor) */
	__u64 inode;
};

/* Per-interval counts (per-CPU hash, summed and cleared by user space). The strings and the
 * mode are filled once, on the CPU that created the entry; the other CPUs keep zeros. */
struct files_stats {
	__u64 reads;
	__u64 writes;
	__u64 rbytes;
	__u64 wbytes;
	__u64 cgroup_id; /* cgroup v2 id of the process at its first operation (for its container) */
	__u32 mode_raw; /* inode i_mode: file type and permission bits */
	char comm[EUNOMIA_COMM_LEN];
	char name[FILES_NAME_LEN];  /* the file's own name (dentry) */
	char path[FILES_PATH_LEN];  /* full path in the process's mount namespace; "" if none */
};
