/*
 * eunomia-seccomp-exec: runs a command under a seccomp filter.
 *
 * Node cannot run code between fork and exec, so this helper does it: it builds the filter with
 * libseccomp from a small line format (written and validated by src/seccomp/filter-spec.ts),
 * joins a cgroup (the recorder keys by cgroup id), sets no_new_privs, loads the filter and then
 * becomes the command: the command's exit status is the caller's.
 *
 *   eunomia-seccomp-exec [--cgroup DIR] (--filter FILE | --allow-all) -- CMD [ARGS...]
 *
 * Exit status: the command's; 125 when the helper itself fails; 126 when CMD was found but
 * could not be run, 127 when it was not found (as env, nohup and timeout).
 *
 * The filter file, one directive a line ('#' starts a comment):
 *   default <action>                 the action for calls no rule matches (first, once)
 *   badarch <action>                 the action for calls of another ABI (32-bit, x32)
 *   rule <nr> <action> [arg <index> <op> <value> [<value2>]]...
 * Actions: allow, log, errno <n>, kill_process, kill_thread, trap. Ops: eq ne lt le ge gt
 * masked_eq (mask, then value). Numbers are decimal; syscall numbers are the native (x86-64)
 * ABI's. Rules for one syscall are ORed (libseccomp does that), a rule's args are ANDed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define EXIT_HELPER 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

/* The kernel clamps a returned errno to MAX_ERRNO: a larger one would not be what was asked. */
#define MAX_ERRNO 4095
/* x32 calls are the x86-64 ABI with bit 30 set: native numbers are below it. */
#define MAX_SYSCALL 0x3fffffffULL
#define MAX_ARGS 6

static const char *const USAGE =
    "usage: eunomia-seccomp-exec [--cgroup DIR] (--filter FILE | --allow-all) -- CMD [ARGS...]\n";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("eunomia-seccomp-exec: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(EXIT_HELPER);
}

/* Where a directive came from, for messages: the file, the line number and its text. */
struct where {
  const char *file;
  unsigned line;
  const char *text;
};

static void bad(const struct where *w, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void bad(const struct where *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "eunomia-seccomp-exec: %s line %u: ", w->file, w->line);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (in \"%s\")\n", w->text);
  va_end(ap);
  exit(EXIT_HELPER);
}

/* Decimal u64 only: strtoull would also take signs, spaces, hex and octal, and wrap "-1". */
static int parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (s == NULL || *s == '\0') return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* The tokens of one line, consumed left to right. */
struct tokens {
  char *tok[64];
  int n, i;
};

static const char *next(struct tokens *t) { return t->i < t->n ? t->tok[t->i++] : NULL; }

static uint64_t number(const struct where *w, struct tokens *t, const char *what, uint64_t max) {
  const char *s = next(t);
  uint64_t v;
  if (s == NULL) bad(w, "missing %s", what);
  if (parse_u64(s, &v) < 0 || v > max) bad(w, "bad %s \"%s\" (a decimal number up to %llu)", what, s, (unsigned long long)max);
  return v;
}

static uint32_t action(const struct where *w, struct tokens *t) {
  const char *s = next(t);
  if (s == NULL) bad(w, "missing action");
  if (!strcmp(s, "allow")) return SCMP_ACT_ALLOW;
  if (!strcmp(s, "log")) return SCMP_ACT_LOG;
  if (!strcmp(s, "errno")) return SCMP_ACT_ERRNO((uint32_t)number(w, t, "errno", MAX_ERRNO));
  if (!strcmp(s, "kill_process")) return SCMP_ACT_KILL_PROCESS;
  if (!strcmp(s, "kill_thread")) return SCMP_ACT_KILL_THREAD;
  if (!strcmp(s, "trap")) return SCMP_ACT_TRAP;
  bad(w, "unknown action \"%s\" (allow, log, errno N, kill_process, kill_thread, trap)", s);
}

static enum scmp_compare compare(const struct where *w, const char *s) {
  static const struct { const char *name; enum scmp_compare op; } ops[] = {
      {"eq", SCMP_CMP_EQ}, {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE},
      {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT}, {"masked_eq", SCMP_CMP_MASKED_EQ},
  };
  if (s == NULL) bad(w, "missing comparison");
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(s, ops[i].name)) return ops[i].op;
  bad(w, "unknown comparison \"%s\" (eq ne lt le ge gt masked_eq)", s);
}

/* rule <nr> <action> [arg <index> <op> <value> [<value2>]]... */
static void add_rule(const struct where *w, struct tokens *t, scmp_filter_ctx ctx, uint32_t def) {
  int nr = (int)number(w, t, "syscall number", MAX_SYSCALL);
  uint32_t act = action(w, t);
  struct scmp_arg_cmp args[MAX_ARGS];
  unsigned n = 0;
  const char *s;
  while ((s = next(t)) != NULL) {
    if (strcmp(s, "arg")) bad(w, "expected \"arg\", found \"%s\"", s);
    if (n == MAX_ARGS) bad(w, "more than %d arg comparisons", MAX_ARGS);
    struct scmp_arg_cmp *a = &args[n++];
    a->arg = (unsigned)number(w, t, "arg index", MAX_ARGS - 1);
    a->op = compare(w, next(t));
    a->datum_a = number(w, t, "value", UINT64_MAX);
    a->datum_b = 0;
    /* A second value is optional except for masked_eq (mask, then value); peek before taking it. */
    if (a->op == SCMP_CMP_MASKED_EQ || (t->i < t->n && strcmp(t->tok[t->i], "arg")))
      a->datum_b = number(w, t, "second value", UINT64_MAX);
  }
  /* libseccomp refuses a rule whose action is the default's (EACCES): it would change nothing. */
  if (act == def) return;
  int rc = seccomp_rule_add_array(ctx, act, nr, n, args);
  if (rc < 0) bad(w, "libseccomp refused the rule: %s", strerror(-rc));
}

/* Reads the filter file into a libseccomp context; any malformed line ends the helper. */
static scmp_filter_ctx read_filter(const char *file) {
  FILE *f = fopen(file, "re");
  if (f == NULL) die("open filter %s: %s", file, strerror(errno));
  scmp_filter_ctx ctx = NULL;
  uint32_t def = 0;
  char *buf = NULL, *text = NULL;
  size_t cap = 0;
  ssize_t len;
  struct where w = {file, 0, ""};
  errno = 0;
  while ((len = getline(&buf, &cap, f)) >= 0) {
    w.line++;
    if ((size_t)len != strlen(buf)) bad(&w, "NUL byte in line");
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    free(text);
    text = strdup(buf); /* strtok_r cuts buf: keep the line whole for messages */
    if (text == NULL) die("out of memory");
    w.text = text;
    struct tokens t = {.n = 0, .i = 0};
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
      if (t.n == (int)(sizeof t.tok / sizeof t.tok[0])) bad(&w, "too many words");
      t.tok[t.n++] = tok;
    }
    const char *d = next(&t);
    if (d == NULL) continue; /* blank or comment */
    if (!strcmp(d, "default")) {
      if (ctx) bad(&w, "a second \"default\"");
      def = action(&w, &t);
      if (t.i < t.n) bad(&w, "unexpected \"%s\"", t.tok[t.i]);
      ctx = seccomp_init(def);
      if (ctx == NULL) die("seccomp_init failed (out of memory, or libseccomp does not know this action)");
    } else if (!strcmp(d, "badarch")) {
      if (!ctx) bad(&w, "\"badarch\" before \"default\"");
      uint32_t act = action(&w, &t);
      if (t.i < t.n) bad(&w, "unexpected \"%s\"", t.tok[t.i]);
      int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, act);
      if (rc < 0) bad(&w, "seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH): %s", strerror(-rc));
    } else if (!strcmp(d, "rule")) {
      if (!ctx) bad(&w, "\"rule\" before \"default\"");
      add_rule(&w, &t, ctx, def);
    } else {
      bad(&w, "unknown directive \"%s\" (default, badarch, rule)", d);
    }
    errno = 0;
  }
  if (errno) die("read filter %s: %s", file, strerror(errno));
  free(buf);
  free(text);
  fclose(f);
  if (ctx == NULL) die("filter %s: no \"default\" line", file);
  return ctx;
}

/* Writing "0" to cgroup.procs moves the writer itself: its children (the command) stay there. */
static void join_cgroup(const char *dir) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= sizeof path) die("cgroup path too long: %s", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open %s: %s", path, strerror(errno));
  if (write(fd, "0\n", 2) != 2) die("join cgroup %s: %s", dir, strerror(errno));
  close(fd);
}

int main(int argc, char **argv) {
  const char *cgroup = NULL, *filter = NULL;
  int allow_all = 0, i, dashes = 0;
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--")) {
      dashes = 1;
      i++;
      break;
    } else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc) {
      cgroup = argv[++i];
    } else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
      filter = argv[++i];
    } else if (!strcmp(argv[i], "--allow-all")) {
      allow_all = 1;
    } else if (!strcmp(argv[i], "--help")) {
      fputs(USAGE, stdout);
      return 0;
    } else {
      fprintf(stderr, "eunomia-seccomp-exec: unknown or incomplete option \"%s\"\n%s", argv[i], USAGE);
      return EXIT_HELPER;
    }
  }
  /* "--" is required so that the command's own options are never read as ours. */
  if (!dashes || i >= argc || (filter != NULL) == allow_all) {
    fprintf(stderr, "eunomia-seccomp-exec: give one of --filter and --allow-all, then -- and the command\n%s", USAGE);
    return EXIT_HELPER;
  }

  /* Built before anything changes, so a malformed filter fails with no side effect. */
  scmp_filter_ctx ctx;
  if (allow_all) {
    /* No rule: the task is in seccomp mode 2 (what `seccomp record` counts from) and every call,
       32-bit ones included, runs as without a filter. */
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) die("seccomp_init failed");
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    if (rc < 0) die("seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH): %s", strerror(-rc));
  } else {
    ctx = read_filter(filter);
  }

  if (cgroup) join_cgroup(cgroup);

  /* Without CAP_SYS_ADMIN the kernel requires it; with it, a setuid program run under the
     filter could still not gain privileges the filter was not written for. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));

  int rc = seccomp_load(ctx);
  if (rc < 0) die("seccomp_load: %s", strerror(-rc));
  /* The context is not released: exec frees it, and free() is one more call the filter sees. */

  execvp(argv[i], &argv[i]);
  /* The filter is in place: this message and exit are themselves filtered calls. */
  int e = errno;
  fprintf(stderr, "eunomia-seccomp-exec: cannot run %s: %s%s\n", argv[i], strerror(e),
          e == EPERM ? " (does the profile allow execve?)" : "");
  return e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
