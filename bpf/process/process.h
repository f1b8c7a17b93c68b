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
	char filename[PROCESS_PATH_LEN];  /* as passed to execve */
	char exe[PROCESS_PATH_LEN];       /* the binary actually run, resolved in the kernel */
	/* argv, NUL-separated: the tag makes the decoder return a string list */
	char args[PROCESS_ARGS_LEN] __attribute__((btf_decl_tag("eunomia.strings")));
};
