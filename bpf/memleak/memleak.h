#pragma once
#include "eunomia.h"

/* Frames kept per stack (the kernel's own limit, kernel.perf_event_max_stack, is 127 by default). */
#define MEMLEAK_MAX_DEPTH 127
/* Allocations tracked at once (preallocated: ~7.5 MiB); one more is counted as a map insert failure. */
#define MEMLEAK_MAX_ALLOCS 65536
/* Distinct allocation stacks (127 frames each: ~8.3 MiB); user space drops the ones no allocation refers to. */
#define MEMLEAK_MAX_STACKS 8192
/* Distinct (process, stack) of failed allocations per interval. */
#define MEMLEAK_MAX_FAILURES 1024
/* Processes whose exec or exit is remembered until user space has dropped their allocations. */
#define MEMLEAK_MAX_ENDED 8192

/* What took the memory (struct memleak_alloc.kind). */
#define MEMLEAK_HEAP 0   /* malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
#define MEMLEAK_MMAP 1   /* mmap (libc's wrapper) */
#define MEMLEAK_SLAB 2   /* kmalloc, kmem_cache_alloc */
#define MEMLEAK_PAGE 3   /* the page allocator (mm_page_alloc): by struct page, PAGE_SIZE << order */
#define MEMLEAK_PERCPU 4 /* percpu allocations: the bytes of all CPUs */

/* The user functions ml_alloc_enter is attached to, told apart by the attach cookie. */
#define MEMLEAK_FN_MALLOC 0         /* malloc(size), valloc(size), pvalloc(size) */
#define MEMLEAK_FN_CALLOC 1         /* calloc(n, size) */
#define MEMLEAK_FN_REALLOC 2        /* realloc(ptr, size) */
#define MEMLEAK_FN_MEMALIGN 3       /* aligned_alloc(align, size), memalign(align, size) */
#define MEMLEAK_FN_POSIX_MEMALIGN 4 /* posix_memalign(&ptr, align, size) */
#define MEMLEAK_FN_MMAP 5           /* mmap(addr, length, …) */

/* An outstanding allocation: its address in its process (user mode), or a kernel address with
 * pid 0 (kernel mode: a kernel object is freed from any context). */
struct memleak_key {
	__u64 addr;
	__u32 pid;
	__u32 pad;
};

struct memleak_alloc {
	__u64 size;        /* bytes asked for (user mode), or taken (kernel mode: the slab object size, the pages) */
	__u64 ts_ns;       /* when it was made, CLOCK_MONOTONIC */
	__u64 cgroup_id;   /* of the allocating task */
	__s32 stack_id;    /* in the map `stacks`, or the error bpf_get_stackid returned (negative) */
	__u32 pid;         /* the allocating process (tgid) */
	__u32 kind;        /* MEMLEAK_HEAP … MEMLEAK_PERCPU */
	__u32 tid;         /* the allocating thread */
	char comm[EUNOMIA_COMM_LEN];
};

/* Failed allocations (NULL, MAP_FAILED, a posix_memalign error; in the kernel a NULL kmalloc or
 * page), counted by process and stack; read and cleared every interval. */
struct memleak_failure_key {
	__u32 pid;
	__s32 stack_id;
	__u64 cgroup_id;
	__u32 kind;
	__u32 pad;
	char comm[EUNOMIA_COMM_LEN];
};

struct memleak_failure {
	__u64 count;
	__u64 bytes;   /* the sizes asked for, summed (at most 2^64-1) */
};

/* A thread's allocation call between its entry and its return (task storage). */
struct memleak_call {
	__u64 sp;      /* stack pointer at entry; 0: no call in flight */
	__u64 size;
	__u64 arg;     /* realloc: the old block; posix_memalign: where the pointer is written */
	__u64 ts_ns;   /* realloc: when it was entered */
	__u32 fn;      /* MEMLEAK_FN_* */
	__u32 record;  /* sampled, and within the size bounds */
};
