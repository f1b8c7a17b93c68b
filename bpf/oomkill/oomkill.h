#pragma once
#include "eunomia.h"

#define OOMKILL_PATH_LEN 256

/* The common header describes the trigger: the task whose allocation ran the OOM killer
 * (`current` at oom:mark_victim). The victim is described by the victim_* fields. */
struct oomkill_event {
	struct eunomia_common;
	__u32 victim_pid;          /* tgid of the victim */
	__u32 victim_tid;          /* the thread the tracepoint names (holds the mm) */
	__u32 victim_uid;
	__s16 oom_score_adj;
	__u8 memcg_truncated;      /* memcg_path is incomplete: deeper than 8 levels or too long */
	/* as the tracepoint gives them: kB (the kernel converts pages to kB) */
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u64 memcg_id;            /* kernfs id (= directory inode) of the victim's memory cgroup */
	__u64 victim_cgroup_id;    /* cgroup v2 id of the victim */
	char victim_comm[EUNOMIA_COMM_LEN];
	char memcg_path[OOMKILL_PATH_LEN];  /* the memory cgroup, relative to its hierarchy's root */
};
