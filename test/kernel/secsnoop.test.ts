/** The secsnoop tracker on the real kernel: a C program attempts each reported call, and neighbours that must not be reported. */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BpfObject, CONTAINER_FILTER_PROGRAM } from '../../src/core/bpf-object.js';
import { hasTracepoint } from '../../src/core/kernel.js';
import { loadNative } from '../../src/core/native.js';
import { objectDir } from '../../src/core/paths.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { needsRawFallback, RAW_FALLBACK, secsnoopTracker } from '../../src/trackers/secsnoop/index.js';
import { heldBy, KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-secsnoop-'));
/** Deletions are reported only below /var/log: the program deletes files here. */
const logdir = mkdtempSync('/var/log/eunomia-secsnoop-');
/** Renames, deletions, new directories and times are reported below the binary directories: the program makes and changes files named with this prefix. */
const BIN_DIR = '/usr/local/bin';
const binPrefix = join(BIN_DIR, `eunomia-secsnoop-${process.pid}-${Date.now().toString(36)}`);

/**
 * Each call once, in this order, with the pids and fds the test needs printed as JSON at the
 * end. Children do what would disturb the program itself: PTRACE_TRACEME, and the dup2s onto
 * stdio. Every call that needs no privilege to fail is expected to fail here (modules, kexec);
 * the attempt is what is reported.
 */
const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#endif

static long poked = 1;

static pid_t child(int what, int a, int b) {
  pid_t p = fork();
  if (p) return p;
  if (what == 0) ptrace(PTRACE_TRACEME, 0, NULL, NULL);
  if (what == 1) for (;;) pause();
  if (what == 2) {
#ifdef SYS_dup2
    syscall(SYS_dup2, a, 1);
#endif
    dup3(b, 2, O_CLOEXEC);
    dup2(a, 5);                 /* not stdio: not reported */
  }
  if (what == 3) dup2(a, 0);    /* a pipe: not reported */
  if (what == 6) dup3(a, 0, 0); /* an accepted connection onto stdin, as inetd does: reported, accepted */
  if (what == 4) {              /* a network namespace with no route: connects fail before any packet */
    unshare(CLONE_NEWNET);
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(3333) };
    inet_pton(AF_INET, "10.255.255.1", &v4.sin_addr);
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(4444) };
    inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    connect(socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr *)&v4, sizeof(v4));
    connect(socket(AF_INET6, SOCK_STREAM, 0), (struct sockaddr *)&v6, sizeof(v6));
    v4.sin_port = htons(53);
    connect(socket(AF_INET, SOCK_DGRAM, 0), (struct sockaddr *)&v4, sizeof(v4)); /* UDP: not reported */
  }
  _exit(0);
}

static void touch(const char *dir, const char *name) {
  char p[300];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  close(open(p, O_CREAT | O_WRONLY, 0644));
}

static socklen_t unix_addr(struct sockaddr_un *sa, const char *path, int abstract) {
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  strcpy(sa->sun_path + abstract, path);
  return offsetof(struct sockaddr_un, sun_path) + abstract + strlen(path) + !abstract;
}

int main(int argc, char **argv) {
  char path[200];

  struct bpf_insn insns[] = {
    { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
    { .code = BPF_JMP | BPF_EXIT },
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = 2;
  attr.insns = (unsigned long)insns;
  attr.license = (unsigned long)"GPL";
  strcpy(attr.prog_name, "secsnoop_test");
  long prog = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));

  pid_t traceme = child(0, 0, 0);
  waitpid(traceme, NULL, 0);
  pid_t traced = child(1, 0, 0);
  ptrace(PTRACE_ATTACH, traced, NULL, NULL);
  waitpid(traced, NULL, 0);
  ptrace(PTRACE_PEEKDATA, traced, &poked, NULL);   /* a read: not reported */
  ptrace(PTRACE_POKEDATA, traced, &poked, (void *)2);
  ptrace(PTRACE_DETACH, traced, NULL, NULL);       /* not reported */
  kill(traced, SIGKILL);
  waitpid(traced, NULL, 0);

  socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x0003 /* ETH_P_ALL */));
  socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int tcp = socket(AF_INET, SOCK_STREAM, 0);                  /* not reported */
  socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); /* not reported */

  struct sockaddr_un sa;
  snprintf(path, sizeof(path), "%s/api.sock", argv[1]);
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(srv, (struct sockaddr *)&sa, unix_addr(&sa, path, 0));
  listen(srv, 4);
  connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sa, unix_addr(&sa, path, 0));
  char name[64];
  snprintf(name, sizeof(name), "eunomia-secsnoop-%d", getpid());
  int asrv = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(asrv, (struct sockaddr *)&sa, unix_addr(&sa, name, 1));
  listen(asrv, 4);
  connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sa, unix_addr(&sa, name, 1));
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  connect(tcp, (struct sockaddr *)&sin, sizeof(sin)); /* refused after its SYN: tcpconnect's, not reported */
  int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect(nb, (struct sockaddr *)&sin, sizeof(sin)); /* EINPROGRESS or refused, after its SYN: not reported */
  usleep(10000);
  connect(nb, (struct sockaddr *)&sin, sizeof(sin)); /* the outcome of the first: no new attempt, not reported */
  pid_t netns = child(4, 0, 0);
  waitpid(netns, NULL, 0);

  int nsfd = open("/proc/self/ns/net", O_RDONLY);
  setns(nsfd, CLONE_NEWNET);
  unshare(CLONE_NEWUTS);
  int memfd = memfd_create("payload", MFD_CLOEXEC);

  char image[16] = { 0x7f, 'E', 'L', 'F' };
  syscall(SYS_init_module, image, sizeof(image), "");
  syscall(SYS_finit_module, memfd, "", 0);
  syscall(SYS_delete_module, "secsnoop_none", O_NONBLOCK);

  int pair[2], pipefd[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  pid_t dups = child(2, tcp, pair[0]);
  waitpid(dups, NULL, 0);
  pipe(pipefd);
  pid_t piped = child(3, pipefd[0], 0);
  waitpid(piped, NULL, 0);
  struct sockaddr_in lsin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t llen = sizeof(lsin);
  int lst = socket(AF_INET, SOCK_STREAM, 0);
  bind(lst, (struct sockaddr *)&lsin, sizeof(lsin));
  listen(lst, 1);
  getsockname(lst, (struct sockaddr *)&lsin, &llen);
  connect(socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr *)&lsin, sizeof(lsin)); /* succeeds: tcpconnect's */
  int acc = accept(lst, NULL, NULL);
  pid_t served = child(6, acc, 0);
  waitpid(served, NULL, 0);

  snprintf(path, sizeof(path), "%s/setuid", argv[1]);
  int file = open(path, O_CREAT | O_RDWR, 0644);
#ifdef SYS_chmod
  syscall(SYS_chmod, path, 04755);
  syscall(SYS_chmod, path, 0755); /* no set-id bit: not reported */
#endif
  syscall(SYS_fchmodat, AT_FDCWD, path, 02755);
  fchmod(file, 06755);
  syscall(SYS_fchmodat2, AT_FDCWD, path, 04711, 0);

  syscall(SYS_kexec_load, 0, 0, NULL, 0xffff0000UL); /* an unknown architecture: EINVAL before anything */
  syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 4 /* KEXEC_FILE_NO_INITRAMFS */);
  syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);

  char link[200];
  snprintf(link, sizeof(link), "%s/s1", argv[1]);
#ifdef SYS_symlink
  syscall(SYS_symlink, "/etc/shadow", link);
#endif
  snprintf(link, sizeof(link), "%s/s2", argv[1]);
  symlinkat("../../etc/gshadow", AT_FDCWD, link);
  snprintf(link, sizeof(link), "%s/h1", argv[1]);
#ifdef SYS_link
  syscall(SYS_link, path, link);
#endif
  snprintf(link, sizeof(link), "%s/h2", argv[1]);
  linkat(AT_FDCWD, path, AT_FDCWD, link, AT_SYMLINK_FOLLOW);
  snprintf(link, sizeof(link), "%s/.ash_history", argv[1]);
  symlinkat("/dev/null", AT_FDCWD, link);         /* a shell history sent to /dev/null */

  /* deletions: below /var/log (argv[2]) by absolute path, through a dirfd, through the
   * working directory, and a directory; the same elsewhere is not reported */
  const char *logdir = argv[2], *base = strrchr(argv[2], '/') + 1;
  touch(logdir, "a"); touch(logdir, "b"); touch(logdir, "c"); touch(logdir, "d");
  snprintf(link, sizeof(link), "%s/sub", logdir);
  mkdir(link, 0755);
  touch(argv[1], "x"); touch(argv[1], "y");
  snprintf(link, sizeof(link), "%s/a", logdir);
#ifdef SYS_unlink
  syscall(SYS_unlink, link);
#else
  unlinkat(AT_FDCWD, link, 0);
#endif
  snprintf(link, sizeof(link), "%s/x", argv[1]);
  unlink(link);                                    /* not reported */
  int logfd = open(logdir, O_RDONLY | O_DIRECTORY);
  unlinkat(logfd, "b", 0);
  unlinkat(open(argv[1], O_RDONLY | O_DIRECTORY), "y", 0); /* not reported */
  chdir(logdir);
  unlinkat(AT_FDCWD, "c", 0);
  chdir("/var");
  snprintf(link, sizeof(link), "log/%s/d", base);
  unlinkat(AT_FDCWD, link, 0);
  chdir("/");
  unlinkat(logfd, "sub", AT_REMOVEDIR);

  /* renames: in a binary directory (argv[3]: a unique prefix in /usr/local/bin) by absolute
   * path and through its dirfd, a history file moved away through the working directory;
   * the same in the temp directory is not reported */
  const char *bin = argv[3], *binbase = strrchr(argv[3], '/') + 1;
  char a[300], b[300], name_b[200], name_c[200];
  snprintf(a, sizeof(a), "%s-a", bin);
  snprintf(b, sizeof(b), "%s-b", bin);
  close(open(a, O_CREAT | O_WRONLY, 0755));
#ifdef SYS_rename
  syscall(SYS_rename, a, b);
#else
  renameat(AT_FDCWD, a, AT_FDCWD, b);
#endif
  int binfd = open("/usr/local/bin", O_RDONLY | O_DIRECTORY);
  snprintf(name_b, sizeof(name_b), "%s-b", binbase);
  snprintf(name_c, sizeof(name_c), "%s-c", binbase);
  renameat(binfd, name_b, binfd, name_c);
  touch(argv[1], "r1");
  touch(argv[1], ".bash_history");
  snprintf(a, sizeof(a), "%s/r1", argv[1]);
  snprintf(b, sizeof(b), "%s/r2", argv[1]);
  renameat(AT_FDCWD, a, AT_FDCWD, b);                                      /* not reported */
  chdir(argv[1]);
  syscall(SYS_renameat2, AT_FDCWD, "r2", AT_FDCWD, "r3", RENAME_NOREPLACE); /* not reported */
  syscall(SYS_renameat2, AT_FDCWD, ".bash_history", AT_FDCWD, "old", RENAME_NOREPLACE);
  chdir("/");

  /* deletions of a binary and of a history file (relative to a dirfd) */
  snprintf(a, sizeof(a), "%s-c", bin);
  unlinkat(AT_FDCWD, a, 0);
  touch(argv[1], ".zsh_history");
  int tmpfd = open(argv[1], O_RDONLY | O_DIRECTORY);
  unlinkat(tmpfd, ".zsh_history", 0);
  unlinkat(tmpfd, "old", 0);                                              /* not reported */

  /* new directories in a binary directory, absolute and through its dirfd; not elsewhere */
  snprintf(a, sizeof(a), "%s-d", bin);
#ifdef SYS_mkdir
  syscall(SYS_mkdir, a, 0755);
#else
  mkdirat(AT_FDCWD, a, 0755);
#endif
  snprintf(name_b, sizeof(name_b), "%s-e", binbase);
  mkdirat(binfd, name_b, 0755);
  mkdirat(tmpfd, "newdir", 0755);                                         /* not reported */

  /* times: explicit ones on a binary, by path, through its fd (futimens: the mtime alone) and
   * with the older calls; not touch's (NULL, UTIME_NOW), not UTIME_OMIT for both, not elsewhere */
  snprintf(a, sizeof(a), "%s-t", bin);
  int tfd = open(a, O_CREAT | O_WRONLY, 0755);
  struct timespec ts[2] = { { 1000000000, 0 }, { 1234567890, 0 } };
  utimensat(AT_FDCWD, a, ts, 0);
  utimensat(AT_FDCWD, a, NULL, 0);                                        /* not reported */
  struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
  utimensat(AT_FDCWD, a, now, 0);                                         /* not reported */
  struct timespec omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
  utimensat(AT_FDCWD, a, omit, 0);                                        /* not reported */
  struct timespec mtime_only[2] = { { 0, UTIME_OMIT }, { 1111111111, 0 } };
  futimens(tfd, mtime_only);
  utimensat(AT_FDCWD, path, ts, 0);                                       /* a temp file: not reported */
  struct timeval tv[2] = { { 1000000000, 0 }, { 1222222222, 0 } };
#ifdef SYS_utimes
  syscall(SYS_utimes, a, tv);
#endif
#ifdef SYS_futimesat
  snprintf(name_b, sizeof(name_b), "%s-t", binbase);
  syscall(SYS_futimesat, binfd, name_b, tv);
#endif
#ifdef SYS_utime
  struct utimbuf ub = { 1000000000, 1333333333 };
  syscall(SYS_utime, a, &ub);
#endif

  /* extended attributes, all of them (the file system may refuse: the attempt is reported) */
  setxattr(path, "user.eunomia", "v", 1, 0);
  snprintf(link, sizeof(link), "%s/s2", argv[1]);
  lsetxattr(link, "trusted.eunomia", "ab", 2, 0);
  fsetxattr(file, "security.eunomia", "abc", 3, 0);
  struct { unsigned long long value; unsigned int size, flags; } xargs = { (unsigned long)"abcd", 4, 0 };
  syscall(SYS_setxattrat, AT_FDCWD, path, 0, "user.at", &xargs, sizeof(xargs));

  /* reboot with wrong magic numbers: the kernel refuses before looking at the command */
  long rebooted = syscall(SYS_reboot, 0, 0, 0x89ABCDEF /* LINUX_REBOOT_CMD_CAD_ON */, NULL);
  int reboot_errno = errno;
  syscall(SYS_reboot, 0, 0, 0x12345678, NULL);

  /* device nodes; not a FIFO */
  snprintf(a, sizeof(a), "%s/blk", argv[1]);
#ifdef SYS_mknod
  syscall(SYS_mknod, a, S_IFBLK | 0600, makedev(7, 200));
#else
  mknodat(AT_FDCWD, a, S_IFBLK | 0600, makedev(7, 200));
#endif
  mknodat(tmpfd, "chr", S_IFCHR | 0600, makedev(259, 300000));
  mknodat(tmpfd, "fifo", S_IFIFO | 0600, 0);                               /* not reported */

  /* socket filters: classic BPF on a netlink socket (as udev does), the eBPF program on a UDP
   * socket; not SO_REUSEADDR, not option 26 at another level */
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  struct sock_filter accept_all = BPF_STMT(BPF_RET | BPF_K, 0xffff);
  struct sock_fprog fprog = { 1, &accept_all };
  setsockopt(nl, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
  int udp = socket(AF_INET, SOCK_DGRAM, 0), one = 1, progfd = prog;
  setsockopt(udp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));         /* not reported */
  setsockopt(udp, IPPROTO_IP, SO_ATTACH_FILTER, &one, sizeof(one));     /* not reported */
  setsockopt(udp, SOL_SOCKET, SO_ATTACH_BPF, &progfd, sizeof(progfd));

  printf("{\"pid\":%d,\"traceme\":%d,\"traced\":%d,\"dups\":%d,\"piped\":%d,\"tcp\":%d,\"pair\":%d,"
         "\"nsfd\":%d,\"memfd\":%d,\"file\":%d,\"prog\":%ld,\"netns\":%d,\"logfd\":%d,\"served\":%d,\"acc\":%d,"
         "\"nl\":%d,\"udp\":%d,\"rebooted\":%ld,\"rebootErrno\":%d}\n",
         getpid(), traceme, traced, dups, piped, tcp, pair[0], nsfd, memfd, file, prog, netns, logfd, served, acc,
         nl, udp, rebooted, reboot_errno);
  return 0;
}
`;

interface Pids {
  pid: number;
  traceme: number;
  traced: number;
  dups: number;
  piped: number;
  tcp: number;
  pair: number;
  nsfd: number;
  memfd: number;
  file: number;
  prog: number;
  netns: number;
  logfd: number;
  served: number;
  acc: number;
  nl: number;
  udp: number;
  rebooted: number;
  rebootErrno: number;
}

function buildHelper(): string | undefined {
  try {
    const src = join(dir, 'secworker.c');
    writeFileSync(src, C_SOURCE);
    execFileSync('cc', ['-O1', '-o', join(dir, 'secworker'), src], { stdio: 'pipe' });
    return join(dir, 'secworker');
  } catch {
    return undefined;
  }
}

/** The module and kexec calls: where the kernel has no tracepoint for one of them, the raw_syscalls fallback sees them all (x86-64). */
const MODULE_KEXEC = ['init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load'];
const fallback = needsRawFallback();

/** Why a call cannot be seen on this kernel: it has no tracepoint for it (nor the fallback), so the tracker leaves it out. */
const unseen = (call: string): string | false =>
  !(fallback && MODULE_KEXEC.includes(call)) &&
  !hasTracepoint(`tp/syscalls/sys_enter_${call}`) &&
  `this kernel has no syscalls:sys_enter_${call} tracepoint (the syscall is compiled out or newer)`;

/** A legacy call where this kernel has it, else the *at call the C program makes instead. */
const legacyOr = (legacy: string, modern: string): string => (unseen(legacy) ? modern : legacy);

/** Calls of the C program itself, in its order; the ones this kernel cannot show left out. */
const MAIN_CALLS = [
  'bpf', 'ptrace', 'ptrace', 'socket', 'socket', 'connect', 'connect', 'setns', 'unshare', 'memfd_create',
  'init_module', 'finit_module', 'delete_module', 'chmod', 'fchmodat', 'fchmod', 'fchmodat2', 'kexec_load',
  'kexec_file_load', 'userfaultfd', 'symlink', 'symlinkat', 'link', 'linkat', 'symlinkat', 'unlink', 'unlinkat', 'unlinkat', 'unlinkat',
  'unlinkat', legacyOr('rename', 'renameat'), 'renameat', 'renameat2', 'unlinkat', 'unlinkat', legacyOr('mkdir', 'mkdirat'), 'mkdirat',
  'utimensat', 'utimensat', 'utimes', 'futimesat', 'utime', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat', 'reboot', 'reboot',
  legacyOr('mknod', 'mknodat'), 'mknodat', 'setsockopt', 'setsockopt',
].filter((c) => !unseen(c));

describe('secsnoop tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();
  const helper = buildHelper();
  const noHelper = !helper && 'no C compiler (cc)';
  let ids: Pids;
  let events: TrackerEvent[] = [];
  let links = 0;
  /** The one event of `pid` for `call`, asserted to be the only one. */
  const one = (pid: number, call: string): Record<string, unknown> => {
    const found = events.filter((e) => e.data.pid === pid && e.data.call === call);
    assert.equal(found.length, 1, `one ${call} event from ${pid}, got ${found.length}`);
    return found[0]!.data;
  };

  before(async () => {
    if (!helper) return;
    mkdirSync(BIN_DIR, { recursive: true });
    let out = '';
    const t = await traceWhile(
      secsnoopTracker,
      {},
      async () => {
        links = heldBy().links.size;
        out = await new Promise<string>((resolve, reject) => execFile(helper, [dir, logdir, binPrefix], (err, stdout) => (err ? reject(err) : resolve(stdout))));
      },
      (evs) => evs.some((e) => e.data.comm === 'secworker' && e.data.optname === 'SO_ATTACH_BPF'),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    ids = JSON.parse(out) as Pids;
    events = t.events;
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(logdir, { recursive: true, force: true });
    for (const f of readdirSync(BIN_DIR)) if (f.startsWith(basename(binPrefix))) rmSync(join(BIN_DIR, f), { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('one program per call; a call without a tracepoint on this kernel is left out, the others attached', { skip: noHelper }, () => {
    const all = ['bpf', 'ptrace', 'socket', 'connect', 'setns', 'unshare', 'memfd_create', 'init_module', 'finit_module', 'delete_module',
      'dup2', 'dup3', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'userfaultfd', 'kexec_load', 'kexec_file_load', 'symlink', 'symlinkat',
      'link', 'linkat', 'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'utimensat', 'futimesat', 'utimes',
      'utime', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat', 'reboot', 'mknod', 'mknodat', 'setsockopt'];
    // connect has one more, at its exit; accept and accept4 one each at their exits (they
    // report nothing, they mark sockets for dup2's `accepted`). The module and kexec calls: their
    // five tracepoint programs, or the one raw fallback where one of them is missing.
    const perCall = all.filter((c) => !unseen(c) && !(fallback && MODULE_KEXEC.includes(c))).length;
    const accepts = ['accept', 'accept4'].filter((c) => hasTracepoint(`tp/syscalls/sys_exit_${c}`)).length;
    assert.equal(links, perCall + 1 + accepts + (fallback ? 1 : 0), 'links held while tracing');
    const optional = new Set(secsnoopTracker.optionalPrograms);
    for (const c of all.filter(unseen)) assert.ok(optional.has(`enter_${c}`), `${c}: missing here, so it must be optional`);
  });

  test('the raw_syscalls fallback is attached exactly where a module or kexec tracepoint is missing', () => {
    const missing = MODULE_KEXEC.filter((c) => !hasTracepoint(`tp/syscalls/sys_enter_${c}`));
    assert.equal(fallback, missing.length > 0);
    const wanted = secsnoopTracker.programs!({});
    assert.equal(wanted.includes(RAW_FALLBACK), fallback);
    for (const c of MODULE_KEXEC) assert.equal(wanted.includes(`enter_${c}`), !fallback, `enter_${c}`);
  });

  test('every program passes the verifier, also those this kernel cannot attach', async () => {
    const obj = BpfObject.open(loadNative(), join(objectDir, secsnoopTracker.object));
    try {
      obj.load();
      watch.note();
      const names = obj.programs().filter((p) => p.autoload).map((p) => p.name);
      for (const p of secsnoopTracker.optionalPrograms!) assert.ok(names.includes(p), `${p} loaded`);
      // The descriptor names every program (it chooses between the fallback and the five it replaces).
      const named = new Set([...secsnoopTracker.programs!({}), ...(fallback ? MODULE_KEXEC.map((c) => `enter_${c}`) : [RAW_FALLBACK])]);
      assert.deepEqual(obj.programs().map((p) => p.name).filter((n) => n !== CONTAINER_FILTER_PROGRAM && !named.has(n)), [], 'programs the descriptor does not know');
    } finally {
      await obj.close();
    }
  });

  test('the program\'s own calls, in order, and nothing else: no PEEKDATA or DETACH, TCP or netlink socket, TCP connect, chmod 0755', { skip: noHelper }, () => {
    // Before its exec the process is Node's child wiring up stdio (socketpairs dup2'd onto 0-2): left out.
    const mine = events.filter((e) => e.data.pid === ids.pid && e.data.comm === 'secworker');
    assert.deepEqual(mine.map((e) => e.data.call), MAIN_CALLS);
    for (const e of mine) {
      assert.equal(e.tracker, 'secsnoop');
      assert.equal(e.data.tid, ids.pid);
      assert.equal(e.data.uid, 0);
      assert.ok(!('arg_raw' in e.data) && !('str_raw' in e.data), 'raw fields removed');
      assert.equal(typeof e.data.detail, 'string');
    }
  });

  test('bpf: BPF_PROG_LOAD with the program type and name', { skip: noHelper }, () => {
    assert.ok(ids.prog >= 0, 'the load itself worked');
    const d = one(ids.pid, 'bpf');
    assert.equal(d.cmd, 'BPF_PROG_LOAD');
    assert.equal(d.prog_type, 'BPF_PROG_TYPE_SOCKET_FILTER');
    assert.equal(d.name, 'secsnoop_test');
    assert.equal(d.detail, 'BPF_PROG_LOAD BPF_PROG_TYPE_SOCKET_FILTER secsnoop_test');
  });

  test('ptrace: TRACEME in a child; ATTACH and POKEDATA of another, with its pid', { skip: noHelper }, () => {
    const me = one(ids.traceme, 'ptrace');
    assert.equal(me.request, 'PTRACE_TRACEME');
    assert.equal(me.target_pid, 0);
    assert.equal(me.ppid, ids.pid);
    const reqs = events.filter((e) => e.data.pid === ids.pid && e.data.call === 'ptrace').map((e) => [e.data.request, e.data.target_pid]);
    assert.deepEqual(reqs, [['PTRACE_ATTACH', ids.traced], ['PTRACE_POKEDATA', ids.traced]]);
    assert.equal(events.filter((e) => e.data.pid === ids.traced).length, 0, 'the traced child does nothing reported');
    assert.equal(events.find((e) => e.data.request === 'PTRACE_ATTACH' && e.data.pid === ids.pid)!.data.detail, `PTRACE_ATTACH pid ${ids.traced}`);
  });

  test('socket: AF_PACKET and a raw inet socket', { skip: noHelper }, () => {
    const socks = events.filter((e) => e.data.pid === ids.pid && e.data.call === 'socket').map((e) => [e.data.family, e.data.type, e.data.protocol]);
    assert.deepEqual(socks, [['AF_PACKET', 'SOCK_RAW', 0x0300], ['AF_INET', 'SOCK_RAW', 1]]);
    assert.equal(events.find((e) => e.data.pid === ids.pid && e.data.family === 'AF_PACKET')!.data.detail, 'AF_PACKET SOCK_RAW 768');
  });

  test('connect: to a unix socket path and to an abstract address; not TCP connects that sent their SYN (refused, non-blocking)', { skip: noHelper }, () => {
    const conns = events.filter((e) => e.data.pid === ids.pid && e.data.call === 'connect').map((e) => [e.data.family, e.data.path, e.data.detail]);
    const path = join(dir, 'api.sock');
    const abstract = `@eunomia-secsnoop-${ids.pid}`;
    assert.deepEqual(conns, [['AF_UNIX', path, path], ['AF_UNIX', abstract, abstract]]);
  });

  test('connect: TCP connects that fail before any packet (no route), IPv4 and IPv6, with the result; not a UDP connect', { skip: noHelper }, () => {
    const mine = events.filter((e) => e.data.pid === ids.netns).map((e) => e.data);
    assert.deepEqual(mine.map((d) => d.call), ['unshare', 'connect', 'connect']);
    const conns = mine.filter((d) => d.call === 'connect').map(({ family, daddr, dport, result, detail }) => ({ family, daddr, dport, result, detail }));
    // IPv6 with no address at all (lo is down in a new namespace) fails choosing a source address.
    const v6 = conns[1]?.result === 'EADDRNOTAVAIL' ? 'EADDRNOTAVAIL' : 'ENETUNREACH';
    assert.deepEqual(conns, [
      { family: 'AF_INET', daddr: '10.255.255.1', dport: 3333, result: 'ENETUNREACH', detail: '10.255.255.1:3333 ENETUNREACH' },
      { family: 'AF_INET6', daddr: '2001:db8::1', dport: 4444, result: v6, detail: `[2001:db8::1]:4444 ${v6}` },
    ]);
    for (const d of mine) assert.ok(!('path' in d) || d.call !== 'connect', 'no unix path on an inet connect');
    assert.equal(mine[1]!.ppid, ids.pid);
  });

  test('symlink, symlinkat, link and linkat: the new path and its target, as given', { skip: noHelper }, () => {
    const setuid = join(dir, 'setuid');
    const made = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).includes('link') && !String(e.data.call).startsWith('unlink'));
    const want: unknown[] = [];
    if (!unseen('symlink')) want.push({ call: 'symlink', path: join(dir, 's1'), target: '/etc/shadow' });
    want.push({ call: 'symlinkat', path: join(dir, 's2'), target: '../../etc/gshadow' });
    if (!unseen('link')) want.push({ call: 'link', path: join(dir, 'h1'), target: setuid });
    want.push({ call: 'linkat', path: join(dir, 'h2'), target: setuid, flags: 'AT_SYMLINK_FOLLOW' });
    // Every link is reported: also a history file made a link to /dev/null (rules look at `path`).
    want.push({ call: 'symlinkat', path: join(dir, '.ash_history'), target: '/dev/null' });
    assert.deepEqual(made.map(({ data: { call, path, target, flags } }) => ({ call, path, target, ...(flags === undefined ? {} : { flags }) })), want);
    assert.equal(made.at(-2)!.data.detail, `${join(dir, 'h2')} -> ${setuid}`);
  });

  test('unlink and unlinkat below /var/log: absolute, through a dirfd, through the working directory, a directory; a binary and a history file; nothing elsewhere', { skip: noHelper }, () => {
    const dels = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).startsWith('unlink')).map((e) => e.data);
    const want: unknown[] = [];
    want.push({ call: unseen('unlink') ? 'unlinkat' : 'unlink', path: `${logdir}/a`, flags: unseen('unlink') ? '0' : undefined });
    want.push({ call: 'unlinkat', path: `${logdir}/b`, flags: '0' });
    want.push({ call: 'unlinkat', path: `${logdir}/c`, flags: '0' });
    want.push({ call: 'unlinkat', path: `/var/${join('log', basename(logdir), 'd')}`, flags: '0' });
    want.push({ call: 'unlinkat', path: `${logdir}/sub`, flags: 'AT_REMOVEDIR' });
    want.push({ call: 'unlinkat', path: `${binPrefix}-c`, flags: '0' });
    want.push({ call: 'unlinkat', path: join(dir, '.zsh_history'), flags: '0' }); // relative to a dirfd: made absolute
    assert.deepEqual(dels.map(({ call, path, flags }) => ({ call, path, flags })), want);
    assert.equal(dels[4]!.detail, `${logdir}/sub AT_REMOVEDIR`);
  });

  test('rename, renameat, renameat2: within a binary directory (absolute, through a dirfd) and a history file moved away (through the working directory), both paths absolute; nothing in a temp directory', { skip: noHelper }, () => {
    const moves = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).startsWith('rename')).map((e) => e.data);
    assert.deepEqual(moves.map(({ call, path, target, flags }) => ({ call, path, target, flags })), [
      { call: legacyOr('rename', 'renameat'), path: `${binPrefix}-a`, target: `${binPrefix}-b`, flags: undefined },
      { call: 'renameat', path: `${binPrefix}-b`, target: `${binPrefix}-c`, flags: undefined },
      { call: 'renameat2', path: join(dir, '.bash_history'), target: join(dir, 'old'), flags: 'RENAME_NOREPLACE' },
    ]);
    assert.equal(moves[2]!.detail, `${join(dir, '.bash_history')} -> ${join(dir, 'old')} RENAME_NOREPLACE`);
  });

  test('mkdir and mkdirat in a binary directory, absolute and through a dirfd; not in a temp directory', { skip: noHelper }, () => {
    const dirs = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).startsWith('mkdir')).map((e) => e.data);
    assert.deepEqual(dirs.map(({ call, path, detail }) => ({ call, path, detail })), [
      { call: legacyOr('mkdir', 'mkdirat'), path: `${binPrefix}-d`, detail: `${binPrefix}-d` },
      { call: 'mkdirat', path: `${binPrefix}-e`, detail: `${binPrefix}-e` },
    ]);
  });

  test('utimensat, utimes, futimesat, utime: explicit times on a binary, by path, by fd (futimens) and by dirfd; not touch (NULL, UTIME_NOW), not UTIME_OMIT for both, not a temp file', { skip: noHelper }, () => {
    const bin = `${binPrefix}-t`;
    const times = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).includes('utime')).map((e) => e.data);
    const want: unknown[] = [
      { call: 'utimensat', path: bin, atime: 1000000000, mtime: 1234567890 },
      { call: 'utimensat', path: bin, atime: undefined, mtime: 1111111111 }, // futimens: the fd's path; only the mtime is set
    ];
    if (!unseen('utimes')) want.push({ call: 'utimes', path: bin, atime: 1000000000, mtime: 1222222222 });
    if (!unseen('futimesat')) want.push({ call: 'futimesat', path: bin, atime: 1000000000, mtime: 1222222222 });
    if (!unseen('utime')) want.push({ call: 'utime', path: bin, atime: 1000000000, mtime: 1333333333 });
    assert.deepEqual(times.map(({ call, path, atime, mtime }) => ({ call, path, atime, mtime })), want);
    assert.ok(!('atime' in times[1]!), 'no atime field when the atime is left alone');
    assert.equal(times[1]!.detail, `${bin} mtime 1111111111`);
  });

  test('setxattr, lsetxattr, fsetxattr, setxattrat: the attribute, the path (fsetxattr: the fd\'s, made a path) and the value size', { skip: noHelper }, () => {
    const setuid = join(dir, 'setuid');
    const attrs = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).includes('setxattr')).map((e) => e.data);
    const want: unknown[] = [
      { call: 'setxattr', path: setuid, xattr: 'user.eunomia', size: 1 },
      { call: 'lsetxattr', path: join(dir, 's2'), xattr: 'trusted.eunomia', size: 2 },
      { call: 'fsetxattr', path: setuid, fd: ids.file, xattr: 'security.eunomia', size: 3 },
    ];
    if (!unseen('setxattrat')) want.push({ call: 'setxattrat', path: setuid, xattr: 'user.at', size: 4 });
    assert.deepEqual(attrs.map(({ call, path, fd, xattr, size }) => ({ call, path, ...(fd === undefined ? {} : { fd }), xattr, size })), want);
    assert.equal(attrs[0]!.detail, `user.eunomia 1 bytes ${setuid}`);
  });

  test('reboot: the command, named or in hex; the wrong magic numbers made the kernel refuse', { skip: noHelper }, () => {
    assert.equal(ids.rebooted, -1);
    assert.ok([22, 1].includes(ids.rebootErrno), `EINVAL or EPERM, got errno ${ids.rebootErrno}`);
    const cmds = events.filter((e) => e.data.pid === ids.pid && e.data.call === 'reboot').map((e) => [e.data.cmd, e.data.detail]);
    assert.deepEqual(cmds, [['LINUX_REBOOT_CMD_CAD_ON', 'LINUX_REBOOT_CMD_CAD_ON'], ['0x12345678', '0x12345678']]);
  });

  test('mknod and mknodat of block and character devices: type, major and minor; not a FIFO', { skip: noHelper }, () => {
    const nodes = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).startsWith('mknod')).map((e) => e.data);
    assert.deepEqual(nodes.map(({ call, path, mode, major, minor }) => ({ call, path, mode, major, minor })), [
      { call: legacyOr('mknod', 'mknodat'), path: join(dir, 'blk'), mode: 'block', major: 7, minor: 200 },
      { call: 'mknodat', path: 'chr', mode: 'char', major: 259, minor: 300000 }, // as given: relative to its dirfd
    ]);
    assert.equal(nodes[1]!.detail, 'char 259:300000 chr');
  });

  test('setsockopt: SO_ATTACH_FILTER on a netlink socket, SO_ATTACH_BPF on a UDP socket, with their families; not SO_REUSEADDR, not option 26 at another level', { skip: noHelper }, () => {
    const opts = events.filter((e) => e.data.pid === ids.pid && e.data.call === 'setsockopt').map((e) => e.data);
    assert.deepEqual(opts.map(({ fd, optname, family, detail }) => ({ fd, optname, family, detail })), [
      { fd: ids.nl, optname: 'SO_ATTACH_FILTER', family: 'AF_NETLINK', detail: `SO_ATTACH_FILTER AF_NETLINK fd ${ids.nl}` },
      { fd: ids.udp, optname: 'SO_ATTACH_BPF', family: 'AF_INET', detail: `SO_ATTACH_BPF AF_INET fd ${ids.udp}` },
    ]);
  });

  test('setns, unshare and memfd_create with their arguments', { skip: noHelper }, () => {
    const ns = one(ids.pid, 'setns');
    assert.equal(ns.fd, ids.nsfd);
    assert.equal(ns.nstype, 'CLONE_NEWNET');
    assert.equal(one(ids.pid, 'unshare').flags, 'CLONE_NEWUTS');
    const m = one(ids.pid, 'memfd_create');
    assert.equal(m.name, 'payload');
    assert.equal(m.flags, 'MFD_CLOEXEC');
    assert.equal(m.detail, 'payload MFD_CLOEXEC');
  });

  // On a kernel without module or kexec support (this one: ENOSYS), the raw_syscalls fallback
  // reads the same arguments from the registers.
  test('init_module: the image length', { skip: noHelper || unseen('init_module') }, () => {
    assert.equal(one(ids.pid, 'init_module').length, 16);
  });
  test('finit_module: the fd', { skip: noHelper || unseen('finit_module') }, () => {
    assert.equal(one(ids.pid, 'finit_module').fd, ids.memfd);
  });
  test('delete_module: the name', { skip: noHelper || unseen('delete_module') }, () => {
    assert.equal(one(ids.pid, 'delete_module').name, 'secsnoop_none');
  });
  test('kexec_load and kexec_file_load: the flags', { skip: noHelper || unseen('kexec_load') || unseen('kexec_file_load') }, () => {
    assert.equal(one(ids.pid, 'kexec_load').flags, '0xffff0000');
    assert.equal(one(ids.pid, 'kexec_file_load').flags, 'KEXEC_FILE_NO_INITRAMFS');
  });

  test('dup2/dup3 of a socket onto stdout and stderr, with its family and type; not onto fd 5, not a pipe onto stdin', { skip: noHelper }, () => {
    const dups = events.filter((e) => e.data.pid === ids.dups).map((e) => e.data);
    const want = [{ call: 'dup3', oldfd: ids.pair, newfd: 2, family: 'AF_UNIX', type: 'SOCK_STREAM', accepted: false }];
    if (!unseen('dup2')) want.unshift({ call: 'dup2', oldfd: ids.tcp, newfd: 1, family: 'AF_INET', type: 'SOCK_STREAM', accepted: false });
    const fields = (d: Record<string, unknown>): Record<string, unknown> => ({ call: d.call, oldfd: d.oldfd, newfd: d.newfd, family: d.family, type: d.type, accepted: d.accepted });
    assert.deepEqual(dups.map(fields), want);
    // A server's accepted connection onto stdin (inetd, busybox httpd): marked, so rules tell it from a reverse shell's.
    const served = events.filter((e) => e.data.pid === ids.served).map((e) => fields(e.data));
    assert.deepEqual(served, [{ call: 'dup3', oldfd: ids.acc, newfd: 0, family: 'AF_INET', type: 'SOCK_STREAM', accepted: true }]);
    for (const d of dups) assert.equal(d.ppid, ids.pid);
    assert.equal(dups.at(-1)!.detail, `AF_UNIX SOCK_STREAM fd ${ids.pair} -> 2`);
    assert.equal(events.filter((e) => e.data.pid === ids.piped).length, 0, 'the pipe onto stdin is not reported');
  });

  test('chmod, fchmodat, fchmod and fchmodat2 that set a set-id bit: path or fd, mode in octal', { skip: noHelper }, () => {
    const path = join(dir, 'setuid');
    const modes = events.filter((e) => e.data.pid === ids.pid && String(e.data.call).includes('chmod')).map((e) => e.data);
    const want: unknown[] = [];
    if (!unseen('chmod')) want.push({ call: 'chmod', path, mode: '4755', detail: `4755 ${path}` });
    want.push({ call: 'fchmodat', path, mode: '2755', detail: `2755 ${path}` });
    want.push({ call: 'fchmod', path: '', fd: ids.file, mode: '6755', detail: `6755 fd ${ids.file}` });
    if (!unseen('fchmodat2')) want.push({ call: 'fchmodat2', path, mode: '4711', detail: `4711 ${path}` });
    assert.deepEqual(
      modes.map(({ call, path, fd, mode, detail }) => ({ call, path, ...(fd === undefined ? {} : { fd }), mode, detail })),
      want,
    );
  });

  test('userfaultfd: the flags', { skip: noHelper }, () => {
    assert.equal(one(ids.pid, 'userfaultfd').flags, 'UFFD_USER_MODE_ONLY|O_CLOEXEC');
  });

  test("Eunomia's own process is left out unless --include-self; --pid keeps only that process (filtered in the kernel)", async () => {
    const file = join(dir, 'own');
    writeFileSync(file, '');
    const ours = (evs: TrackerEvent[]) => evs.filter((e) => e.data.pid === process.pid && e.data.mode === '4755');
    const chmodBoth = async (): Promise<number> => {
      chmodSync(file, 0o4755);
      const pid = await new Promise<number>((resolve, reject) => {
        const c = execFile('chmod', ['2755', file], (err) => err && reject(err));
        c.on('exit', () => resolve(c.pid!));
      });
      return pid;
    };
    let other = 0;
    const theirs = (evs: TrackerEvent[]) => evs.filter((e) => e.data.pid === other && e.data.mode === '2755');
    const excluded = await traceWhile(secsnoopTracker, { includeSelf: false }, async () => (other = await chmodBoth()), (evs) => theirs(evs).length > 0, { watch });
    assert.equal(ours(excluded.events).length, 0, 'our own chmod is not reported');
    assert.equal(theirs(excluded.events).length, 1, "the child's is");

    const only = await traceWhile(secsnoopTracker, { pid: process.pid }, async () => (other = await chmodBoth()), (evs) => ours(evs).length > 0, { watch });
    assert.equal(ours(only.events).length, 1, 'with --include-self (the harness default) our own chmod is reported');
    assert.ok(only.events.every((e) => e.data.pid === process.pid), '--pid: nothing from any other process');
  });
});

test('argument names of the calls this kernel may not show (modules, kexec), and of the newer ones', () => {
  const named = (call: string, arg: number[], str = ''): Record<string, unknown> => {
    const d: Record<string, unknown> = { pid: 1, call, arg_raw: arg, str_raw: str, str2_raw: '', addr_raw: Array(16).fill(0) };
    secsnoopTracker.format!(d);
    return d;
  };
  assert.deepEqual(named('init_module', [16, 0, 0]), { pid: 1, call: 'init_module', length: 16, detail: '16 bytes' });
  assert.deepEqual(named('finit_module', [3, 0, 0]), { pid: 1, call: 'finit_module', fd: 3, detail: 'fd 3' });
  assert.deepEqual(named('delete_module', [0o4000, 0, 0], 'nf_tables'), { pid: 1, call: 'delete_module', name: 'nf_tables', detail: 'nf_tables' });
  assert.deepEqual(named('kexec_load', [0x3e0001, 0, 0]), { pid: 1, call: 'kexec_load', flags: 'KEXEC_ON_CRASH|0x3e0000', detail: 'KEXEC_ON_CRASH|0x3e0000' });
  assert.deepEqual(named('kexec_file_load', [6, 0, 0]), { pid: 1, call: 'kexec_file_load', flags: 'KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS', detail: 'KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS' });
  assert.deepEqual(named('bpf', [5, -1, 8]), { pid: 1, call: 'bpf', cmd: 'BPF_PROG_LOAD', prog_type: '', name: '', detail: 'BPF_PROG_LOAD' }, 'attr unreadable');
  assert.equal(named('setns', [3, 0, 0]).nstype, 'any');
  const inet = { pid: 1, call: 'connect', arg_raw: [3, 2 | (3333 << 16), -101], str_raw: '', str2_raw: '', addr_raw: [10, 255, 255, 1, ...Array(12).fill(0)] };
  secsnoopTracker.format!(inet);
  assert.deepEqual(inet, { pid: 1, call: 'connect', family: 'AF_INET', daddr: '10.255.255.1', dport: 3333, result: 'ENETUNREACH', detail: '10.255.255.1:3333 ENETUNREACH' });
  assert.deepEqual(named('linkat', [0x1400, 0, 0], '/tmp/h'), { pid: 1, call: 'linkat', path: '/tmp/h', target: '', flags: 'AT_SYMLINK_FOLLOW|AT_EMPTY_PATH', detail: '/tmp/h -> ' });
  assert.equal(named('unlinkat', [-100, 0x200, 0], '/var/log/x').detail, '/var/log/x AT_REMOVEDIR');
  assert.equal(named('unshare', [0x10020000, 0, 0]).flags, 'CLONE_NEWNS|CLONE_NEWUSER');
  assert.equal(named('reboot', [0x4321fedc, 0, 0]).cmd, 'LINUX_REBOOT_CMD_POWER_OFF');
  assert.equal(named('reboot', [0, 0, 0]).cmd, 'LINUX_REBOOT_CMD_CAD_OFF');
  assert.deepEqual(named('mknodat', [0o20000, (1 << 8) | 3, 0], '/dev/x'), { pid: 1, call: 'mknodat', path: '/dev/x', mode: 'char', major: 1, minor: 3, detail: 'char 1:3 /dev/x' });
  assert.equal(named('utime', [1, 5, 0], '/etc/x').detail, '/etc/x atime 5');
  assert.equal(named('setsockopt', [4, 26, 17]).detail, 'SO_ATTACH_FILTER AF_PACKET fd 4');
  assert.equal(named('renameat2', [2, 0, 0], '/usr/bin/a').flags, 'RENAME_EXCHANGE');
});
