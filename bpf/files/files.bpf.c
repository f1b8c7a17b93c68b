/* files: reads and writes per process and file, counted in the kernel (like filetop).
 * There is no vfs_read tracepoint and no kprobe here: ONE BTF raw tracepoint on sys_exit
 * sees every syscall's return; it returns at once unless the syscall is a read or write,
 * then finds the file from the fd in the task's fd table. */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "files.h"

#define EEXIST 17
#define S_IFMT 0170000
#define S_IFREG 0100000

/* Cast to void (type id 0) since 6.17; files_exit_compat does without. Weak: the object
 * must still open where the kfunc does not exist. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

const volatile bool all_files = false; /* --all-files: also sockets, pipes, devices … */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	/* Entries are ~400 bytes per CPU: allocate them as used, not all up front. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct files_key);
	__type(value, struct files_stats);
} files SEC(".maps");

#define PATH_BUF 256 /* power of two: offsets are masked with PATH_BUF - 1 */
#define PATH_DEPTH 64

struct scratch {
	struct files_stats init;
	char buf[PATH_BUF * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* x86-64 numbers of the read and write syscalls; low ones as bit masks. */
#define READ_LOW ((1u << 0) | (1u << 17) | (1u << 19))   /* read, pread64, readv */
#define WRITE_LOW ((1u << 1) | (1u << 18) | (1u << 20))  /* write, pwrite64, writev */
#define NR_PREADV 295
#define NR_PWRITEV 296
#define NR_PREADV2 327
#define NR_PWRITEV2 328

struct walk {
	char *buf;
	struct dentry *d;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 pos;
	__u8 end; /* 1: reached the namespace root, 2: a file with no path (pipe, socket …) */
};

/* One path component (or mount crossing) per call: bpf_loop verifies the body once. */
static long walk_step(__u32 i, struct walk *w)
{
	/* Plain locals: CO-RE relocations must not be recorded against struct walk. */
	struct dentry *d = w->d;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	if (d == mnt_root) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (mp == mnt) {
			w->end = 1; /* root of the mount namespace */
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mp;
		w->vfsmnt = &mp->mnt;
		return 0;
	}
	if (d == parent) {
		w->end = 2; /* a root that is no mount's root: a pseudo file (pipe, socket, memfd) */
		return 1;
	}
	struct qstr name = BPF_CORE_READ(d, d_name);
	__u32 len = name.len & 255;
	__u32 pos = w->pos;
	/* keep room for the "..." that marks a cut path */
	if (len + 4 > pos || pos >= PATH_BUF)
		return 1;
	pos -= len;
	bpf_probe_read_kernel(&w->buf[pos & (PATH_BUF - 1)], len, name.name);
	pos -= 1;
	w->buf[pos & (PATH_BUF - 1)] = '/';
	w->pos = pos;
	w->d = parent;
	return 0;
}

/* The file's path in the task's mount namespace, built from its end (bpf_d_path is not
 * allowed in tracepoint programs). Paths that do not fit keep their last components. */
static __always_inline void resolve_path(struct file *file, char *buf, char *out)
{
	struct walk w = {};
	w.buf = buf;
	w.d = BPF_CORE_READ(file, f_path.dentry);
	w.vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	w.mnt = container_of(w.vfsmnt, struct mount, mnt);
	w.pos = PATH_BUF - 1;
	buf[PATH_BUF - 1] = 0;
	bpf_loop(PATH_DEPTH, walk_step, &w, 0);
	if (w.end == 2) {
		out[0] = 0;
		return;
	}
	__u32 pos = w.pos;
	if (pos == PATH_BUF - 1) {
		pos -= 1;
		buf[pos & (PATH_BUF - 1)] = '/';
	}
	if (w.end == 0 && pos >= 3 && pos < PATH_BUF) {
		pos -= 3;
		buf[pos & (PATH_BUF - 1)] = '.';
		buf[(pos + 1) & (PATH_BUF - 1)] = '.';
		buf[(pos + 2) & (PATH_BUF - 1)] = '.';
	}
	bpf_probe_read_kernel_str(out, FILES_PATH_LEN, &buf[pos & (PATH_BUF - 1)]);
}

/* Off the hot path: the first read or write of a (process, file) pair in an interval. */
static __noinline int insert(struct files_key *k, struct file *file, __u32 mode, bool is_write, long ret)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct files_stats *v = &s->init;
	v->reads = !is_write;
	v->writes = is_write;
	v->rbytes = is_write ? 0 : ret;
	v->wbytes = is_write ? ret : 0;
	v->mode_raw = mode;
	v->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(v->comm, sizeof(v->comm));
	struct qstr name = BPF_CORE_READ(file, f_path.dentry, d_name);
	bpf_probe_read_kernel_str(v->name, sizeof(v->name), name.name);
	resolve_path(file, s->buf, v->path);
	long err = bpf_map_update_elem(&files, k, v, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* another CPU created it meanwhile */
		v = bpf_map_lookup_elem(&files, k);
		if (!v)
			return 0;
		if (is_write) {
			v->writes++;
			v->wbytes += ret;
		} else {
			v->reads++;
			v->rbytes += ret;
		}
	} else if (err) {
		/* map full, or no memory for the entry: this operation is not counted, but the miss is */
		eunomia_map_insert_failed();
	}
	return 0;
}

/* The file behind an fd and its identity. `fast`: direct loads through bpf_rdonly_cast(p, 0)
 * (untrusted memory, 6.17+) instead of one bpf_probe_read_kernel call per field: this runs
 * on every read and write. The field offsets are CO-RE relocated either way. */
static __always_inline struct file *fd_file(struct task_struct *task, __u32 fd, struct files_key *k,
					    __u32 *mode, const bool fast)
{
	struct fdtable *fdt = task->files->fdt;
	if (fd >= fdt->max_fds)
		return NULL;
	struct file *file = NULL;
	struct inode *inode;
	if (fast) {
		file = *(struct file **)bpf_rdonly_cast(&fdt->fd[fd], 0);
		if (!file)
			return NULL;
		inode = ((struct file *)bpf_rdonly_cast(file, 0))->f_inode;
		struct inode *in = bpf_rdonly_cast(inode, 0);
		*mode = in->i_mode;
		if (!all_files && (*mode & S_IFMT) != S_IFREG)
			return NULL;
		k->inode = in->i_ino;
		k->dev_raw = ((struct super_block *)bpf_rdonly_cast(in->i_sb, 0))->s_dev;
	} else {
		bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
		if (!file)
			return NULL;
		inode = BPF_CORE_READ(file, f_inode);
		*mode = BPF_CORE_READ(inode, i_mode);
		if (!all_files && (*mode & S_IFMT) != S_IFREG)
			return NULL;
		k->inode = BPF_CORE_READ(inode, i_ino);
		k->dev_raw = BPF_CORE_READ(inode, i_sb, s_dev);
	}
	return file;
}

static __always_inline int handle_exit(struct pt_regs *regs, long ret, const bool fast)
{
	/* Every syscall passes here: decide from the number alone, first. */
	unsigned long nr = regs->orig_ax;
	bool is_write;
	if (nr <= 20) {
		__u32 bit = 1u << nr;
		if (bit & READ_LOW)
			is_write = false;
		else if (bit & WRITE_LOW)
			is_write = true;
		else
			return 0;
	} else if (nr == NR_PREADV || nr == NR_PREADV2) {
		is_write = false;
	} else if (nr == NR_PWRITEV || nr == NR_PWRITEV2) {
		is_write = true;
	} else {
		return 0;
	}
	if (ret < 0)
		return 0; /* failed: nothing was transferred */
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	if (eunomia_skip(tgid))
		return 0;
	/* fd is the first argument of all of these syscalls */
	struct files_key k = { .pid = tgid };
	__u32 mode = 0;
	struct file *file = fd_file(task, regs->di, &k, &mode, fast);
	if (!file)
		return 0;
	struct files_stats *v = bpf_map_lookup_elem(&files, &k);
	if (!v)
		return insert(&k, file, mode, is_write, ret);
	/* per-CPU value: no atomics */
	if (is_write) {
		v->writes++;
		v->wbytes += ret;
	} else {
		v->reads++;
		v->rbytes += ret;
	}
	return 0;
}

/* User space loads one of the two, by kernel version (descriptor.programs). */
SEC("tp_btf/sys_exit")
int BPF_PROG(files_exit, struct pt_regs *regs, long ret)
{
	return handle_exit(regs, ret, true);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(files_exit_compat, struct pt_regs *regs, long ret)
{
	return handle_exit(regs, ret, false);
}
