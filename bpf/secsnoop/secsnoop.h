#pragma once
#include "eunomia.h"

#define SEC_STR_LEN 128

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
};

/* One attempt of a security-relevant call, seen at syscall entry. The arguments mean what
 * the call's arguments mean (see docs/trackers/secsnoop.md); user space names them per call.
 * Unused ones are 0. */
struct sec_event {
	struct eunomia_common;
	enum sec_call call;
	__s64 arg_raw[3];
	char str_raw[SEC_STR_LEN]; /* a path or name from user memory; "" if the call has none */
};
