/* mycfs-front: the start of every mycfs command. A Bun process takes ~20 ms before any of
 * mycfs's code runs, and an engine runs `create`, `start` and `delete` as three of them;
 * so dist/mycfs is this small static program, with the Bun executable appended
 * (build.ts). It does runc's `start ID` and `delete [--force] ID` itself when nothing
 * but oci_lifecycle.c's work is to be done: no hook to run, not paused, no error to
 * report. Anything else, every other command included, runs the Bun part (runtime.c)
 * with the same arguments and environment, which decides again from the start.
 * Linked without a C library: raw system calls (../child/sys.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <stdarg.h>
#include "../mycfs.h"
#include "../child/sys.h"
#include "front.h"

#if defined(__x86_64__)
__asm__(
    ".text\n.global _start\n_start:\n  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call front_main\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  bl front_main\n  brk #0\n");
#endif

/* sys.h's record of the last failed call (child.c has it in libmycfs). */
long sys_failed_nr;
int sys_failed_errno;

const char *env_get(char **envp, const char *name) {
  size_t n = strlen(name);
  for (; *envp; envp++)
    if (!memcmp(*envp, name, n) && (*envp)[n] == '=') return *envp + n + 1;
  return 0;
}

void die(const char *first, ...) {
  char line[8192];
  size_t n = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *))
    for (; *s && n < sizeof line - 1; s++) line[n++] = *s;
  va_end(ap);
  line[n++] = '\n';
  sys(SYS_write, 2, line, n);
  sys_exit(1);
}

/* runc's option name (--name, -name, with =value or not) is `name`. */
static int named(const char *arg, const char *name, const char **inline_value) {
  const char *a = arg + 1 + (arg[1] == '-');
  size_t n = strlen(name);
  if (memcmp(a, name, n) || (a[n] && a[n] != '=')) return 0;
  *inline_value = a[n] ? a + n + 1 : 0;
  return 1;
}

static int valid_id(const char *id) {
  if (!*id || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
  for (const char *c = id; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '+' ||
          *c == '-' || *c == '.'))
      return 0;
  return 1;
}

char *append(char *at, char *limit, const char *s) {
  while (*s && at < limit) *at++ = *s++;
  *at = 0;
  return at;
}

/* Whether this is the host's root: uid 0 of the initial user namespace, whose uid_map is
 * "0 0 4294967295" (a rootless engine's uid 0 is not: src/cli/oci-select.ts). */
int host_root(void) {
  char map[128];
  long fd = sys(SYS_getuid) == 0 ? sys(SYS_openat, AT_FDCWD, "/proc/self/uid_map", O_RDONLY | O_CLOEXEC) : -1;
  long n = fd >= 0 ? sys(SYS_read, fd, map, sizeof map - 1) : -1;
  if (fd >= 0) sys(SYS_close, fd);
  if (n > 0) {
    map[n] = 0;
    const char *want[] = {"0", "0", "4294967295"};
    char *s = map;
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) {
      while (*s == ' ' || *s == '\t') s++;
      size_t len = strlen(want[i]);
      ok = !memcmp(s, want[i], len) && (s[len] == ' ' || s[len] == '\t' || s[len] == '\n' || !s[len]);
      s += ok ? len : 0;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n') s++;
    return ok && !*s;
  }
  return 0;
}

/* The state root without --root: src/cli/oci-select.ts's ociRoot. */
static void default_root(char *out, char *limit, char **envp) {
  const char *given = env_get(envp, "MYCFS_OCI_ROOT");
  if (given && *given) return (void)append(out, limit, given);
  if (host_root()) return (void)append(out, limit, "/run/mycfs-oci");
  const char *xdg = env_get(envp, "XDG_RUNTIME_DIR");
  if (xdg && *xdg) return (void)append(append(out, limit, xdg), limit, "/mycfs-oci");
  char uid[24];
  put_uint(uid, (unsigned long)sys(SYS_getuid));
  append(append(append(out, limit, "/tmp/mycfs-oci-"), limit, uid), limit, "/mycfs-oci");
}

/* Whether a path has a ".." component, which resolve() in TypeScript reads otherwise. */
static int dotdot(const char *path) {
  for (const char *c = path; *c; c++)
    if ((c == path || c[-1] == '/') && c[0] == '.' && c[1] == '.' && (!c[2] || c[2] == '/')) return 1;
  return 0;
}

/* start or delete done here: exits 0; returns when the slow path is to run. */
static void fast(int argc, char **argv, char **envp) {
  const char *root = 0, *v;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i], *unused;
    int is_root = named(a, "root", &v);
    if (!is_root && !named(a, "log", &v) && !named(a, "log-format", &v) && !named(a, "rootless", &v)) {
      if (named(a, "debug", &v)) continue;
      return; /* --systemd-cgroup, --criu, --, anything else: the slow path's */
    }
    if (!v && !(v = argv[++i])) return; /* argv[argc] is NULL */
    if (is_root) root = v;
    if (named(a, "log-format", &unused) && strcmp(v, "text") && strcmp(v, "json")) return;
    if (named(a, "rootless", &unused) && strcmp(v, "auto")) return;
  }
  if (i >= argc) return;
  const char *cmd = argv[i++];
  int delete = !strcmp(cmd, "delete"), force = 0;
  if (!delete &&strcmp(cmd, "start")) return;
  for (; delete &&i < argc && argv[i][0] == '-'; i++) {
    if (!named(argv[i], "force", &v) && !named(argv[i], "f", &v)) return;
    force = !v || !strcmp(v, "true") || !strcmp(v, "1");
  }
  if (argc - i != 1 || !valid_id(argv[i])) return;
  const char *id = argv[i];

  static char dir[4096], text[1 << 20];
  char *limit = dir + sizeof dir - 64;
  if (root) append(dir, limit, root);
  else default_root(dir, limit, envp);
  if (!*dir || dotdot(dir)) return;
  char *at = append(append(dir + strlen(dir), limit, "/"), limit, id);
  if (at >= limit) return;
  append(at, dir + sizeof dir - 1, "/state.json");
  long fd = sys(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  *at = 0;
  if (fd < 0) return;
  long len = 0, n;
  while ((n = sys(SYS_read, fd, text + len, sizeof text - len)) > 0) len += n;
  sys(SYS_close, fd);
  static struct saved s;
  if (n < 0 || len >= (long)sizeof text || parse_state(text, (size_t)len, &s) < 0) return;

  int status = oci_status(dir, s.lists, s.pid, s.start_time);
  if (!delete) {
    if (status != OCI_CREATED || s.start_hooks || oci_start(dir) < 0) return;
    sys_exit(0);
  }
  if (s.delete_hooks || status == OCI_PAUSED || (status == OCI_RUNNING && !force)) return;
  int err = oci_remove(dir, s.lists, s.pid, status != OCI_STOPPED);
  if (err < 0) {
    char num[24];
    put_uint(num, (unsigned)-err);
    die("mycfs: remove ", dir, ": errno ", num, (char *)0);
  }
  sys_exit(0);
}

__attribute__((noreturn, used)) void front_main(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
  fast(argc, argv, envp);
  exec_runtime(argv, envp);
}
