/* co_re.bpf.c plus a field no shipped object reads (task_struct.nvcsw): the shared minimized
 * BTF does not have it, so libbpf must be left the kernel's full BTF. */
#define UNCOVERED
#include "co_re.bpf.c"
