#pragma once
#include "eunomia.h"

#define PROCESS_PATH_LEN 256
#define PROCESS_ARGS_LEN 1024 /* argv bytes kept; longer command lines are truncated */

enum process_event_type {
	exec = 1,
	exit = 2,
};

struct process_event {
	struct eunomia_common;
	enum process_event_type type;
	__u32 exit_code;     /* exit status (0-255) */
	__u32 exit_signal;   /* signal that killed the process, 0 if it exited */
	__u32 args_size;     /* bytes of argv captured */
	__u8 args_truncated;
	__u64 duration_ns;   /* exit: lifetime since exec (or since fork if exec was not seen) */
	/* exec only, for the security rules: */
	__u32 vpid;          /* pid in the process's own pid namespace (1: a container's init) */
	__u8 upper_layer;    /* the binary is in an overlayfs upper layer: added or changed after the image */
	__u64 cap_effective; /* effective capabilities (bit n = capability n) */
	__u32 stdin_raw;     /* what fd 0 is: S_IFMT bits << 16 | socket family */
	__u32 stdout_raw;    /* the same for fd 1 */
	char tty[EUNOMIA_COMM_LEN]; /* controlling terminal ("pts0"), empty if none */
	char filename[PROCESS_PATH_LEN];  /* as passed to execve */
	char exe[PROCESS_PATH_LEN];       /* the binary actually run, resolved in the kernel */
	/* argv, NUL-separated: the tag makes the decoder return a string list */
	char args[PROCESS_ARGS_LEN] __attribute__((btf_decl_tag("eunomia.strings")));
};
