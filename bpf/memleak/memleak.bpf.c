/* memleak: outstanding allocations by stack, like bcc's memleak. Each allocation is kept in the
 * hash `allocs` (address → size, time, stack id) until it is freed; user space reads the map
 * every interval and reports, grouped by stack, the ones older than --min-age.
 *
 * User mode (-p, --container): uprobes on the C library's allocator. ml_alloc_enter runs at the
 * entry of malloc, calloc, realloc, posix_memalign, aligned_alloc/memalign, valloc, pvalloc and
 * mmap (the attach cookie says which) and keeps the call's size in the thread's task storage;
 * ml_alloc_return, at its return, records the block with the user stack. A call made inside
 * another traced call of the same thread (realloc(NULL, n) → malloc, malloc → mmap for a large
 * block) is left to the outer one, which is what the program asked for. ml_free (free, munmap)
 * forgets a block. ml_exec and ml_exit note when a traced process's address space ends, so
 * user space drops what it held.
 *
 * Kernel mode: the kmem tracepoints (slab, pages) and percpu allocations, with kernel stacks.
 *
 * --sample-rate N records one allocation in N (chosen at random), --min-size/--max-size bound
 * the sizes recorded; frees are always looked up. Failed allocations are counted by stack,
 * whatever the sampling. An allocation the map cannot take is a map insert failure. */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "memleak.h"

const volatile __u32 sample_rate = 1; /* record one allocation in this many */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEMLEAK_MAX_ALLOCS);
	__type(key, struct memleak_key);
	__type(value, struct memleak_alloc);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEMLEAK_MAX_FAILURES);
	__type(key, struct memleak_failure_key);
	__type(value, struct memleak_failure);
} failures SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, MEMLEAK_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MEMLEAK_MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* The thread's call in flight: made on its first traced call, freed when it exits, never full. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct memleak_call);
} calls SEC(".maps");

/* tgid → when its address space ended (exec, or the last thread's exit), CLOCK_MONOTONIC. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MEMLEAK_MAX_ENDED);
	__type(key, __u32);
	__type(value, __u64);
} ended SEC(".maps");

static __always_inline bool in_bounds(__u64 size)
{
	return size >= min_size && size <= max_size;
}

static __always_inline bool sampled(void)
{
	return sample_rate <= 1 || bpf_get_prandom_u32() % sample_rate == 0;
}

static __always_inline void record(void *ctx, __u64 addr, __u32 key_pid, __u64 size, __u32 kind, __u64 stack_flags)
{
	struct memleak_key key = { .addr = addr, .pid = key_pid };
	struct memleak_alloc a = {};
	__u64 id = bpf_get_current_pid_tgid();
	a.size = size;
	a.ts_ns = bpf_ktime_get_ns();
	a.cgroup_id = bpf_get_current_cgroup_id();
	a.stack_id = bpf_get_stackid(ctx, &stacks, stack_flags);
	a.pid = id >> 32;
	a.tid = (__u32)id;
	a.kind = kind;
	bpf_get_current_comm(a.comm, sizeof(a.comm));
	/* BPF_ANY: a block at an address whose free was never seen (made before the start) is replaced */
	if (bpf_map_update_elem(&allocs, &key, &a, BPF_ANY))
		eunomia_map_insert_failed();
}

/* Forgets a block. A lookup first: most frees are of blocks never recorded (made before the
 * start, or not sampled), and a lookup takes no lock. `before`: only a block recorded before
 * then (realloc frees the old block inside the call: another thread may have it again since). */
static __always_inline void forget(__u64 addr, __u32 key_pid, __u64 before)
{
	struct memleak_key key = { .addr = addr, .pid = key_pid };
	struct memleak_alloc *a = bpf_map_lookup_elem(&allocs, &key);
	if (a && a->ts_ns <= before)
		bpf_map_delete_elem(&allocs, &key);
}

static __always_inline void count_failure(void *ctx, __u64 size, __u32 kind, __u64 stack_flags)
{
	struct memleak_failure_key key = {};
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.cgroup_id = bpf_get_current_cgroup_id();
	key.stack_id = bpf_get_stackid(ctx, &stacks, stack_flags);
	key.kind = kind;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	struct memleak_failure *f = bpf_map_lookup_elem(&failures, &key);
	if (!f) {
		struct memleak_failure zero = {};
		/* -EEXIST: another CPU made it first; the lookup finds that one */
		long err = bpf_map_update_elem(&failures, &key, &zero, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&failures, &key);
		if (!f) {
			if (err)
				eunomia_map_insert_failed();
			return;
		}
	}
	__sync_fetch_and_add(&f->count, 1);
	__u64 sum = f->bytes + size;
	f->bytes = sum < size ? ~0ULL : sum; /* failures are rare: a racing add may be lost, never the count */
}

/* ---- user mode ---- */

SEC("uprobe")
int ml_alloc_enter(struct pt_regs *ctx)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return 0;
	struct memleak_call *c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c) {
		eunomia_map_insert_failed(); /* no memory for the thread's state: the call is not seen */
		return 0;
	}
	__u64 sp = PT_REGS_SP(ctx);
	/* Inside a traced call of this thread (its entry is higher up the stack): the outer call
	 * records the block. A call whose return was never seen is left behind by the next call
	 * made from as high or higher. */
	if (c->sp > sp)
		return 0;
	__u32 fn = bpf_get_attach_cookie(ctx);
	__u64 size = 0, arg = 0;
	switch (fn) {
	case MEMLEAK_FN_CALLOC: {
		__u64 n = PT_REGS_PARM1(ctx), each = PT_REGS_PARM2(ctx);
		if (n && each > 0xffffffffULL / n) {
			/* may overflow: saturate (calloc then fails) */
			__u64 limit = ~0ULL / n;
			barrier_var(limit); /* else clang checks with a 128-bit multiply, which BPF lacks */
			size = each > limit ? ~0ULL : n * each;
		} else {
			size = n * each;
		}
		break;
	}
	case MEMLEAK_FN_REALLOC:
		arg = PT_REGS_PARM1(ctx);
		size = PT_REGS_PARM2(ctx);
		break;
	case MEMLEAK_FN_MEMALIGN:
	case MEMLEAK_FN_MMAP:
		size = PT_REGS_PARM2(ctx);
		break;
	case MEMLEAK_FN_POSIX_MEMALIGN:
		arg = PT_REGS_PARM1(ctx);
		size = PT_REGS_PARM3(ctx);
		break;
	default:
		size = PT_REGS_PARM1(ctx);
	}
	c->sp = sp;
	c->size = size;
	c->arg = arg;
	c->fn = fn;
	c->record = in_bounds(size) && sampled();
	c->ts_ns = fn == MEMLEAK_FN_REALLOC ? bpf_ktime_get_ns() : 0;
	return 0;
}

SEC("uretprobe")
int ml_alloc_return(struct pt_regs *ctx)
{
	struct memleak_call *c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, 0);
	if (!c || !c->sp)
		return 0;
	/* The return pops the return address: its stack pointer is above the entry's. One at or
	 * below it is the return of a call nested inside. */
	if (PT_REGS_SP(ctx) <= c->sp)
		return 0;
	c->sp = 0;
	__u64 ret = PT_REGS_RC(ctx);
	__u64 size = c->size, arg = c->arg;
	__u32 fn = c->fn, tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 kind = fn == MEMLEAK_FN_MMAP ? MEMLEAK_MMAP : MEMLEAK_HEAP;
	bool failed;
	__u64 addr = ret;
	switch (fn) {
	case MEMLEAK_FN_POSIX_MEMALIGN:
		failed = (int)ret != 0;
		if (!failed && bpf_probe_read_user(&addr, sizeof(addr), (void *)arg))
			return 0;
		break;
	case MEMLEAK_FN_MMAP:
		failed = ret == ~0ULL; /* MAP_FAILED */
		break;
	case MEMLEAK_FN_REALLOC:
		/* The old block is gone once a block is returned (moved or grown in place), or when
		 * realloc(p, 0) frees it; a failed realloc leaves it. */
		if (arg && (ret || size == 0))
			forget(arg, tgid, c->ts_ns);
		if (arg && size == 0)
			return 0;
		/* fall through */
	default:
		failed = ret == 0 && size != 0; /* malloc(0) may return NULL */
	}
	if (failed) {
		count_failure(ctx, size, kind, BPF_F_USER_STACK);
		return 0;
	}
	if (c->record && addr)
		record(ctx, addr, tgid, size, kind, BPF_F_USER_STACK);
	return 0;
}

/* free(ptr), munmap(addr, length): the block at the first argument is gone. */
SEC("uprobe")
int ml_free(struct pt_regs *ctx)
{
	__u64 addr = PT_REGS_PARM1(ctx);
	if (!addr)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;
	forget(addr, tgid, ~0ULL);
	return 0;
}

static __always_inline void note_ended(__u32 tgid)
{
	if (eunomia_skip(tgid))
		return;
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&ended, &tgid, &now, BPF_ANY);
}

/* A new program: the blocks of the old one are gone with its address space. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ml_exec, struct task_struct *p)
{
	note_ended(p->tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ml_exit, struct task_struct *p)
{
	/* The last thread of the process: signal->live is 0 from the moment it starts exiting. */
	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		note_ended(p->tgid);
	return 0;
}

/* ---- kernel mode ---- */

static __always_inline void kernel_alloc(void *ctx, const void *ptr, __u64 size, __u32 kind)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return;
	if (!ptr) {
		if (size)
			count_failure(ctx, size, kind, 0);
		return;
	}
	if ((__u64)ptr <= 16)
		return; /* ZERO_SIZE_PTR: kmalloc(0), nothing allocated */
	if (in_bounds(size) && sampled())
		record(ctx, (__u64)ptr, 0, size, kind, 0);
}

SEC("tp_btf/kmalloc")
int BPF_PROG(ml_kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req, size_t bytes_alloc)
{
	__u64 req = bytes_req, taken = bytes_alloc;
	/* both loaded: a load from ctx at a chosen offset is refused */
	barrier_var(req);
	barrier_var(taken);
	kernel_alloc(ctx, ptr, ptr ? taken : req, MEMLEAK_SLAB);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(ml_kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s)
{
	kernel_alloc(ctx, ptr, BPF_CORE_READ(s, size), MEMLEAK_SLAB);
	return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(ml_kfree, unsigned long call_site, const void *ptr)
{
	if (ptr)
		forget((__u64)ptr, 0, ~0ULL);
	return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(ml_kmem_cache_free, unsigned long call_site, const void *ptr)
{
	if (ptr)
		forget((__u64)ptr, 0, ~0ULL);
	return 0;
}

/* Pages are known by their struct page (the head page of a higher-order block). */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(ml_page_alloc, struct page *page, unsigned int order)
{
	kernel_alloc(ctx, page, (__u64)4096 << (order & 31), MEMLEAK_PAGE);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(ml_page_free, struct page *page)
{
	forget((__u64)page, 0, ~0ULL);
	return 0;
}

SEC("tp_btf/mm_page_free_batched")
int BPF_PROG(ml_page_free_batched, struct page *page)
{
	forget((__u64)page, 0, ~0ULL);
	return 0;
}

/* percpu_alloc_percpu(call_site, reserved, is_atomic, size, align, base_addr, off, ptr,
 * bytes_alloc, gfp): more arguments than BPF_PROG names, so by position. */
SEC("tp_btf/percpu_alloc_percpu")
int ml_percpu_alloc(__u64 *ctx)
{
	const void *ptr = (const void *)ctx[7];
	__u64 req = ctx[3], taken = ctx[8];
	barrier_var(req);
	barrier_var(taken);
	kernel_alloc(ctx, ptr, ptr ? taken : req, MEMLEAK_PERCPU);
	return 0;
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(ml_percpu_free, void *base_addr, int off, void *ptr)
{
	if (ptr)
		forget((__u64)ptr, 0, ~0ULL);
	return 0;
}
