/* ipc: System V message queues, shared memory and semaphores, and POSIX message queues.
 * Only the syscall tracepoints carry these calls' arguments (the original used an LSM hook,
 * refused here). Enter stashes the arguments per thread; exit reads them back with the
 * result and sends one event, reading user memory only then (it is faulted in by then). */
#include "eunomia.bpf.h"
#include "ipc.h"

EUNOMIA_EVENT(ipc_event);

#define KIND_MSG 1
#define KIND_SHM 2
#define KIND_SEM 4
#define KIND_MQ 8

const volatile __u32 kind_mask = 0; /* KIND_* bits; 0 = every kind */

struct pending {
	enum ipc_call call;
	__u64 args[6];
};

/* arguments by thread, from sys_enter to sys_exit */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

static __always_inline int enter(struct trace_event_raw_sys_enter *ctx, enum ipc_call call, __u32 kind)
{
	if (kind_mask && !(kind_mask & kind))
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	struct pending p = { .call = call };
	bpf_probe_read_kernel(p.args, sizeof(p.args), ctx->args);
	bpf_map_update_elem(&pending, &id, &p, BPF_ANY);
	return 0;
}

static __always_inline int leave(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending, &id);
	if (!p)
		return 0;
	struct ipc_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		goto out;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	eunomia_fill_common((struct eunomia_common *)e, task);
	/* zero the fields after the header; the name only needs its terminator */
	__builtin_memset(&e->call, 0, offsetof(struct ipc_event, name) - offsetof(struct ipc_event, call));
	e->name[0] = 0;
	long ret = ctx->ret;
	__u64 *a = p->args;
	e->call = p->call;
	e->ipc_ns = BPF_CORE_READ(task, nsproxy, ipc_ns, ns.inum);
	e->ret = ret;
	switch (p->call) {
	case msgget:
	case shmget:
	case semget:
		e->key = a[0];
		e->id = ret < 0 ? -1 : ret;
		e->flags_raw = p->call == msgget ? a[1] : a[2];
		e->mode_raw = e->flags_raw & 0777;
		if (p->call == shmget)
			e->size = a[1];
		if (p->call == semget)
			e->nsems = a[1];
		break;
	case msgsnd:
		e->id = a[0];
		bpf_probe_read_user(&e->msgtyp, sizeof(e->msgtyp), (void *)a[1]); /* msgp->mtype */
		e->size = a[2];
		e->flags_raw = a[3];
		break;
	case msgrcv:
		e->id = a[0];
		e->size = a[2];
		e->msgtyp = a[3];
		e->flags_raw = a[4];
		break;
	case shmat:
		e->id = a[0];
		e->addr = a[1];
		e->flags_raw = a[2];
		break;
	case shmdt:
		e->addr = a[0];
		break;
	case msgctl:
	case shmctl:
		e->id = a[0];
		e->cmd_raw = a[1];
		break;
	case semctl:
		e->id = a[0];
		e->nsems = a[1];
		e->cmd_raw = a[2];
		break;
	case semop:
	case semtimedop:
		e->id = a[0];
		e->nsems = a[2];
		break;
	case mq_open:
		e->id = ret < 0 ? -1 : ret;
		e->flags_raw = a[1];
		if (a[1] & 0100) /* O_CREAT: the mode is used */
			e->mode_raw = a[2];
		bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)a[0]);
		break;
	case mq_unlink:
		bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)a[0]);
		break;
	case mq_timedsend:
	case mq_timedreceive:
		e->id = a[0];
		e->size = a[2];
		if (p->call == mq_timedsend)
			e->prio = a[3];
		break;
	}
	eunomia_submit(e);
out:
	bpf_map_delete_elem(&pending, &id);
	return 0;
}

#define IPC_SYSCALL(name, kind)                                         \
	SEC("tp/syscalls/sys_enter_" #name)                             \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)         \
	{                                                               \
		return enter(ctx, name, kind);                          \
	}                                                               \
	SEC("tp/syscalls/sys_exit_" #name)                              \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)           \
	{                                                               \
		return leave(ctx);                                      \
	}

IPC_SYSCALL(msgget, KIND_MSG)
IPC_SYSCALL(msgsnd, KIND_MSG)
IPC_SYSCALL(msgrcv, KIND_MSG)
IPC_SYSCALL(msgctl, KIND_MSG)
IPC_SYSCALL(shmget, KIND_SHM)
IPC_SYSCALL(shmat, KIND_SHM)
IPC_SYSCALL(shmdt, KIND_SHM)
IPC_SYSCALL(shmctl, KIND_SHM)
IPC_SYSCALL(semget, KIND_SEM)
IPC_SYSCALL(semop, KIND_SEM)
IPC_SYSCALL(semtimedop, KIND_SEM)
IPC_SYSCALL(semctl, KIND_SEM)
IPC_SYSCALL(mq_open, KIND_MQ)
IPC_SYSCALL(mq_unlink, KIND_MQ)
IPC_SYSCALL(mq_timedsend, KIND_MQ)
IPC_SYSCALL(mq_timedreceive, KIND_MQ)
