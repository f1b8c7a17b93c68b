#pragma once
#include "eunomia.h"

/* x86-64 syscall numbers are below 512; larger ones (the x32 ABI bit) are not counted. */
#define SECCOMP_MAX_NR 512
/* Cgroups one recording holds (a power of two: the entry is found from the id's low bits). */
#define SECCOMP_SLOTS 64

#define SECCOMP_OTHER_PRCTL 1            /* a prctl option >= 128 */
#define SECCOMP_OTHER_PERSONALITY 2      /* a persona seccomp_persona_bit does not keep */

/* What one recorded cgroup called: an entry of map `recordings`. */
struct seccomp_slot {
	__u64 cgroup_id;                  /* the cgroup v2 id it belongs to; 0: free */
	__u64 counts[SECCOMP_MAX_NR];     /* calls by syscall number */
	__u64 clone_ns;                   /* CLONE_NEW* bits passed to clone or clone3 */
	__u64 unshare_ns;                 /* ... to unshare */
	__u64 socket_families;            /* bit per address family passed to socket */
	__u64 prctl_options[2];           /* bit per prctl option below 128 */
	__u64 personalities;              /* seccomp_persona_bit bits (bpf/include/seccomp.bpf.h) */
	__u64 caps_used;                  /* capability checks that passed, bit per capability */
	__u64 caps_denied;                /* ... that were refused */
	__u64 compat_calls;               /* calls through the 32-bit ABI: not counted by number */
	__u64 other;                      /* SECCOMP_OTHER_* */
	__u64 exec_gate;                  /* 1: calls of unfiltered workload processes were counted */
};
