#pragma once
#include "eunomia.h"

/* One capability check (capability:cap_capable). The tracepoint has no audit/opts flag. */
struct capable_event {
	struct eunomia_common;
	__s32 cap_raw;          /* capability number */
	__s32 ret;              /* 0: allowed, -EPERM: denied */
	__u32 euid;             /* effective uid of the credentials checked */
	__u32 target_ns;        /* inode of the user namespace the capability is needed in */
	__u32 target_ns_level;  /* its depth: 0 = the initial user namespace */
	__u32 capable_ns;       /* inode of the credentials' user namespace if allowed, 0 if denied */
};
