/* eunomia-attack: the attacks (and their benign neighbours) the security-rule tests run inside
 * a container, as one static binary baked into the test image (scripts/test-env.sh), so that
 * running it is not itself container drift. Each subcommand makes the syscalls an attacker's
 * tool would; whether the kernel then refuses them does not matter, the attempt is what the
 * rules see. Run under another name (a symlink such as nmap or kubectl) it only says so, to
 * stand in for tools the image does not have. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "eunomia-attack: %s: %s\n", what, strerror(errno));
	return 1;
}

/* BPF_PROG_LOAD of "r0 = 0; exit" as a socket filter. */
static int bpf_load(void)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	printf("bpf prog load: %ld\n", fd);
	return 0;
}

/* Attaches to a child of its own, as an injector attaches to its victim. */
static int ptrace_attach(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	long r = ptrace(PTRACE_ATTACH, child, 0, 0);
	if (r == 0) {
		waitpid(child, NULL, 0);
		ptrace(PTRACE_DETACH, child, 0, 0);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("ptrace attach: %ld\n", r);
	return 0;
}

/* Copies /bin/busybox into a memfd and runs it from there: nothing on disk. */
static int memfd_run(int exec)
{
	int fd = memfd_create("payload", 0);
	if (fd < 0)
		return fail("memfd_create");
	int src = open("/bin/busybox", O_RDONLY);
	struct stat st;
	if (src < 0 || fstat(src, &st) < 0)
		return fail("/bin/busybox");
	if (sendfile(fd, src, NULL, st.st_size) != st.st_size)
		return fail("copy");
	if (!exec)
		return 0;
	char *argv[] = { "true", NULL };
	char *envp[] = { NULL };
	fexecve(fd, argv, envp);
	return fail("fexecve");
}

/* Binds PATH (unless something listens there already) and connects to it. */
static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	struct stat st;
	if (stat(path, &st) < 0) {
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
			return fail("bind");
	}
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail("connect");
	printf("connected to %s\n", path);
	return 0;
}

/* A shell whose stdin, stdout and stderr are the socket `s` (fork, dup2, exec), fed "exit". */
static int shell_on(int s, int peer)
{
	pid_t child = fork();
	if (child == 0) {
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		execl("/bin/sh", "sh", "-i", (char *)NULL);
		_exit(127);
	}
	if (write(peer, "exit\n", 5) != 5)
		return fail("write");
	int status;
	waitpid(child, &status, 0);
	printf("shell exited: %d\n", WEXITSTATUS(status));
	return 0;
}

/* The reverse shell: a TCP connection becomes the shell's terminal. The "attacker's" end is
 * a listener in this same process, so the test needs no network beyond loopback. */
static int revshell(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		return fail("listen");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail("connect");
	int peer = accept(l, NULL, NULL);
	return shell_on(s, peer);
}

/* The benign neighbour: a shell on a local socket pair, as process supervisors do. */
static int unixshell(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return fail("socketpair");
	return shell_on(sv[0], sv[1]);
}

/* A classic BPF filter attached to a raw packet socket, as BPFDoor's listener does (accept every
 * packet); on a UDP socket when packet sockets are refused. */
static int socket_filter(void)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0xffff) };
	struct sock_fprog prog = { .len = 1, .filter = code };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (s < 0)
		s = socket(AF_INET, SOCK_DGRAM, 0);
	return printf("SO_ATTACH_FILTER: %d\n", setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) < 0;
}

/* execve with an empty argv, as the pkexec exploit (CVE-2021-4034) does. */
static int exec_noargv(const char *path)
{
	char *env[] = { "PATH=GCONV_PATH=.", NULL };
	syscall(SYS_execve, path, NULL, env);
	return fail("execve");
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(self, "eunomia-attack") != 0) {
		printf("%s: stand-in for the real tool\n", self);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: eunomia-attack COMMAND [ARG]\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "bpf-load"))
		return bpf_load();
	if (!strcmp(cmd, "traceme"))
		return printf("traceme: %ld\n", ptrace(PTRACE_TRACEME, 0, 0, 0)) < 0;
	if (!strcmp(cmd, "ptrace-attach"))
		return ptrace_attach();
	if (!strcmp(cmd, "packet-socket"))
		return printf("packet socket: %d\n", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))) < 0;
	if (!strcmp(cmd, "udp-socket"))
		return printf("udp socket: %d\n", socket(AF_INET, SOCK_DGRAM, 0)) < 0;
	if (!strcmp(cmd, "memfd-exec"))
		return memfd_run(1);
	if (!strcmp(cmd, "memfd"))
		return memfd_run(0);
	if (!strcmp(cmd, "unix-connect") && argc > 2)
		return unix_connect(argv[2]);
	if (!strcmp(cmd, "finit-module")) {
		int fd = open("/dev/null", O_RDONLY);
		return printf("finit_module: %ld\n", syscall(SYS_finit_module, fd, "", 0)) < 0;
	}
	if (!strcmp(cmd, "revshell"))
		return revshell();
	if (!strcmp(cmd, "unixshell"))
		return unixshell();
	if (!strcmp(cmd, "userfaultfd"))
		return printf("userfaultfd: %ld\n", syscall(SYS_userfaultfd, 0)) < 0;
	if (!strcmp(cmd, "eventfd"))
		return printf("eventfd: %d\n", eventfd(0, 0)) < 0;
	if (!strcmp(cmd, "kexec"))
		return printf("kexec_file_load: %ld\n", syscall(SYS_kexec_file_load, -1, -1, 0, "", 4 /* KEXEC_FILE_NO_INITRAMFS */)) < 0;
	if (!strcmp(cmd, "socket-filter"))
		return socket_filter();
	if (!strcmp(cmd, "sockopt")) {
		int one = 1, s = socket(AF_INET, SOCK_DGRAM, 0);
		return printf("SO_REUSEADDR: %d\n", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) < 0;
	}
	if (!strcmp(cmd, "udp-bind") && argc > 2) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		return printf("udp bind: %d\n", bind(s, (struct sockaddr *)&a, sizeof(a))) < 0;
	}
	if (!strcmp(cmd, "exec-noargv") && argc > 2)
		return exec_noargv(argv[2]);
	if (!strcmp(cmd, "setxattr") && argc > 3)
		return printf("setxattr: %d\n", setxattr(argv[2], argv[3], "payload", 7, 0)) < 0;
	/* Wrong magic numbers: the kernel refuses the call before it could do anything. */
	if (!strcmp(cmd, "reboot"))
		return printf("reboot: %ld\n", syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_RESTART, NULL)) < 0;
	fprintf(stderr, "eunomia-attack: unknown command %s\n", cmd);
	return 2;
}
