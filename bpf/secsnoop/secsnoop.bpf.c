/* secsnoop: attempts of security-relevant syscalls, with their arguments — loading BPF
 * programs, kernel modules and kexec images, ptrace writes and attaches, raw and packet
 * sockets, connects to unix sockets, namespace changes, memfds, stdio redirected to a
 * socket, setuid/setgid chmods, userfaultfd.
 * One syscall tracepoint per call (no raw_syscalls: that would run on every syscall), at
 * entry only: an attempt is reported whether or not the call then succeeds. The argument
 * filters run first, so a call left out (a debugger's PEEKDATA, a TCP socket, a chmod 0644)
 * costs a few instructions. Strings are read at entry, before the kernel has touched them:
 * one in memory that is not paged in yet reads as "". */
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

/* Connects to unix sockets: the way to a container runtime's or another daemon's API. */
SEC("tp/syscalls/sys_enter_connect")
int enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	void *addr = (void *)ctx->args[1];
	int len = ctx->args[2];
	__u16 family = 0;
	if (bpf_probe_read_user(&family, sizeof(family), addr) || family != AF_UNIX)
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

/* stdin, stdout or stderr replaced by a socket: how a reverse shell wires itself up. */
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
	__u16 family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	__u16 type = BPF_CORE_READ(sock, type);
	return report(call, oldfd, newfd, (__s64)type << 16 | family);
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
