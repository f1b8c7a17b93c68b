#pragma once
#include "eunomia.h"

#define OPENSNOOP_PATH_LEN 256
#define OPENSNOOP_PREFIX_LEN 64

enum open_syscall {
	open = 1,
	openat = 2,
	openat2 = 3,
};

struct open_event {
	struct eunomia_common;
	enum open_syscall syscall;
	__s32 dfd;          /* directory fd a relative path starts from; -100 = AT_FDCWD (open: always) */
	__s32 fd;           /* the new fd, -1 on failure */
	__u32 error_raw;    /* errno on failure, 0 on success */
	__u32 flags_raw;    /* O_* as passed (openat2: open_how.flags) */
	__u32 mode_raw;     /* permission bits as passed; used with O_CREAT/O_TMPFILE only */
	__u32 resolve_raw;  /* openat2: open_how.resolve (RESOLVE_*), else 0 */
	char path[OPENSNOOP_PATH_LEN]; /* as passed (relative paths stay relative) */
};
