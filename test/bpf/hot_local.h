/* The event of hot_local.bpf.c, as a tool's header (like libbpf-tools' opensnoop.h): the
 * object's BTF lacks it, since the program uses it only as a local variable. */
#ifndef HOT_LOCAL_H
#define HOT_LOCAL_H

#define LOCAL_NAME_LEN 96

struct event {
	__u64 ts;
	pid_t pid;
	uid_t uid;
	int flags;
	int dfd;
	char comm[16];
	char fname[LOCAL_NAME_LEN];
};

#endif
