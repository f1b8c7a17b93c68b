/* Shared by every Eunomia tracker: the common event header, in-kernel filters, and a ring
 * buffer whose drops are counted and whose wake-ups are batched. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "eunomia.h"
#include "container.bpf.h"
#include "exe_ns.bpf.h"

/* Filters, set from user space before load so the verifier prunes what is unused. */
const volatile __u32 eunomia_target_pid = 0;      /* only this process (tgid), 0 = all */
const volatile __u32 eunomia_exclude_pid = 0;     /* never this process: Eunomia itself */
const volatile __u64 eunomia_target_cgroup = 0;   /* only this cgroup v2 id, 0 = all */
/* Container filter over eunomia_cgroups: one of EUNOMIA_FILTER_*. */
const volatile __u32 eunomia_container_filter = 0;
/* Wake the reader only once this many bytes are pending; it polls anyway every few ms.
 * Waking per event costs several µs per event (see PERF-NOTES). 0 = wake on every event. */
const volatile __u64 eunomia_wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Records the ring buffer could not take (full): read and summed over CPUs by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} eunomia_lost SEC(".maps");

#define EUNOMIA_FILTER_OFF 0
#define EUNOMIA_FILTER_WANTED 1     /* only the containers in eunomia_wanted */
#define EUNOMIA_FILTER_HOST 2       /* only processes outside containers */
#define EUNOMIA_FILTER_CONTAINERS 3 /* only processes in containers */

#define EUNOMIA_CG_CONTAINER 1 /* the cgroup belongs to a container */
#define EUNOMIA_CG_WANTED 2    /* ... to one the filter selects */

/* cgroup v2 id -> EUNOMIA_CG_* flags. User space fills it with the cgroups that exist at
 * start; eunomia_cgroup_mkdir adds new ones synchronously, before any task can enter them,
 * so a container started later is filtered from its first event. Absent = host. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} eunomia_cgroups SEC(".maps");

/* The selected containers by the first 12 characters of their id (Docker's short id). */
struct eunomia_cid12 {
	char id[12];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct eunomia_cid12);
	__type(value, __u8);
} eunomia_wanted SEC(".maps");

/* The wanted cgroups again, direct-mapped by the id's low bits (EUNOMIA_FILTER_WANTED): an array
 * lookup the verifier inlines, where a hash lookup cost ~70 ns per call on a hot hook — for
 * every task that is not wanted, which is nearly all of them. A slot holds the one wanted
 * cgroup whose id maps there, 0 (none), or EUNOMIA_CG_SHARED (several: the hash decides).
 * Filled with eunomia_cgroups' WANTED entries, by user space and by eunomia_cgroup_mkdir. */
#define EUNOMIA_WANTED_SLOTS 1024
#define EUNOMIA_CG_SHARED (~0ULL)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EUNOMIA_WANTED_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} eunomia_wanted_cg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct eunomia_cgroup_path);
} eunomia_path_scratch SEC(".maps");

/* clang emits BTF only for types the code names; an event struct reached only through a
 * reserved pointer would be missing. This keeps it, so user space can decode from BTF. */
#define EUNOMIA_EVENT(type) \
	struct type *__eunomia_event_##type __attribute__((unused, section(".eunomia.types")))

static __always_inline bool eunomia_skip_pid(__u32 tgid)
{
	if (eunomia_target_pid && tgid != eunomia_target_pid)
		return true;
	return eunomia_exclude_pid && tgid == eunomia_exclude_pid;
}

/* The cgroup filters, for a program that has the task's cgroup id already. */
static __always_inline bool eunomia_skip_cgroup(__u64 cg)
{
	if (eunomia_target_cgroup && cg != eunomia_target_cgroup)
		return true;
	if (!eunomia_container_filter)
		return false;
	if (eunomia_container_filter == EUNOMIA_FILTER_WANTED) {
		__u32 slot = cg & (EUNOMIA_WANTED_SLOTS - 1);
		__u64 *w = bpf_map_lookup_elem(&eunomia_wanted_cg, &slot);
		if (!w)
			return true;
		if (*w == cg)
			return false;
		if (*w != EUNOMIA_CG_SHARED)
			return true;
	}
	__u32 *f = bpf_map_lookup_elem(&eunomia_cgroups, &cg);
	__u32 flags = f ? *f : 0;
	if (eunomia_container_filter == EUNOMIA_FILTER_WANTED)
		return !(flags & EUNOMIA_CG_WANTED);
	if (eunomia_container_filter == EUNOMIA_FILTER_HOST)
		return flags & EUNOMIA_CG_CONTAINER;
	return !(flags & EUNOMIA_CG_CONTAINER);
}

/* Whether the current task is outside the filters (the cgroup id is fetched only when one needs it). */
static __always_inline bool eunomia_skip(__u32 tgid)
{
	if (eunomia_skip_pid(tgid))
		return true;
	if (!eunomia_target_cgroup && !eunomia_container_filter)
		return false;
	return eunomia_skip_cgroup(bpf_get_current_cgroup_id());
}

static __always_inline void *eunomia_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&eunomia_lost, &zero);
		if (lost)
			*lost += 1;
	}
	return e;
}

/* Set by the reader when nothing came for a while and it sleeps long (saving its wake-ups on
 * an idle host); the next record then wakes it at once, and clears the flag. */
volatile __u32 eunomia_reader_idle = 0;

static __always_inline void eunomia_submit(void *e)
{
	__u64 flags = BPF_RB_FORCE_WAKEUP;
	if (eunomia_reader_idle)
		eunomia_reader_idle = 0;
	else if (eunomia_wakeup_bytes &&
		 bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < eunomia_wakeup_bytes)
		flags = BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline __u32 eunomia_pid_ns(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid up = {};
	bpf_core_read(&up, sizeof(up), &pid->numbers[level & 31]);
	return BPF_CORE_READ(up.ns, ns.inum);
}

/* Fill the common header for the current task. */
static __always_inline void eunomia_fill_common(struct eunomia_common *c, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ugid = bpf_get_current_uid_gid();
	c->ts_ns = bpf_ktime_get_ns();
	c->pid = id >> 32;
	c->tid = (__u32)id;
	c->ppid = BPF_CORE_READ(task, real_parent, tgid);
	c->uid = (__u32)ugid;
	c->gid = ugid >> 32;
	c->cgroup_id = bpf_get_current_cgroup_id();
	c->pid_ns = eunomia_pid_ns(task);
	c->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	c->foreign_exe = eunomia_foreign_exe(task, c->mnt_ns);
	c->user_ns = BPF_CORE_READ(task, cred, user_ns, ns.inum);
	bpf_get_current_comm(c->comm, sizeof(c->comm));
}

/* Puts a wanted cgroup in eunomia_wanted_cg: its slot, or the slot marked shared (user space
 * does the same; the hash holds the WANTED flag either way). */
static __always_inline void eunomia_want_cgroup(__u64 id)
{
	__u32 slot = id & (EUNOMIA_WANTED_SLOTS - 1);
	__u64 *w = bpf_map_lookup_elem(&eunomia_wanted_cg, &slot);
	if (!w)
		return;
	__u64 was = __sync_val_compare_and_swap(w, 0, id);
	if (was != 0 && was != id)
		*w = EUNOMIA_CG_SHARED;
}

/* Loaded only when a container filter is on: classifies each new v2 cgroup as it is made. */
SEC("tp/cgroup/cgroup_mkdir")
int eunomia_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
	/* Per-CPU scratch: 256 bytes would not fit the 512-byte stack next to the rest. */
	__u32 zero = 0;
	struct eunomia_cgroup_path *buf = bpf_map_lookup_elem(&eunomia_path_scratch, &zero);
	if (!buf)
		return 0;
	int at = eunomia_mkdir_cid(ctx, buf->path);
	if (at < 0)
		return 0;
	struct eunomia_cid12 key = {};
	bpf_probe_read_kernel(key.id, sizeof(key.id), &buf->path[at]);
	__u32 flags = EUNOMIA_CG_CONTAINER;
	__u64 id = ctx->id;
	if (bpf_map_lookup_elem(&eunomia_wanted, &key)) {
		flags |= EUNOMIA_CG_WANTED;
		eunomia_want_cgroup(id);
	}
	bpf_map_update_elem(&eunomia_cgroups, &id, &flags, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
