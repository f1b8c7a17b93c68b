/* Connect tracking shared by tcpconnect and tcpconnlat, from sock:inet_sock_set_state.
 * CLOSE->SYN_SENT runs in the connecting process; the end of SYN_SENT (established, refused,
 * timed out) usually runs in softirq. So the process is remembered per sock in between, and
 * events leaving SYN_SENT carry the stored header, not current's. */
#pragma once
#include "sock.bpf.h"

/* LRU: a sock that never leaves SYN_SENT while we watch must not hold an entry forever.
 * The stored ts_ns is when the SYN state began. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct eunomia_common);
} connecting SEC(".maps");

/* At CLOSE->SYN_SENT: remember the connecting process (current) for this sock. */
static __always_inline void connect_remember(__u64 sk)
{
	struct eunomia_common c;
	eunomia_fill_common(&c, (struct task_struct *)bpf_get_current_task());
	bpf_map_update_elem(&connecting, &sk, &c, BPF_ANY);
}

/* Leaving SYN_SENT: the connecting process stored for this sock, or NULL when it was not
 * tracked (filtered, or started before the tracker). The caller deletes the entry. */
static __always_inline struct eunomia_common *connect_lookup(__u64 sk)
{
	return bpf_map_lookup_elem(&connecting, &sk);
}

static __always_inline void connect_forget(__u64 sk)
{
	bpf_map_delete_elem(&connecting, &sk);
}
