#pragma once
#include "eunomia.h"

#define MOUNT_PATH_LEN 256
#define MOUNT_TYPE_LEN 32
#define MOUNT_DATA_LEN 256

enum mount_call {
	mount = 1,
	umount = 2,        /* umount2(2); umount(2) is the same syscall on 64-bit */
	fsopen = 3,
	fsconfig = 4,
	fsmount = 5,
	move_mount = 6,
	open_tree = 7,
	fspick = 8,
};

struct mount_event {
	struct eunomia_common;
	enum mount_call call;
	__s32 fd;           /* fd returned by fsopen, fsmount, open_tree, fspick; else -1 */
	__u32 error_raw;    /* errno on failure, 0 on success */
	__s32 in_fd;        /* fd the call works on (fs context, from_dfd, dfd); -1 if none */
	__s32 aux_fd;       /* move_mount: to_dfd; fsconfig: aux; else -1 */
	__u32 attr_raw;     /* fsmount: MOUNT_ATTR_* */
	__u64 flags_raw;    /* the call's flags (fsconfig: its command) */
	char fs_type[MOUNT_TYPE_LEN];
	char source[MOUNT_PATH_LEN];
	char target[MOUNT_PATH_LEN];
	char data[MOUNT_DATA_LEN]; /* mount: the options string; fsconfig: key or key=value */
};
