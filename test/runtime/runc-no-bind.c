/*
 * runc-no-bind [ARGS…]: runs runc (RUNC, fixed when built) with one mount(2) refused, the
 * read-only remount (MS_REMOUNT|MS_BIND|MS_RDONLY and nothing else) that runc 1.1 makes of
 * its bind mount of /proc/self/exe (CVE-2019-5736 protection). runc then falls back to
 * copying itself into a memfd, as it does on hosts that refuse the mount. Nothing else runc
 * mounts uses exactly those flags. For the tests: both of runc's paths on one machine, by
 * giving this as containerd's runc binary (`ctr run --runc-binary`).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture"
#endif

#ifndef RUNC
#define RUNC "/usr/sbin/runc"
#endif

int main(int argc, char **argv)
{
	(void)argc;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mount, 0, 3),
		/* flags, the 4th argument: its low 32 bits (little-endian) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MS_REMOUNT | MS_BIND | MS_RDONLY, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("runc-no-bind: seccomp");
		return 1;
	}
	argv[0] = RUNC;
	execv(RUNC, argv);
	perror("runc-no-bind: exec " RUNC);
	return 1;
}
