#pragma once
#include "eunomia.h"

#define IPC_NAME_LEN 256 /* NAME_MAX + 1 */

/* The syscall; decoded as its name. */
enum ipc_call {
	msgget = 1,
	msgsnd,
	msgrcv,
	msgctl,
	shmget,
	shmat,
	shmdt,
	shmctl,
	semget,
	semop,
	semtimedop,
	semctl,
	mq_open,
	mq_unlink,
	mq_timedsend,
	mq_timedreceive,
};

/* One System V or POSIX IPC call, reported when it returns. Fields a call does not have are 0. */
struct ipc_event {
	struct eunomia_common;
	enum ipc_call call;
	__u32 ipc_ns;       /* inode of the IPC namespace: System V keys and ids are per namespace */
	__u32 key;          /* *get: the key asked for (0 = IPC_PRIVATE) */
	__s32 id;           /* System V: the object id (*get: its result); mq_*: the queue descriptor */
	__u32 flags_raw;    /* *get: flag word with the permission bits; msgsnd/msgrcv/shmat: flags; mq_open: oflag */
	__u32 mode_raw;     /* permission bits: *get (from the flags), mq_open (its mode argument) */
	__s32 cmd_raw;      /* *ctl: the command */
	__u32 nsems;        /* semget: semaphores in the set; semop/semtimedop: operations; semctl: semnum */
	__u32 prio;         /* mq_timedsend: the message priority */
	__s64 msgtyp;       /* msgsnd: the message's mtype; msgrcv: the type asked for */
	__u64 size;         /* shmget: segment size; msgsnd/msgrcv, mq send/receive: message bytes (buffer size) */
	__u64 addr;         /* shmat: address asked for; shmdt: address detached */
	__s64 ret;          /* the return value: id, fd, address, bytes or 0; -errno on failure */
	char name[IPC_NAME_LEN]; /* mq_open/mq_unlink: the queue name as the syscall got it */
};
