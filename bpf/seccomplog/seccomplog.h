#pragma once
#include "eunomia.h"

#define SECCOMPLOG_MAX_NR 512

/* What the profile allows, as the kernel side checks it (src/trackers/seccomplog/ builds it
 * from a Docker/OCI profile). */
struct seccomplog_profile {
	__u64 allowed[SECCOMPLOG_MAX_NR / 64];  /* a bit per syscall the profile allows at all */
	__u64 any_args[SECCOMPLOG_MAX_NR / 64]; /* ... allows whatever its arguments */
	__u64 clone_ns;                         /* CLONE_NEW* bits clone may pass */
	__u64 unshare_ns;                       /* ... unshare may pass */
	__u64 socket_families;                  /* a bit per address family socket may create */
	__u64 prctl_options[2];                 /* a bit per prctl option below 128 */
	__u64 personalities;                    /* seccomp_persona_bit bits (bpf/include/seccomp.bpf.h) */
	__u64 caps;                             /* a bit per capability the workload may use */
	__u32 check_caps;                       /* 1: report capability checks outside `caps` */
	__u32 pad;
};

#define SECCOMPLOG_SYSCALL 1    /* a syscall the profile does not allow */
#define SECCOMPLOG_ARGUMENT 2   /* a syscall it allows, with an argument it does not */
#define SECCOMPLOG_CAPABILITY 3 /* a capability check outside the profile's set */

struct seccomplog_event {
	struct eunomia_common;
	__u32 kind;     /* SECCOMPLOG_* */
	__u32 nr;       /* the syscall (SYSCALL, ARGUMENT) */
	__u64 arg;      /* the argument that decided (ARGUMENT) */
	__s32 cap;      /* the capability (CAPABILITY) */
	__s32 cap_ret;  /* 0: the check passed; else it was refused */
};
