/* CO-RE relocations of the kinds Eunomia answers from its shared minimized BTF (field offset,
 * existence and reads through pointers, a flavoured type, an enum value, a type's size), each
 * written to a global when the test's process calls getppid(): test/kernel/co-re.test.ts.
 * Built with UNCOVERED (co_re_uncovered.bpf.c), it also reads a field no shipped object reads. */
#include "eunomia.bpf.h"

const volatile __u32 target_tgid = 0;

/* A flavour: libbpf matches it to task_struct by the name before "___". */
struct task_struct___flavour {
	int tgid;
};

__u64 off_real_parent, size_task, enum_memory, read_ppid, read_tgid, read_flavour_tgid, hits;
__u32 has_tgid, has_memory;
#ifdef UNCOVERED
__u64 off_nvcsw, read_nvcsw;
__u32 has_nvcsw;
#endif

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	off_real_parent = bpf_core_field_offset(struct task_struct, real_parent);
	has_tgid = bpf_core_field_exists(struct task_struct, tgid);
	size_task = bpf_core_type_size(struct task_struct);
	read_ppid = BPF_CORE_READ(task, real_parent, tgid);
	read_tgid = BPF_CORE_READ(task, tgid);
	read_flavour_tgid = BPF_CORE_READ((struct task_struct___flavour *)task, tgid);
	has_memory = bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id);
	enum_memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
#ifdef UNCOVERED
	off_nvcsw = bpf_core_field_offset(struct task_struct, nvcsw);
	has_nvcsw = bpf_core_field_exists(struct task_struct, nvcsw);
	read_nvcsw = BPF_CORE_READ(task, nvcsw);
#endif
	hits++;
	return 0;
}
