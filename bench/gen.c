/* getppid() generator: gen RATE SECONDS (RATE 0 = as fast as it can). Starts when a line
 * arrives on stdin, so the tracer can attach to its pid first; prints "calls seconds". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double rate = argc > 1 ? atof(argv[1]) : 0, secs = argc > 2 ? atof(argv[2]) : 5;
	char line[16];
	if (read(0, line, sizeof(line)) <= 0)
		return 1;
	uint64_t n = 0;
	double t0 = now(), el = 0;
	for (;;) {
		for (int i = 0; i < 64; i++)
			syscall(SYS_getppid);
		n += 64;
		el = now() - t0;
		if (el >= secs)
			break;
		if (rate > 0) {
			double ahead = n / rate - el;
			if (ahead > 0.0002) {
				struct timespec ts = { 0, (long)(ahead * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	printf("%llu %.3f\n", (unsigned long long)n, el);
	return 0;
}
