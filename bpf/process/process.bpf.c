/* process: exec and exit of every process, from sched tracepoints (no syscall tracepoints,
 * which would slow every syscall). */
#include "eunomia.bpf.h"
#include "process.h"

EUNOMIA_EVENT(process_event);

const volatile __u64 min_duration_ns = 0;

/* Eunomia's own activity includes the processes it spawns. */
static __always_inline bool skip_process(struct task_struct *task, __u32 tgid)
{
	if (eunomia_skip(tgid))
		return true;
	return eunomia_exclude_pid && BPF_CORE_READ(task, real_parent, tgid) == eunomia_exclude_pid;
}

/* exec time by tgid, for the lifetime reported at exit */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} exec_start SEC(".maps");

#define EXE_BUF 512 /* power of two: offsets are masked with EXE_BUF - 1 */
#define EXE_DEPTH 32

#define ENV_STR 512 /* bytes read per environment string (longer ones in several reads) */

/* The environment scan's state (env_step) */
struct env_scan {
	unsigned long pos;         /* user address of the next read */
	unsigned long end;
	/* user addresses of the values found, 0 if unset */
	unsigned long preload;
	unsigned long libpath;
	unsigned long path;
	unsigned long tunables;    /* the longest GLIBC_TUNABLES's */
	unsigned long tunables_at; /* the GLIBC_TUNABLES being read (in parts), 0 outside one */
	__u32 tunables_len;
	__u8 cont;                 /* pos is inside a string longer than a read, not at its start */
};

struct exe_scratch {
	char buf[EXE_BUF * 2];
	char env[ENV_STR];
	/* Here, not on the stack: the verifier tracks no values in map memory, so the scan's
	 * branches on its own state (first definition, longest) do not multiply
	 * the states it explores (on the stack they took it past its 1M instructions). */
	struct env_scan scan;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_scratch);
} scratch SEC(".maps");

struct walk {
	struct exe_scratch *s;
	struct dentry *d;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 pos;
};

/* One path component per call: bpf_loop verifies the body once, where a plain loop made
 * the verifier explore every iteration's states and hit its 1M-instruction limit. */
static long walk_step(__u32 i, struct walk *w)
{
	/* Plain locals: CO-RE relocations must not be recorded against struct walk. */
	struct dentry *d = w->d;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	/* A dentry that is its own parent but not a mount's root is a pseudo file (a memfd):
	 * its name is the whole path, "/memfd:name" as d_path would say. */
	bool pseudo = d == parent && d != mnt_root;
	if (!pseudo && (d == mnt_root || d == parent)) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (mp == mnt)
			return 1; /* root of the mount namespace */
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mp;
		w->vfsmnt = &mp->mnt;
		return 0;
	}
	struct qstr name = BPF_CORE_READ(d, d_name);
	__u32 len = name.len & 255;
	__u32 pos = w->pos;
	if (len + 1 > pos || pos >= EXE_BUF)
		return 1; /* too deep: keep the tail we have */
	pos -= len;
	bpf_probe_read_kernel(&w->s->buf[pos & (EXE_BUF - 1)], len, name.name);
	pos -= 1;
	w->s->buf[pos & (EXE_BUF - 1)] = '/';
	w->pos = pos;
	w->d = parent;
	return pseudo;
}

/* The path of the task's executable (`file`) in its own mount namespace, built from its end
 * (bpf_d_path is not allowed in tracepoints). */
static __always_inline void resolve_exe(struct file *file, char *out)
{
	__u32 zero = 0;
	struct walk w = {};
	w.s = bpf_map_lookup_elem(&scratch, &zero);
	if (!w.s || !file)
		return;
	w.d = BPF_CORE_READ(file, f_path.dentry);
	w.vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	w.mnt = container_of(w.vfsmnt, struct mount, mnt);
	w.pos = EXE_BUF - 1;
	w.s->buf[EXE_BUF - 1] = 0;
	bpf_loop(EXE_DEPTH, walk_step, &w, 0);
	__u32 pos = w.pos;
	if (pos == EXE_BUF - 1) {
		pos -= 1;
		w.s->buf[pos & (EXE_BUF - 1)] = '/';
	}
	bpf_probe_read_kernel_str(out, PROCESS_PATH_LEN, &w.s->buf[pos & (EXE_BUF - 1)]);
}

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define PIPEFS_MAGIC 0x50495045
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFIFO 0010000

/* overlayfs's inode wraps the VFS one; only the upper dentry matters here. Local flavour so
 * the object loads (field missing → 0) where overlayfs's BTF is absent. */
struct ovl_inode___eunomia {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

/* Whether the executable (on overlayfs: `magic`) lives in an overlayfs upper layer: written
 * after the image (a dropped or modified binary: "container drift"). Files of the image are
 * lower-only. */
static __always_inline __u8 exe_in_upper_layer(struct inode *inode, __u32 magic)
{
	if (!inode || magic != OVERLAYFS_SUPER_MAGIC)
		return 0;
	if (!bpf_core_field_exists(struct ovl_inode___eunomia, __upperdentry))
		return 0;
	struct ovl_inode___eunomia *oi = container_of((void *)inode, struct ovl_inode___eunomia, vfs_inode);
	return BPF_CORE_READ(oi, __upperdentry) != NULL;
}

/* What descriptor `fd` of the table `fds` (max_fds long) is: file type bits << 16, plus the
 * address family for sockets (so a shell whose stdin is a TCP connection, a reverse shell, can
 * be told from a unix socket). */
static __always_inline __u32 fd_kind(struct file **fds, unsigned int max_fds, unsigned int fd)
{
	if (!fds || fd >= max_fds)
		return 0;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	__u32 mode = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	__u32 family = 0;
	if (mode == S_IFSOCK) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	} else if (mode == S_IFIFO && BPF_CORE_READ(inode, i_sb, s_magic) != PIPEFS_MAGIC) {
		/* a pipe(2) lives on pipefs; a FIFO opened by name on a real filesystem (overlayfs,
		 * tmpfs, ext4 ...): the plumbing of a mkfifo reverse shell */
		family = PROCESS_FD_NAMED;
	}
	return mode << 16 | family;
}

#define ENV_SCAN_BYTES (32 * 1024) /* of the environment searched: the first 32 KiB ... */
#define ENV_SCAN_STRINGS 512       /* ... and at most this many reads (strings or 511-byte parts) */

/* In env_step: the user address of the value when the string read (n bytes with its NUL)
 * is `name` (a literal with its '=') with a non-empty value, else 0. Unrolled, the compares
 * are with constants (a memcmp would leave the literals behind, in a map of their own). */
#define ENV_VALUE(name)                                                           \
	({                                                                        \
		bool eq = n > (long)sizeof(name);                                 \
		_Pragma("unroll") for (int k = 0; k < (int)sizeof(name) - 1; k++) \
			eq = eq && b[k] == name[k];                               \
		eq ? pos + sizeof(name) - 1 : 0;                                  \
	})

/* One environment string per call ("NAME=value\0", copied by the kernel's strncpy_from_user,
 * which finds its end far faster than a byte loop here could). A string longer than a read
 * is read in parts; only a string's start is matched, so a value containing "LD_PRELOAD=" is
 * not taken for the variable. A variable set twice counts as its reader counts it: ld.so
 * takes the last LD_PRELOAD and LD_LIBRARY_PATH, getenv the first PATH. */
static long env_step(__u32 i, struct exe_scratch **scratch)
{
	struct env_scan *s = &(*scratch)->scan;
	char *b = (*scratch)->env;
	unsigned long pos = s->pos;
	if (pos >= s->end)
		return 1;
	long n = bpf_probe_read_user_str(b, ENV_STR, (void *)pos);
	if (n <= 0)
		return 1;
	if (!s->cont) {
		unsigned long v;
		switch (b[0]) {
		case 'L':
			if ((v = ENV_VALUE("LD_PRELOAD=")))
				s->preload = v;
			else if ((v = ENV_VALUE("LD_LIBRARY_PATH=")))
				s->libpath = v;
			break;
		case 'P':
			if (!s->path)
				s->path = ENV_VALUE("PATH=");
			break;
		case 'G':
			s->tunables_at = ENV_VALUE("GLIBC_TUNABLES=");
			break;
		}
	}
	/* GLIBC_TUNABLES's length so far (the bytes up to this read's end or NUL). ld.so parses
	 * every definition, and CVE-2023-4911's overflow needs a long one: the longest is kept. */
	if (s->tunables_at) {
		__u32 len = pos + n - 1 - s->tunables_at;
		if (len > s->tunables_len) {
			s->tunables_len = len;
			s->tunables = s->tunables_at;
		}
	}
	/* A full read may have stopped short of the NUL: continue from where it did. (A string of
	 * exactly ENV_STR - 1 bytes then reads as one more, empty, part.) */
	s->cont = n == ENV_STR;
	if (!s->cont)
		s->tunables_at = 0;
	s->pos = pos + (s->cont ? ENV_STR - 1 : n);
	return 0;
}

/* The variables the rules need, from the new program's environment on its stack
 * (mm->env_start..env_end), in one bounded pass; only their values are copied, never the
 * environment. */
static __always_inline void read_env(struct mm_struct *mm, struct exe_scratch *scratch, struct process_event *e)
{
	e->ld_preload[0] = 0;
	e->ld_library_path[0] = 0;
	e->glibc_tunables[0] = 0;
	e->path_env[0] = 0;
	e->glibc_tunables_len = 0;
	if (!scratch)
		return;
	struct env_scan *s = &scratch->scan;
	__builtin_memset(s, 0, sizeof(*s));
	s->pos = BPF_CORE_READ(mm, env_start);
	s->end = BPF_CORE_READ(mm, env_end);
	if (s->end - s->pos > ENV_SCAN_BYTES)
		s->end = s->pos + ENV_SCAN_BYTES;
	bpf_loop(ENV_SCAN_STRINGS, env_step, &scratch, 0);
	if (s->preload)
		bpf_probe_read_user_str(e->ld_preload, sizeof(e->ld_preload), (void *)s->preload);
	if (s->libpath)
		bpf_probe_read_user_str(e->ld_library_path, sizeof(e->ld_library_path), (void *)s->libpath);
	if (s->tunables)
		bpf_probe_read_user_str(e->glibc_tunables, sizeof(e->glibc_tunables), (void *)s->tunables);
	if (s->path)
		bpf_probe_read_user_str(e->path_env, sizeof(e->path_env), (void *)s->path);
	e->glibc_tunables_len = s->tunables_len;
}

/* The pid as the process sees it, in the innermost pid namespace, and its parent's there as
 * getppid() would return it: 0 when the parent is not in that namespace (pid_nr_ns). */
static __always_inline void virtual_pids(struct task_struct *task, struct task_struct *parent, struct process_event *e)
{
	struct pid *p = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	struct upid up = {};
	bpf_probe_read_kernel(&up, sizeof(up), &p->numbers[level & 31]);
	e->vpid = up.nr;
	if (!level) {
		e->vppid = e->ppid; /* the host's namespace: the global pid, read already */
		return;
	}
	/* real_parent may be a thread: its process is its group leader's pid */
	struct pid *pp = BPF_CORE_READ(parent, group_leader, thread_pid);
	struct upid pup = {};
	if (BPF_CORE_READ(pp, level) >= level)
		bpf_probe_read_kernel(&pup, sizeof(pup), &pp->numbers[level & 31]);
	e->vppid = pup.ns == up.ns ? pup.nr : 0;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&exec_start, &tgid, &ts, BPF_ANY);

	if (skip_process(task, tgid))
		return 0;
	/* With a minimum duration, only exits are reported: an exec cannot know it yet. */
	if (min_duration_ns)
		return 0;

	struct process_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, task);
	e->ts_ns = ts;
	e->type = exec;
	e->exit_code = 0;
	e->exit_signal = 0;
	e->duration_ns = 0;
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	virtual_pids(task, parent, e);
	/* Each pointer read once: every BPF_CORE_READ step is a helper call. */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct file *exe_file = BPF_CORE_READ(mm, exe_file);
	struct inode *exe_inode = exe_file ? BPF_CORE_READ(exe_file, f_inode) : NULL;
	e->exe_fs_magic = exe_inode ? BPF_CORE_READ(exe_inode, i_sb, s_magic) : 0;
	e->upper_layer = exe_in_upper_layer(exe_inode, e->exe_fs_magic);
	/* kernel_cap_t is a u64 since 6.3 and two u32 before: the same 8 bytes either way */
	bpf_probe_read_kernel(&e->cap_effective, sizeof(e->cap_effective), (void *)BPF_CORE_READ(task, cred) + bpf_core_field_offset(struct cred, cap_effective));
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = fdt ? BPF_CORE_READ(fdt, fd) : NULL;
	unsigned int max_fds = fdt ? BPF_CORE_READ(fdt, max_fds) : 0;
	e->stdin_raw = fd_kind(fds, max_fds, 0);
	e->stdout_raw = fd_kind(fds, max_fds, 1);
	e->tty[0] = 0;
	BPF_CORE_READ_STR_INTO(&e->pcomm, parent, comm);
	BPF_CORE_READ_STR_INTO(&e->gpcomm, parent, real_parent, comm);
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (tty)
		bpf_probe_read_kernel_str(e->tty, sizeof(e->tty), tty->name);

	unsigned int off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + off);
	e->exe[0] = 0;
	resolve_exe(exe_file, e->exe);
	__u32 zero = 0;
	read_env(mm, bpf_map_lookup_elem(&scratch, &zero), e);

	unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
	unsigned long size = arg_end - arg_start;
	e->args_truncated = size > PROCESS_ARGS_LEN;
	if (size > PROCESS_ARGS_LEN)
		size = PROCESS_ARGS_LEN;
	/* No zero fill after argv: the decoder reads args_size bytes (the member's tag). Not writing
	 * the rest of the 1 KiB saves its cache misses in the ring on every exec. */
	if (bpf_probe_read_user(e->args, size, (void *)arg_start) == 0)
		e->args_size = size;
	else
		e->args_size = 0;
	if (e->args_truncated)
		e->args[PROCESS_ARGS_LEN - 1] = 0;

	eunomia_submit(e);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (tgid != (__u32)id)
		return 0; /* a thread, not the process */

	__u64 now = bpf_ktime_get_ns();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 start;
	__u64 *startp = bpf_map_lookup_elem(&exec_start, &tgid);
	if (startp) {
		start = *startp;
		bpf_map_delete_elem(&exec_start, &tgid);
	} else {
		start = BPF_CORE_READ(task, start_time);
	}
	__u64 duration = now - start;

	if (skip_process(task, tgid))
		return 0;
	if (min_duration_ns && duration < min_duration_ns)
		return 0;

	/* Only the head: the verifier holds the program to it, user space reads the rest as zero. */
	struct process_event *e = eunomia_reserve(PROCESS_EXIT_SIZE);
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, task);
	e->ts_ns = now;
	e->type = exit;
	int code = BPF_CORE_READ(task, exit_code);
	e->exit_code = (code >> 8) & 0xff;
	e->exit_signal = code & 0x7f;
	e->duration_ns = duration;
	e->args_size = 0;
	e->args_truncated = 0;
	eunomia_submit(e);
	return 0;
}
