#pragma once
#include "eunomia.h"

/* log2 slots of a call's latency in ns: slot i holds [2^i, 2^(i+1)) ns (slot 0 also 0); the
 * last one everything from 2^35 ns (34 s) up. */
#define FUNCLATENCY_SLOTS 36
/* Calls a thread may have open in traced functions at once (nested or recursive) and still have
 * measured; deeper ones are counted (too_deep), not measured. */
#define FUNCLATENCY_MAX_DEPTH 32
/* Functions one instance attaches (its attach cookies are 0 .. N-1). */
#define FUNCLATENCY_MAX_FUNCS 64

/* One histogram per function and cgroup. */
struct funclatency_key {
	__u64 cgroup_id;
	__u64 func;        /* the function's index in the list user space attached (the attach cookie) */
};

struct funclatency_hist {
	__u32 slots[FUNCLATENCY_SLOTS];    /* calls by log2 of their latency in ns */
	__u64 slot_ns[FUNCLATENCY_SLOTS];  /* the sum of those calls' latencies, per slot */
	__u64 too_deep;    /* calls not measured: the thread had FUNCLATENCY_MAX_DEPTH measured calls open */
	__u64 mismatched;  /* returns that did not find their call on top of the thread's stack */
};

/* The thread's open calls, innermost last. A call is identified by the stack pointer at its
 * entry (which points at its return address): a return pops every call entered below its own
 * stack pointer, which is how calls left by longjmp or an exception are found and dropped. */
struct funclatency_frame {
	__u64 ts_ns;
	__u64 sp;
	__u64 func;
};

struct funclatency_stack {
	__u32 depth;      /* frames in use */
	__u32 overflow;   /* calls open beyond FUNCLATENCY_MAX_DEPTH (not in frames) */
	struct funclatency_frame frames[FUNCLATENCY_MAX_DEPTH];
};
