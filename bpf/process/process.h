#pragma once
#include "eunomia.h"

#define PROCESS_PATH_LEN 256
#define PROCESS_ARGS_LEN 1024 /* argv bytes kept; longer command lines are truncated */
#define PROCESS_ENV_VALUE_LEN 256 /* bytes kept of each environment value read (with the NUL) */

/* In stdin_raw/stdout_raw, next to the file-type bits (<< 16, so bits 28-31) and the socket
 * family (bits 0-15): the FIFO has a name on a filesystem (mkfifo), it is not an anonymous
 * pipe (pipefs). */
#define PROCESS_FD_NAMED (1 << 16)

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
	/* exec only, for the security rules. An exit's record ends here (PROCESS_EXIT_SIZE): the
	 * tag tells the decoder that the rest of a shorter record reads as zero. */
	__u32 vpid __attribute__((btf_decl_tag("eunomia.tail"))); /* pid in the process's own pid namespace (1: a container's init) */
	__u32 vppid;         /* the parent's pid in that namespace; 0 when the parent is outside it (docker exec, a container's init) */
	__u8 upper_layer;    /* the binary is in an overlayfs upper layer: added or changed after the image */
	__u64 cap_effective; /* effective capabilities (bit n = capability n) */
	__u32 stdin_raw;     /* what fd 0 is: S_IFMT bits << 16 | socket family | PROCESS_FD_NAMED */
	__u32 stdout_raw;    /* the same for fd 1 */
	__u32 exe_fs_magic;  /* superblock magic of the executable's filesystem (tmpfs, overlayfs, ext4 ...) */
	char tty[EUNOMIA_COMM_LEN]; /* controlling terminal ("pts0"), empty if none */
	char pcomm[EUNOMIA_COMM_LEN]; /* the parent's task name at exec: who started it (a web server, a database ...) */
	char gpcomm[EUNOMIA_COMM_LEN]; /* the grandparent's: who ran the shell that started it (npm → sh -c → curl) */
	char filename[PROCESS_PATH_LEN];  /* as passed to execve */
	char exe[PROCESS_PATH_LEN];       /* the binary actually run, resolved in the kernel */
	/* from the new environment (never the rest of it: it holds secrets); empty when unset */
	__u32 glibc_tunables_len; /* GLIBC_TUNABLES's whole length: more than the value kept means it was cut */
	char ld_preload[PROCESS_ENV_VALUE_LEN];
	char ld_library_path[PROCESS_ENV_VALUE_LEN];
	char glibc_tunables[PROCESS_ENV_VALUE_LEN];
	char path_env[PROCESS_ENV_VALUE_LEN]; /* PATH */
	/* argv, NUL-separated: the tags make the decoder return a string list of its first
	 * args_size bytes (the rest is not zeroed) */
	char args[PROCESS_ARGS_LEN] __attribute__((btf_decl_tag("eunomia.strings"), btf_decl_tag("eunomia.length:args_size")));
};

/* Bytes of an exit's record: the head (104), not the 2.7 KiB an exec needs for its paths, environment values and argv. */
#define PROCESS_EXIT_SIZE __builtin_offsetof(struct process_event, vpid)
