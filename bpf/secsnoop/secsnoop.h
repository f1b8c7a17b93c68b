#pragma once
#include "eunomia.h"

#define SEC_STR_LEN 256

/* The syscall; decoded as its name. */
enum sec_call {
	bpf = 1,
	ptrace,
	socket,
	connect,
	setns,
	unshare,
	memfd_create,
	init_module,
	finit_module,
	delete_module,
	dup2,
	dup3,
	chmod,
	fchmod,
	fchmodat,
	fchmodat2,
	userfaultfd,
	kexec_load,
	kexec_file_load,
	symlink,
	symlinkat,
	link,
	linkat,
	unlink,
	unlinkat,
	rename,
	renameat,
	renameat2,
	mkdir,
	mkdirat,
	utimensat,
	futimesat,
	utimes,
	utime,
	setxattr,
	lsetxattr,
	fsetxattr,
	setxattrat,
	reboot,
	mknod,
	mknodat,
	setsockopt,
};

/* One attempt of a security-relevant call, seen at syscall entry (an inet connect: at its
 * exit, with the result). The arguments mean what the call's arguments mean (see
 * docs/trackers/secsnoop.md); user space names them per call. Unused ones are 0. */
struct sec_event {
	struct eunomia_common;
	enum sec_call call;
	__s64 arg_raw[3];
	char str_raw[SEC_STR_LEN];  /* a path or name; "" if the call has none */
	char str2_raw[SEC_STR_LEN]; /* a second string: a link's target, a rename's new path, an xattr's name */
	__u8 addr_raw[16];          /* an inet connect's destination (4 bytes used for IPv4) */
};
