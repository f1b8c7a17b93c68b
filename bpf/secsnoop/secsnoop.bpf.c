/* secsnoop: attempts of security-relevant syscalls, with their arguments — loading BPF
 * programs, kernel modules and kexec images, ptrace writes and attaches, raw and packet
 * sockets, connects to unix sockets (and inet connects that fail before any packet), namespace
 * changes, memfds, stdio redirected to a socket, setuid/setgid chmods, userfaultfd, links
 * made, deletions and renames of logs, binaries and shell histories, new directories among
 * the binaries, times set on system files, extended attributes, device nodes, reboot, and
 * filters attached to sockets.
 * One syscall tracepoint per call, at entry: an attempt is reported whether or not the call
 * then succeeds. The argument filters run first, so a call left out (a debugger's PEEKDATA,
 * a TCP socket, a chmod 0644, a setsockopt(SO_REUSEADDR)) costs a few instructions; one
 * filtered on its path (an unlink or rename in /tmp) costs reading and comparing the path,
 * and a relative one also building its directory's path. Strings are read
 * at entry, before the kernel has touched them: one in memory that is not paged in yet reads
 * as "". Two exceptions:
 * - the module and kexec calls on a kernel that compiles them out (no syscalls: tracepoint,
 *   yet an attempt is still an attacker's move): one raw_syscalls:sys_enter program, which
 *   runs for every syscall on the host and returns after comparing the syscall number. User
 *   space attaches it only on such kernels.
 * - an inet connect is reported at its exit, with the result, and only when it failed before
 *   its SYN was queued (no route, refused by a local rule …): the tcpconnect tracker reports
 *   the connects that get that far, so the two do not report the same attempt. */
#include "eunomia.bpf.h"
#include "sock.bpf.h"
#include "secsnoop.h"

EUNOMIA_EVENT(sec_event);

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_ISUID 04000
#define S_ISGID 02000
#define AF_UNIX 1
#define AF_NETLINK 16
#define AF_PACKET 17
#define SOCK_RAW 3
#define SOCK_TYPE_MASK 0xf /* the type without SOCK_NONBLOCK and SOCK_CLOEXEC */
#define UNIX_PATH_MAX 108
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define AT_FDCWD -100

#define PTRACE_TRACEME 0
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206

/* union bpf_attr for BPF_PROG_LOAD (UAPI, fixed): prog_type at 0, prog_name[16] at 48. */
#define ATTR_PROG_NAME 48
#define BPF_OBJ_NAME_LEN 16

/* A reserved event with the common header, the call and its arguments; NULL when this
 * process is filtered out or the ring buffer is full. */
static __always_inline struct sec_event *begin(enum sec_call call, __s64 a0, __s64 a1, __s64 a2)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return NULL;
	struct sec_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return NULL;
	eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
	e->call = call;
	e->arg_raw[0] = a0;
	e->arg_raw[1] = a1;
	e->arg_raw[2] = a2;
	e->str_raw[0] = 0;
	e->str2_raw[0] = 0;
	return e;
}

static __always_inline int report(enum sec_call call, __s64 a0, __s64 a1, __s64 a2)
{
	struct sec_event *e = begin(call, a0, a1, a2);
	if (e)
		eunomia_submit(e);
	return 0;
}

static __always_inline int report_str(enum sec_call call, __s64 a0, __s64 a1, __u64 str)
{
	struct sec_event *e = begin(call, a0, a1, 0);
	if (!e)
		return 0;
	if (bpf_probe_read_user_str(e->str_raw, sizeof(e->str_raw), (void *)str) < 0)
		e->str_raw[0] = 0;
	eunomia_submit(e);
	return 0;
}

/* Only program loads: the other commands (map lookups, object queries) are routine. */
SEC("tp/syscalls/sys_enter_bpf")
int enter_bpf(struct trace_event_raw_sys_enter *ctx)
{
	if ((int)ctx->args[0] != BPF_PROG_LOAD)
		return 0;
	void *attr = (void *)ctx->args[1];
	__u32 size = ctx->args[2];
	__u32 type = 0;
	__s64 prog_type = size >= sizeof(type) && !bpf_probe_read_user(&type, sizeof(type), attr) ? type : -1;
	struct sec_event *e = begin(bpf, BPF_PROG_LOAD, prog_type, size);
	if (!e)
		return 0;
	/* the kernel reads only `size` bytes of the attr: past them the name was not given */
	if (size >= ATTR_PROG_NAME + BPF_OBJ_NAME_LEN &&
	    !bpf_probe_read_user(e->str_raw, BPF_OBJ_NAME_LEN, attr + ATTR_PROG_NAME))
		e->str_raw[BPF_OBJ_NAME_LEN] = 0;
	else
		e->str_raw[0] = 0;
	eunomia_submit(e);
	return 0;
}

/* Requests that take control of or write into another process; a debugger's many reads
 * (PEEK*, GETREGS) are left out. */
SEC("tp/syscalls/sys_enter_ptrace")
int enter_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	long request = ctx->args[0];
	switch (request) {
	case PTRACE_TRACEME:
		return report(ptrace, request, 0, 0); /* the pid argument is ignored */
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
	case PTRACE_POKEUSR:
	case PTRACE_SETREGS:
	case PTRACE_ATTACH:
	case PTRACE_SETREGSET:
	case PTRACE_SEIZE:
		return report(ptrace, request, (__s32)ctx->args[1], 0);
	}
	return 0;
}

/* Packet sockets and raw sockets (sniffing, crafted packets). Netlink sockets are SOCK_RAW by
 * convention (every `ip`, and glibc's getaddrinfo, opens one): left out. */
SEC("tp/syscalls/sys_enter_socket")
int enter_socket(struct trace_event_raw_sys_enter *ctx)
{
	int family = ctx->args[0];
	int type = ctx->args[1];
	if (family != AF_PACKET && ((type & SOCK_TYPE_MASK) != SOCK_RAW || family == AF_NETLINK))
		return 0;
	return report(socket, family, type, (int)ctx->args[2]);
}

/* A TCP connect between its entry and its exit, by thread (pid_tgid). */
struct pending_connect {
	__u8 addr[16];
	struct sock *sk; /* held by the call's file reference until its exit */
	__u32 write_seq; /* at entry: it changes once a SYN is queued (tcp_connect) */
	__s32 fd;
	__u16 family;
	__u16 port; /* host byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct pending_connect);
} connects SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&eunomia_lost, &zero);
	if (lost)
		*lost += 1;
}

/* A new connect of an unconnected TCP socket: remembered until its exit. Other inet sockets
 * are left out: a UDP connect sends nothing (glibc's getaddrinfo makes one per candidate
 * address, failing with ENETUNREACH for each IPv6 one on an IPv4-only host). */
static __always_inline int inet_connect(int fd, void *addr, __u16 family)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	struct socket *sock = sock_from_fd((struct task_struct *)bpf_get_current_task(), fd);
	if (!sock || BPF_CORE_READ(sock, state) != SS_UNCONNECTED)
		return 0; /* a second connect of a socket in progress: no new attempt */
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || sock_protocol(sk) != IPPROTO_TCP || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		return 0;
	struct pending_connect p = { .sk = sk, .write_seq = BPF_CORE_READ((struct tcp_sock *)sk, write_seq), .fd = fd, .family = family };
	__u16 port = 0;
	bpf_probe_read_user(&port, sizeof(port), addr + 2); /* sin_port and sin6_port */
	p.port = sock_ntohs(port);
	if (family == AF_INET)
		bpf_probe_read_user(p.addr, 4, addr + 4); /* sin_addr */
	else
		bpf_probe_read_user(p.addr, 16, addr + 8); /* sin6_addr */
	if (bpf_map_update_elem(&connects, &id, &p, BPF_ANY))
		count_lost(); /* map full: this attempt goes unreported, counted */
	return 0;
}

/* Connects to unix sockets (the way to a container runtime's or another daemon's API), at
 * entry; new TCP connects, remembered for their exit. */
SEC("tp/syscalls/sys_enter_connect")
int enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	void *addr = (void *)ctx->args[1];
	int len = ctx->args[2];
	__u16 family = 0;
	if (bpf_probe_read_user(&family, sizeof(family), addr))
		return 0;
	if (family == AF_INET || family == AF_INET6)
		return inet_connect(ctx->args[0], addr, family);
	if (family != AF_UNIX)
		return 0;
	struct sec_event *e = begin(connect, (int)ctx->args[0], family, 0);
	if (!e)
		return 0;
	/* sun_path ends at addrlen, NUL-terminated or not; an abstract name starts with a NUL */
	__u32 n = len > (int)sizeof(family) ? len - sizeof(family) : 0;
	if (n > UNIX_PATH_MAX)
		n = UNIX_PATH_MAX;
	n &= SEC_STR_LEN - 1;
	if (n && !bpf_probe_read_user(e->str_raw, n, addr + sizeof(family))) {
		e->str_raw[n] = 0;
		if (!e->str_raw[0])
			e->str_raw[0] = '@';
	} else {
		e->str_raw[0] = 0;
	}
	eunomia_submit(e);
	return 0;
}

/* A TCP connect that failed before its SYN was queued: ENETUNREACH, EHOSTUNREACH, EACCES …
 * Once tcp_v4_connect/tcp_v6_connect get that far (the socket went to SYN_SENT: tcpconnect's)
 * write_seq has changed: set to the initial sequence number, advanced past the SYN, moved on
 * by the disconnect after a refused or timed-out handshake. A failure before leaves it as it
 * was. Telling it from the socket at exit costs one read per connect; a program on
 * sock:inet_sock_set_state would run on every TCP state change of the host. */
SEC("tp/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_connect *p = bpf_map_lookup_elem(&connects, &id);
	if (!p)
		return 0;
	long ret = ctx->ret;
	struct tcp_sock *tp = (struct tcp_sock *)p->sk; /* a plain local: no CO-RE relocation against the map value */
	if (ret < 0 && BPF_CORE_READ(tp, write_seq) == p->write_seq) {
		struct sec_event *e = begin(connect, p->fd, p->family | (__s64)p->port << 16, ret);
		if (e) {
			__builtin_memcpy(e->addr_raw, p->addr, sizeof(e->addr_raw));
			eunomia_submit(e);
		}
	}
	bpf_map_delete_elem(&connects, &id);
	return 0;
}

SEC("tp/syscalls/sys_enter_setns")
int enter_setns(struct trace_event_raw_sys_enter *ctx)
{
	return report(setns, (int)ctx->args[0], (int)ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_unshare")
int enter_unshare(struct trace_event_raw_sys_enter *ctx)
{
	return report(unshare, ctx->args[0], 0, 0);
}

SEC("tp/syscalls/sys_enter_memfd_create")
int enter_memfd_create(struct trace_event_raw_sys_enter *ctx)
{
	return report_str(memfd_create, (__u32)ctx->args[1], 0, ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_init_module")
int enter_init_module(struct trace_event_raw_sys_enter *ctx)
{
	return report(init_module, ctx->args[1], 0, 0);
}

SEC("tp/syscalls/sys_enter_finit_module")
int enter_finit_module(struct trace_event_raw_sys_enter *ctx)
{
	return report(finit_module, (int)ctx->args[0], (int)ctx->args[2], 0);
}

SEC("tp/syscalls/sys_enter_delete_module")
int enter_delete_module(struct trace_event_raw_sys_enter *ctx)
{
	return report_str(delete_module, (__u32)ctx->args[1], 0, ctx->args[0]);
}

/* The module and kexec calls on a kernel without their syscalls: tracepoints (compiled out:
 * they fail with ENOSYS, but raw_syscalls:sys_enter still fires with their number). This runs
 * on EVERY syscall of the host while attached: the number is compared first, and nothing
 * else happens for any other syscall. x86-64 numbers; a 32-bit (ia32) call has its own
 * numbering (175 is its rt_sigprocmask), so such calls are left out, as the syscalls:
 * tracepoints leave them out. */
#define NR_INIT_MODULE 175
#define NR_DELETE_MODULE 176
#define NR_KEXEC_LOAD 246
#define NR_FINIT_MODULE 313
#define NR_KEXEC_FILE_LOAD 320
#define TS_COMPAT 0x0002 /* thread_info.status: a 32-bit syscall is running */

static __noinline int module_kexec(long nr, struct pt_regs *regs)
{
#ifdef __TARGET_ARCH_x86
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, thread_info.status) & TS_COMPAT)
		return 0;
	switch (nr) {
	case NR_INIT_MODULE:
		return report(init_module, PT_REGS_PARM2_CORE_SYSCALL(regs), 0, 0);
	case NR_FINIT_MODULE:
		return report(finit_module, (int)PT_REGS_PARM1_CORE_SYSCALL(regs), (int)PT_REGS_PARM3_CORE_SYSCALL(regs), 0);
	case NR_DELETE_MODULE:
		return report_str(delete_module, (__u32)PT_REGS_PARM2_CORE_SYSCALL(regs), 0, PT_REGS_PARM1_CORE_SYSCALL(regs));
	case NR_KEXEC_LOAD:
		return report(kexec_load, PT_REGS_PARM4_CORE_SYSCALL(regs), 0, 0);
	case NR_KEXEC_FILE_LOAD:
		return report(kexec_file_load, PT_REGS_PARM5_CORE_SYSCALL(regs), 0, 0);
	}
#endif
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_module_kexec(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	if (nr != NR_INIT_MODULE && nr != NR_FINIT_MODULE && nr != NR_DELETE_MODULE && nr != NR_KEXEC_LOAD &&
	    nr != NR_KEXEC_FILE_LOAD)
		return 0;
	return module_kexec(nr, (struct pt_regs *)ctx->args[0]);
}

/* Sockets a process got from accept(): a server that puts one on its stdio serves that peer
 * (inetd, busybox httpd, tcpsvd), where a process putting a socket it connected itself there
 * wires up a reverse shell. struct sock -> its ports at accept, so that a freed sock's address
 * reused for another connection is not taken for the accepted one. LRU: old ones make room. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} accepted SEC(".maps");

static __always_inline __u32 sock_ports(struct sock *sk)
{
	return (__u32)BPF_CORE_READ(sk, __sk_common.skc_num) << 16 | BPF_CORE_READ(sk, __sk_common.skc_dport);
}

static __always_inline int accepted_fd(long fd)
{
	if (fd < 0)
		return 0;
	struct socket *sock = sock_from_fd((struct task_struct *)bpf_get_current_task(), fd);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk)
		return 0;
	__u64 key = (__u64)sk;
	__u32 ports = sock_ports(sk);
	bpf_map_update_elem(&accepted, &key, &ports, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accepted_fd(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accepted_fd(ctx->ret);
}

/* stdin, stdout or stderr replaced by a socket: how a reverse shell wires itself up (bit 32 of
 * the third argument: the socket came from accept()). */
static __always_inline int redirect(enum sec_call call, struct trace_event_raw_sys_enter *ctx)
{
	__u32 oldfd = ctx->args[0];
	__u32 newfd = ctx->args[1];
	if (newfd > 2 || oldfd == newfd) /* oldfd == newfd: nothing is replaced */
		return 0;
	struct socket *sock = sock_from_fd((struct task_struct *)bpf_get_current_task(), oldfd);
	if (!sock || (BPF_CORE_READ(sock, file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	/* the type tells a stream (a shell's connection) from busybox ping keeping its ICMP socket in fd 0 */
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 type = BPF_CORE_READ(sock, type);
	__u64 key = (__u64)sk;
	__u32 *ports = bpf_map_lookup_elem(&accepted, &key);
	__s64 from_accept = ports && *ports == sock_ports(sk);
	return report(call, oldfd, newfd, from_accept << 32 | (__s64)type << 16 | family);
}

SEC("tp/syscalls/sys_enter_dup2")
int enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	return redirect(dup2, ctx);
}

SEC("tp/syscalls/sys_enter_dup3")
int enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	return redirect(dup3, ctx);
}

/* Only modes that set the set-user-ID or set-group-ID bit. The kernel takes the mode as
 * umode_t and keeps its 07777 bits; so does this. */
static __always_inline int setid_chmod(enum sec_call call, __s32 fd, __u64 path, __u64 mode)
{
	__u32 m = (__u16)mode & 07777;
	if (!(m & (S_ISUID | S_ISGID)))
		return 0;
	if (!path)
		return report(call, m, fd, 0);
	return report_str(call, m, fd, path);
}

SEC("tp/syscalls/sys_enter_chmod")
int enter_chmod(struct trace_event_raw_sys_enter *ctx)
{
	return setid_chmod(chmod, -100 /* AT_FDCWD */, ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_fchmod")
int enter_fchmod(struct trace_event_raw_sys_enter *ctx)
{
	return setid_chmod(fchmod, ctx->args[0], 0, ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_fchmodat")
int enter_fchmodat(struct trace_event_raw_sys_enter *ctx)
{
	return setid_chmod(fchmodat, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_fchmodat2")
int enter_fchmodat2(struct trace_event_raw_sys_enter *ctx)
{
	return setid_chmod(fchmodat2, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_userfaultfd")
int enter_userfaultfd(struct trace_event_raw_sys_enter *ctx)
{
	return report(userfaultfd, (int)ctx->args[0], 0, 0);
}

SEC("tp/syscalls/sys_enter_kexec_load")
int enter_kexec_load(struct trace_event_raw_sys_enter *ctx)
{
	return report(kexec_load, ctx->args[3], 0, 0);
}

SEC("tp/syscalls/sys_enter_kexec_file_load")
int enter_kexec_file_load(struct trace_event_raw_sys_enter *ctx)
{
	return report(kexec_file_load, ctx->args[4], 0, 0);
}

/* Links made: the new link's path and what it points to, both as given (a relative path is
 * relative to the working directory or the dirfd; a symlink's target to the link's directory). */
static __always_inline int report_link(enum sec_call call, __s64 flags, __u64 target, __u64 path)
{
	struct sec_event *e = begin(call, flags, 0, 0);
	if (!e)
		return 0;
	if (bpf_probe_read_user_str(e->str_raw, sizeof(e->str_raw), (void *)path) < 0)
		e->str_raw[0] = 0;
	if (bpf_probe_read_user_str(e->str2_raw, sizeof(e->str2_raw), (void *)target) < 0)
		e->str2_raw[0] = 0;
	eunomia_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_enter_symlink")
int enter_symlink(struct trace_event_raw_sys_enter *ctx)
{
	return report_link(symlink, 0, ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_symlinkat")
int enter_symlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return report_link(symlinkat, 0, ctx->args[0], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_link")
int enter_link(struct trace_event_raw_sys_enter *ctx)
{
	return report_link(link, 0, ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_linkat")
int enter_linkat(struct trace_event_raw_sys_enter *ctx)
{
	return report_link(linkat, (int)ctx->args[4], ctx->args[1], ctx->args[3]);
}

/* File calls filtered on their path: deletions and renames below /var/log or a binary
 * directory, or of a shell history file; new directories in a binary directory; times set on
 * system files. Files are deleted, renamed and created all the time (temporary files, builds,
 * package managers), so the path decides in the kernel, before anything is reserved: an
 * absolute one is compared as given; a relative one (rm -r and find -delete delete through a
 * directory fd, `cd /var/log; rm x` through the working directory) is joined to its directory,
 * whose path is built from the dentries up to the root of the caller's mount namespace.
 * Neither `..` nor symlinks are resolved. */
#define PATH_BUF 512 /* [ directory, built backwards to DIR_END ][ '/' ][ the path as given ] */
#define DIR_END 255
#define ARG_AT 256
#define PATH_DEPTH 32

/* Two path buffers: a rename's old and new paths. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[2 * PATH_BUF]);
} path_scratch SEC(".maps");

struct walk {
	char *buf;
	struct dentry *d;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 pos;
	__u8 end; /* 1: reached the root of the mount namespace; 2: no path (too long, unlinked) */
};

/* One path component (or mount crossing) per call: bpf_loop verifies the body once. */
static long walk_step(__u32 i, struct walk *w)
{
	/* Plain locals: CO-RE relocations must not be recorded against struct walk. */
	struct dentry *d = w->d;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	if (d == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (mp == mnt) {
			w->end = 1;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mp;
		w->vfsmnt = &mp->mnt;
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct qstr name = BPF_CORE_READ(d, d_name);
	__u32 len = name.len & 255;
	__u32 pos = w->pos;
	if (d == parent || len + 1 > pos || pos > DIR_END) {
		w->end = 2;
		return 1;
	}
	pos -= len;
	bpf_probe_read_kernel(&w->buf[pos & 255], len, name.name);
	pos -= 1;
	w->buf[pos & 255] = '/';
	w->pos = pos;
	w->d = parent;
	return 0;
}

/* Where the path of dfd's file (the working directory for AT_FDCWD) begins in buf (it ends at
 * DIR_END), or -1 when it has no path in the mount namespace. */
static __always_inline int dir_path(char *buf, int dfd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct walk w = { .buf = buf, .pos = DIR_END };
	if (dfd == AT_FDCWD) {
		w.d = BPF_CORE_READ(task, fs, pwd.dentry);
		w.vfsmnt = BPF_CORE_READ(task, fs, pwd.mnt);
	} else {
		struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
		if (dfd < 0 || dfd >= BPF_CORE_READ(fdt, max_fds))
			return -1;
		struct file **fds = BPF_CORE_READ(fdt, fd);
		struct file *file = NULL;
		if (bpf_probe_read_kernel(&file, sizeof(file), &fds[dfd]) || !file)
			return -1;
		w.d = BPF_CORE_READ(file, f_path.dentry);
		w.vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	}
	w.mnt = container_of(w.vfsmnt, struct mount, mnt);
	bpf_loop(PATH_DEPTH, walk_step, &w, 0);
	return w.end == 1 ? (int)w.pos : -1;
}

/* A path argument read into buf (one PATH_BUF) and made absolute. Returns where it starts in
 * buf (-1: unreadable, or empty) and sets *end to its NUL's index. A relative path whose
 * directory has no path (deleted, deeper than PATH_DEPTH) stays as given; with `fd_itself`, a
 * NULL or empty one names dfd's own file (futimens, AT_EMPTY_PATH, fsetxattr). */
static __always_inline int full_path(char *buf, int dfd, __u64 upath, bool fd_itself, int *end)
{
	long n = upath ? bpf_probe_read_user_str(&buf[ARG_AT], PATH_BUF - ARG_AT, (void *)upath) : 1;
	if (n < 1 || n > PATH_BUF - ARG_AT || (n == 1 && !fd_itself))
		return -1;
	*end = ARG_AT + n - 1;
	if (n > 1 && buf[ARG_AT] == '/')
		return ARG_AT;
	int at = dir_path(buf, dfd);
	if (at < 0)
		return n > 1 ? ARG_AT : -1;
	if (n == 1) {
		buf[DIR_END] = 0;
		*end = DIR_END;
	} else {
		buf[DIR_END] = '/';
	}
	return at;
}

/* Eight characters as the little-endian word they make in memory; LOW(n): its first n. */
#define W(a, b, c, d, e, f, g, h)                                                                  \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 | \
	 (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)
#define LOW(n) ((1ULL << 8 * (n)) - 1)

/* What a path is, for the filters: below which tree, or a shell's history file. */
#define BIN_DIRS 1 /* /bin/ /sbin/ /usr/bin/ /usr/sbin/ /usr/local/bin/ /usr/local/sbin/ */
#define LIB_DIRS 2 /* /lib/ /lib64/ /usr/lib/ */
#define ETC_DIR 4
#define VAR_LOG 8
#define HISTORY 16 /* ends with "_history": .bash_history, .ash_history, .zsh_history … */

/* The tree an absolute path is below, from its first 16 bytes as two words. Bytes past its
 * NUL are stale; every prefix ends with a '/' that a shorter path's NUL fails, so they never
 * decide. */
static __always_inline __u32 tree(const char *p)
{
	__u64 w0 = *(__u64 *)p, w1 = *(__u64 *)(p + 8);
	if ((w0 & LOW(5)) == W('/', 'b', 'i', 'n', '/', 0, 0, 0) || (w0 & LOW(6)) == W('/', 's', 'b', 'i', 'n', '/', 0, 0))
		return BIN_DIRS;
	if ((w0 & LOW(5)) == W('/', 'l', 'i', 'b', '/', 0, 0, 0) || (w0 & LOW(7)) == W('/', 'l', 'i', 'b', '6', '4', '/', 0))
		return LIB_DIRS;
	if ((w0 & LOW(5)) == W('/', 'e', 't', 'c', '/', 0, 0, 0))
		return ETC_DIR;
	if (w0 == W('/', 'v', 'a', 'r', '/', 'l', 'o', 'g') && (w1 & LOW(1)) == '/')
		return VAR_LOG;
	if (w0 == W('/', 'u', 's', 'r', '/', 'b', 'i', 'n') && (w1 & LOW(1)) == '/')
		return BIN_DIRS;
	if (w0 == W('/', 'u', 's', 'r', '/', 's', 'b', 'i') && (w1 & LOW(2)) == W('n', '/', 0, 0, 0, 0, 0, 0))
		return BIN_DIRS;
	if (w0 == W('/', 'u', 's', 'r', '/', 'l', 'i', 'b') && (w1 & LOW(1)) == '/')
		return LIB_DIRS;
	if (w0 == W('/', 'u', 's', 'r', '/', 'l', 'o', 'c') &&
	    ((w1 & LOW(7)) == W('a', 'l', '/', 'b', 'i', 'n', '/', 0) || w1 == W('a', 'l', '/', 's', 'b', 'i', 'n', '/')))
		return BIN_DIRS;
	return 0;
}

/* Whether the path full_path left at buf[at] is one of `what`. */
static __always_inline bool watched(char *buf, int at, int end, __u32 what)
{
	if (tree(at == ARG_AT ? &buf[ARG_AT] : &buf[at & 255]) & what)
		return true;
	__u32 last8 = end - 8;
	return (what & HISTORY) && last8 <= PATH_BUF - 8 &&
	       *(__u64 *)&buf[last8] == W('_', 'h', 'i', 's', 't', 'o', 'r', 'y');
}

static __always_inline void copy_path(char *dst, char *buf, int at)
{
	if (bpf_probe_read_kernel_str(dst, SEC_STR_LEN, at == ARG_AT ? &buf[ARG_AT] : &buf[at & 255]) < 0)
		dst[0] = 0;
}

static __always_inline char *scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&path_scratch, &zero);
}

/* One path that must be one of `what`; reported absolute when it could be made so. */
static __always_inline int report_path(enum sec_call call, __u32 what, int dfd, __u64 upath, bool fd_itself,
				       __s64 a0, __s64 a1, __s64 a2)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return 0;
	char *buf = scratch();
	if (!buf)
		return 0;
	int end = 0;
	int at = full_path(buf, dfd, upath, fd_itself, &end);
	if (at < 0 || !watched(buf, at, end, what))
		return 0;
	struct sec_event *e = begin(call, a0, a1, a2);
	if (!e)
		return 0;
	copy_path(e->str_raw, buf, at);
	eunomia_submit(e);
	return 0;
}

/* Deletions below /var/log (a log erased) or a binary directory, and of history files. */
#define DELETED (VAR_LOG | BIN_DIRS | HISTORY)

SEC("tp/syscalls/sys_enter_unlink")
int enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return report_path(unlink, DELETED, AT_FDCWD, ctx->args[0], false, AT_FDCWD, 0, 0);
}

SEC("tp/syscalls/sys_enter_unlinkat")
int enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return report_path(unlinkat, DELETED, ctx->args[0], ctx->args[1], false, (int)ctx->args[0], (int)ctx->args[2], 0);
}

/* Renames into, out of or within a binary directory (a binary replaced), and of history files
 * (moved away, or something moved over one). Both paths are made absolute. */
static __always_inline int report_rename(enum sec_call call, int olddfd, __u64 oldpath, int newdfd, __u64 newpath, __u32 flags)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return 0;
	char *old = scratch();
	if (!old)
		return 0;
	char *new = old + PATH_BUF;
	int old_end = 0, new_end = 0;
	int old_at = full_path(old, olddfd, oldpath, false, &old_end);
	int new_at = full_path(new, newdfd, newpath, false, &new_end);
	if (old_at < 0 || new_at < 0 ||
	    (!watched(old, old_at, old_end, BIN_DIRS | HISTORY) && !watched(new, new_at, new_end, BIN_DIRS | HISTORY)))
		return 0;
	struct sec_event *e = begin(call, flags, 0, 0);
	if (!e)
		return 0;
	copy_path(e->str_raw, old, old_at);
	copy_path(e->str2_raw, new, new_at);
	eunomia_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_enter_rename")
int enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	return report_rename(rename, AT_FDCWD, ctx->args[0], AT_FDCWD, ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_renameat")
int enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return report_rename(renameat, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], 0);
}

SEC("tp/syscalls/sys_enter_renameat2")
int enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return report_rename(renameat2, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4]);
}

/* A new directory in a binary directory (somewhere to hide a tool on PATH's way). */
SEC("tp/syscalls/sys_enter_mkdir")
int enter_mkdir(struct trace_event_raw_sys_enter *ctx)
{
	return report_path(mkdir, BIN_DIRS, AT_FDCWD, ctx->args[0], false, 0, 0, 0);
}

SEC("tp/syscalls/sys_enter_mkdirat")
int enter_mkdirat(struct trace_event_raw_sys_enter *ctx)
{
	return report_path(mkdirat, BIN_DIRS, ctx->args[0], ctx->args[1], false, 0, 0, 0);
}

/* Times set to explicit values on system files: timestomping, a planted or changed file made
 * to look as old as its neighbours. `touch` (times NULL, or UTIME_NOW) and a time left
 * unchanged (UTIME_OMIT) are not explicit; the time arguments are checked first. Bit 0 of the
 * first argument: the access time is set, bit 1: the modification time. */
#define UTIME_NOW ((1L << 30) - 1)
#define UTIME_OMIT ((1L << 30) - 2)
#define AT_EMPTY_PATH 0x1000
#define TIMESTOMPED (BIN_DIRS | LIB_DIRS | ETC_DIR)

struct sec_timespec {
	__s64 sec;
	__s64 nsec; /* utimes, futimesat: microseconds; utime: no such field */
};

static __always_inline int report_times(enum sec_call call, int dfd, __u64 upath, bool fd_itself, __u64 utimes, bool has_nsec)
{
	struct sec_timespec t[2] = {};
	if (!utimes || bpf_probe_read_user(t, has_nsec ? sizeof(t) : 2 * sizeof(__s64), (void *)utimes))
		return 0;
	if (!has_nsec) { /* struct utimbuf: actime, modtime */
		t[1].sec = t[0].nsec;
		t[0].nsec = 0;
	}
	__u32 set = (t[0].nsec != UTIME_NOW && t[0].nsec != UTIME_OMIT) | (t[1].nsec != UTIME_NOW && t[1].nsec != UTIME_OMIT) << 1;
	if (!set)
		return 0;
	return report_path(call, TIMESTOMPED, dfd, upath, fd_itself, set, t[0].sec, t[1].sec);
}

SEC("tp/syscalls/sys_enter_utimensat")
int enter_utimensat(struct trace_event_raw_sys_enter *ctx)
{
	__u64 path = ctx->args[1];
	/* a NULL path: futimens(fd); an empty one with AT_EMPTY_PATH: the dfd itself */
	return report_times(utimensat, ctx->args[0], path, !path || (ctx->args[3] & AT_EMPTY_PATH), ctx->args[2], true);
}

/* The older calls take struct timeval (no UTIME_NOW/OMIT: both times are explicit) or struct
 * utimbuf; absent on arm64 and newer architectures, like the other legacy calls. */
SEC("tp/syscalls/sys_enter_futimesat")
int enter_futimesat(struct trace_event_raw_sys_enter *ctx)
{
	return report_times(futimesat, ctx->args[0], ctx->args[1], !ctx->args[1], ctx->args[2], true);
}

SEC("tp/syscalls/sys_enter_utimes")
int enter_utimes(struct trace_event_raw_sys_enter *ctx)
{
	return report_times(utimes, AT_FDCWD, ctx->args[0], false, ctx->args[1], true);
}

SEC("tp/syscalls/sys_enter_utime")
int enter_utime(struct trace_event_raw_sys_enter *ctx)
{
	return report_times(utime, AT_FDCWD, ctx->args[0], false, ctx->args[1], false);
}

/* Extended attributes set: file capabilities (security.capability), SELinux/IMA labels,
 * overlayfs' trusted.overlay.* … Rare on servers: all reported. The path as given (like
 * chmod's); fsetxattr's fd made a path, as a rule needs one. */
static __always_inline int report_xattr(enum sec_call call, int fd, __u64 upath, __u64 name, __u64 size)
{
	if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
		return 0;
	char *buf = NULL;
	int at = -1, end = 0;
	if (!upath && (buf = scratch()))
		at = full_path(buf, fd, 0, true, &end);
	struct sec_event *e = begin(call, size, fd, 0);
	if (!e)
		return 0;
	if (upath) {
		if (bpf_probe_read_user_str(e->str_raw, sizeof(e->str_raw), (void *)upath) < 0)
			e->str_raw[0] = 0;
	} else if (buf && at >= 0) {
		copy_path(e->str_raw, buf, at);
	}
	if (bpf_probe_read_user_str(e->str2_raw, sizeof(e->str2_raw), (void *)name) < 0)
		e->str2_raw[0] = 0;
	eunomia_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_enter_setxattr")
int enter_setxattr(struct trace_event_raw_sys_enter *ctx)
{
	return report_xattr(setxattr, AT_FDCWD, ctx->args[0], ctx->args[1], ctx->args[3]);
}

SEC("tp/syscalls/sys_enter_lsetxattr")
int enter_lsetxattr(struct trace_event_raw_sys_enter *ctx)
{
	return report_xattr(lsetxattr, AT_FDCWD, ctx->args[0], ctx->args[1], ctx->args[3]);
}

SEC("tp/syscalls/sys_enter_fsetxattr")
int enter_fsetxattr(struct trace_event_raw_sys_enter *ctx)
{
	return report_xattr(fsetxattr, ctx->args[0], 0, ctx->args[1], ctx->args[3]);
}

/* Linux 6.13+: the size is in struct xattr_args { __u64 value; __u32 size; __u32 flags; }. */
SEC("tp/syscalls/sys_enter_setxattrat")
int enter_setxattrat(struct trace_event_raw_sys_enter *ctx)
{
	__u32 size = 0;
	bpf_probe_read_user(&size, sizeof(size), (void *)ctx->args[4] + 8);
	return report_xattr(setxattrat, ctx->args[0], ctx->args[1], ctx->args[3], size);
}

/* Every attempt: halt, restart, kexec, Ctrl-Alt-Del handling. The magic numbers are not
 * checked: the kernel refuses wrong ones with EINVAL. */
SEC("tp/syscalls/sys_enter_reboot")
int enter_reboot(struct trace_event_raw_sys_enter *ctx)
{
	return report(reboot, (__u32)ctx->args[2], 0, 0);
}

/* Device nodes only (a disk or memory device made where a container can open it); FIFOs,
 * sockets and regular files are left out. The path as given; the device number as the call
 * takes it (the kernel's new encoding: major in bits 8-19, minor in 0-7 and 20-31). */
#define S_IFBLK 0060000
#define S_IFCHR 0020000

static __always_inline int report_mknod(enum sec_call call, __u64 path, __u64 mode, __u64 dev)
{
	__u32 type = (__u16)mode & S_IFMT;
	if (type != S_IFBLK && type != S_IFCHR)
		return 0;
	return report_str(call, type, (__u32)dev, path);
}

SEC("tp/syscalls/sys_enter_mknod")
int enter_mknod(struct trace_event_raw_sys_enter *ctx)
{
	return report_mknod(mknod, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_mknodat")
int enter_mknodat(struct trace_event_raw_sys_enter *ctx)
{
	return report_mknod(mknodat, ctx->args[1], ctx->args[2], ctx->args[3]);
}

/* A filter attached to a socket: classic BPF or an eBPF program, the way sniffers (BPFDoor,
 * tcpdump) see the packets they want. With the socket's family: udev and DHCP clients attach
 * filters to their netlink and packet sockets. The reuseport variants are left out. */
#define SOL_SOCKET 1 /* x86 and arm64 (0xffff on alpha, mips, parisc, sparc) */
#define SO_ATTACH_FILTER 26
#define SO_ATTACH_BPF 50

SEC("tp/syscalls/sys_enter_setsockopt")
int enter_setsockopt(struct trace_event_raw_sys_enter *ctx)
{
	int optname = ctx->args[2];
	if ((int)ctx->args[1] != SOL_SOCKET || (optname != SO_ATTACH_FILTER && optname != SO_ATTACH_BPF))
		return 0;
	int fd = ctx->args[0];
	struct socket *sock = sock_from_fd((struct task_struct *)bpf_get_current_task(), fd);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	__u16 family = sk ? BPF_CORE_READ(sk, __sk_common.skc_family) : 0;
	return report(setsockopt, fd, optname, family);
}
