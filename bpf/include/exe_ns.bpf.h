/* Whether a task runs a binary from the mount namespace it lives in. A container runtime
 * setting a container up (runc/crun init, before it executes the entrypoint) lives in the
 * container's namespaces but runs the runtime's binary: the host's file, a bind-mounted copy
 * of it, or a memfd. The container's own processes run files of the container's rootfs. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* The host's mount namespace (inode of /proc/1/ns/mnt), set by user space before load; 0 =
 * unknown, then every task is checked. */
const volatile __u32 eunomia_host_mnt_ns = 0;

/* 1 when the task's executable is not on a mount of its own mount namespace (a memfd's or a
 * detached mount's namespace reads as 0). Tasks in the host's namespace are not checked: their
 * binaries are the host's, and events from the host are the majority. */
static __always_inline __u8 eunomia_foreign_exe(struct task_struct *task, __u32 mnt_ns)
{
	if (mnt_ns == eunomia_host_mnt_ns)
		return 0;
	struct vfsmount *vfsmnt = BPF_CORE_READ(task, mm, exe_file, f_path.mnt);
	if (!vfsmnt)
		return 0; /* a kernel thread: no executable */
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	return BPF_CORE_READ(mnt, mnt_ns, ns.inum) != mnt_ns;
}
