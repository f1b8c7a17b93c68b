#pragma once
#include "eunomia.h"

/* x86-64 syscall numbers are below 512; larger ones (the x32 ABI bit) are not counted. */
#define SECCOMP_MAX_NR 512

/* Persona values of personality(2) that are recorded by bit (the ones Docker's default
 * profile allows); any other sets SECCOMP_OTHER_PERSONALITY. */
#define SECCOMP_PERSONA_LINUX 0          /* PER_LINUX */
#define SECCOMP_PERSONA_LINUX32 1        /* PER_LINUX32 (0x8) */
#define SECCOMP_PERSONA_UNAME26 2        /* UNAME26 (0x20000) */
#define SECCOMP_PERSONA_LINUX32_UNAME26 3 /* 0x20008 */
#define SECCOMP_PERSONA_QUERY 4          /* 0xffffffff: asks for the current persona */

#define SECCOMP_OTHER_PRCTL 1            /* a prctl option >= 128 */
#define SECCOMP_OTHER_PERSONALITY 2      /* a persona outside the five above */

/* What one recorded cgroup called: the value of map `recordings`, keyed by cgroup v2 id. */
struct seccomp_slot {
	__u64 counts[SECCOMP_MAX_NR];     /* calls by syscall number */
	__u64 clone_ns;                   /* CLONE_NEW* bits passed to clone or clone3 */
	__u64 unshare_ns;                 /* ... to unshare */
	__u64 socket_families;            /* bit per address family passed to socket */
	__u64 prctl_options[2];           /* bit per prctl option below 128 */
	__u64 personalities;              /* SECCOMP_PERSONA_* bits */
	__u64 caps_used;                  /* capability checks that passed, bit per capability */
	__u64 caps_denied;                /* ... that were refused */
	__u64 compat_calls;               /* calls through the 32-bit ABI: not counted by number */
	__u64 other;                      /* SECCOMP_OTHER_* */
	__u64 exec_gate;                  /* 1: calls of unfiltered workload processes were counted */
};
