/* Workloads that hit one hook each, for the per-tracker slow-down: work MODE SECONDS [RATE].
 * Prints the operations done per second. RATE (ops/s) paces it; unpaced without. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int listener(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 4096);
	getsockname(s, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return s;
}

static int dial(int port)
{
	int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		exit(2);
	return c;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 1;
	const char *mode = argv[1];
	double secs = atof(argv[2]);
	double rate = argc > 3 ? atof(argv[3]) : 0;
	char path[] = "/tmp/eunomia-work-XXXXXX", buf[64] = { 0 };
	int fd = mkstemp(path), port = 0, ls = -1, a = -1, c = -1, q = -1;
	signal(SIGWINCH, SIG_IGN);
	if (!strcmp(mode, "connect") || !strcmp(mode, "pingpong"))
		ls = listener(&port);
	if (!strcmp(mode, "pingpong")) {
		c = dial(port);
		a = accept(ls, NULL, NULL);
	}
	if (!strcmp(mode, "ipc"))
		q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	char mnt[] = "/tmp/eunomia-mnt-XXXXXX";
	if (!strcmp(mode, "mount") && !mkdtemp(mnt))
		return 1;
	/* secsnoop's path filters (none matches): renames and deletions (of a missing file) by
	 * absolute path, and by relative path in a directory five deep, whose path is built in
	 * the kernel; setsockopt(SO_REUSEADDR) */
	char moved[64], deep[] = "/tmp/eunomia-deep-XXXXXX";
	snprintf(moved, sizeof(moved), "%s.moved", path);
	int rel = strstr(mode, "-rel") != NULL;
	if (rel && (!mkdtemp(deep) || chdir(deep) || mkdir("a", 0700) || chdir("a") || mkdir("b", 0700) || chdir("b") ||
		    mkdir("c", 0700) || chdir("c") || close(open("f", O_CREAT | O_WRONLY, 0600))))
		return 1;
	const char *from = rel ? "f" : path, *to = rel ? "g" : moved;
	int udp = strcmp(mode, "setsockopt") ? -1 : socket(AF_INET, SOCK_DGRAM, 0), one = 1;

	unsigned long n = 0;
	double t0 = now(), el = 0;
	while ((el = now() - t0) < secs) {
		/* Paced: ahead of the rate, sleep the difference (in steps of 16 operations). */
		if (rate > 0 && n / rate > el) {
			double ahead = n / rate - el;
			struct timespec ts = { .tv_sec = (time_t)ahead, .tv_nsec = (long)((ahead - (time_t)ahead) * 1e9) };
			nanosleep(&ts, NULL);
			continue;
		}
		for (int i = 0; i < 16; i++) {
			if (!strcmp(mode, "getppid")) {
				syscall(SYS_getppid);
			} else if (!strcmp(mode, "readwrite")) {
				pwrite(fd, buf, 64, 0);
				pread(fd, buf, 64, 0);
			} else if (!strcmp(mode, "openclose")) {
				close(open(path, O_RDONLY));
			} else if (!strcmp(mode, "exec")) {
				pid_t p = fork();
				if (p == 0) {
					execl("/bin/true", "true", (char *)NULL);
					_exit(127);
				}
				waitpid(p, NULL, 0);
			} else if (!strcmp(mode, "kill")) {
				kill(getpid(), SIGWINCH);
			} else if (!strcmp(mode, "connect")) {
				int s = dial(port);
				close(accept(ls, NULL, NULL));
				close(s);
			} else if (!strcmp(mode, "pingpong")) {
				write(c, "x", 1);
				read(a, buf, 1);
				write(a, "y", 1);
				read(c, buf, 1);
			} else if (!strcmp(mode, "bind")) {
				int s = socket(AF_INET, SOCK_DGRAM, 0);
				struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
				bind(s, (struct sockaddr *)&sa, sizeof(sa));
				close(s);
			} else if (!strcmp(mode, "mmap")) {
				munmap(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4096);
			} else if (!strcmp(mode, "ipc")) {
				struct msqid_ds ds;
				msgctl(q, IPC_STAT, &ds);
			} else if (!strcmp(mode, "mount")) {
				mount("tmpfs", mnt, "tmpfs", 0, "size=1m");
				umount(mnt);
			} else if (!strcmp(mode, "rename") || !strcmp(mode, "rename-rel")) {
				rename(n & 1 ? to : from, n & 1 ? from : to);
			} else if (!strcmp(mode, "unlink") || !strcmp(mode, "unlink-rel")) {
				unlink(to); /* missing: ENOENT, after the hook */
			} else if (!strcmp(mode, "setsockopt")) {
				setsockopt(udp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			} else {
				return 1;
			}
			n++;
		}
	}
	unlink(path);
	if (rel) {
		unlink("f");
		unlink("g");
		chdir("/");
		char sub[64];
		const char *subs[] = { "/a/b/c", "/a/b", "/a", "" };
		for (int i = 0; i < 4; i++) {
			snprintf(sub, sizeof(sub), "%s%s", deep, subs[i]);
			rmdir(sub);
		}
	}
	if (q >= 0)
		msgctl(q, IPC_RMID, NULL);
	if (!strcmp(mode, "mount"))
		rmdir(mnt);
	printf("%.1f\n", n / el);
	return 0;
}
