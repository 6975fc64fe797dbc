/* runc's start and delete over an OCI container's state, the part that acts: shared by
 * libmycfs (src/oci/state.ts calls it, and keeps the hooks, the errors and pausing) and
 * the front (csrc/front/), which does a start or a delete that needs no hook without
 * starting Bun. Raw system calls only (child/sys.h), no C library: the front has none. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include "mycfs.h"
#include "child/sys.h"

#define PATH 4096

/* a, then "/" and b, into out; 0, or -ENAMETOOLONG. */
static int join(char out[PATH], const char *a, const char *b) {
  size_t n = 0;
  for (const char *s = a; *s; s++)
    if (n < PATH - 1) out[n++] = *s;
  if (b) {
    if (n < PATH - 1) out[n++] = '/';
    for (const char *s = b; *s; s++)
      if (n < PATH - 1) out[n++] = *s;
  }
  out[n] = 0;
  return n >= PATH - 1 ? -36 /* ENAMETOOLONG */ : 0;
}

/* The whole of a small file (procfs, cgroupfs: one read may return less), NUL-ended; its
 * length, or -errno. */
static long read_small(const char *path, char *buf, size_t size) {
  long fd = sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  size_t n = 0;
  long r = 0;
  while (n < size - 1 && (r = sys(SYS_read, fd, buf + n, size - 1 - n)) > 0) n += (size_t)r;
  sys(SYS_close, fd);
  buf[n] = 0;
  return r < 0 ? r : (long)n;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  sys(SYS_nanosleep, &ts, 0);
}

int64_t oci_process_start(int pid) {
  char path[32] = "/proc/", stat[4096];
  if (pid <= 0) return -1;
  memcpy(put_uint(path + 6, (unsigned)pid), "/stat", 6);
  if (read_small(path, stat, sizeof stat) <= 0) return -1;
  char *s = strrchr(stat, ')');
  if (!s || s[1] != ' ' || s[2] == 'Z' || s[2] == 'X') return -1;
  s += 2; /* field 3, the state; starttime is field 22 */
  for (int field = 3; field < 22; field++) {
    s = strchr(s, ' ');
    if (!s) return -1;
    s++;
  }
  int64_t v = 0;
  for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
  return v;
}

/* The next name of a list ("a\0b\0\0"), or NULL at its end. */
static const char *next(const char **list) {
  const char *s = *list;
  if (!*s) return 0;
  *list = s + strlen(s) + 1;
  return s;
}

/* Sends sig to every process of the first of dirs whose cgroup.procs lists any (one
 * hierarchy lists them all); buf: a scratch buffer. */
static void signal_cgroup(const char *dirs, int sig) {
  static char buf[1 << 16];
  char path[PATH];
  for (const char *d; (d = next(&dirs));) {
    if (join(path, d, "cgroup.procs") < 0 || read_small(path, buf, sizeof buf) <= 0) continue;
    for (char *s = buf; *s;) {
      long pid = 0;
      for (; *s >= '0' && *s <= '9'; s++) pid = pid * 10 + (*s - '0');
      if (pid > 0) sys(SYS_kill, pid, sig);
      while (*s && (*s < '0' || *s > '9')) s++;
    }
    return;
  }
}

int oci_status(const char *dir, const char *dirs, int pid, int64_t start) {
  char path[PATH], buf[64];
  if (oci_process_start(pid) != start || start < 0) return OCI_STOPPED;
  struct stat st;
  if (join(path, dir, "exec.fifo") == 0 && sys(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return OCI_CREATED;
  /* the freezer: v1's freezer.state, or v2's cgroup.freeze, of the first that has one */
  for (const char *d; (d = next(&dirs));) {
    if (join(path, d, "freezer.state") == 0 && read_small(path, buf, sizeof buf) >= 0)
      return memcmp(buf, "FROZEN", 6) ? OCI_RUNNING : OCI_PAUSED;
    if (join(path, d, "cgroup.freeze") == 0 && read_small(path, buf, sizeof buf) >= 0)
      return buf[0] == '1' ? OCI_PAUSED : OCI_RUNNING;
  }
  return OCI_RUNNING;
}

int oci_start(const char *dir) {
  char fifo[PATH];
  int rc = join(fifo, dir, "exec.fifo");
  if (rc < 0) return rc;
  long fd = sys(SYS_openat, AT_FDCWD, fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return (int)fd;
  long n = sys(SYS_write, fd, "0", 1);
  sys(SYS_close, fd);
  sys(SYS_unlinkat, AT_FDCWD, fifo, 0);
  return n < 0 ? (int)n : 0;
}

int oci_wait_gone(int pid) {
  /* its pidfd turns readable when it exits (a zombie, for an engine's): no 1 ms polls */
  long pidfd = sys(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0) {
    struct pollfd p = {.fd = (int)pidfd, .events = POLLIN};
    struct timespec limit = {1, 0};
    sys(SYS_ppoll, &p, 1, &limit, 0);
    sys(SYS_close, pidfd);
  }
  for (int i = 0; i < 1000; i++) {
    siginfo_t si;
    si.si_pid = 0;
    /* ours (mycfs run's): reaped here; an engine's: gone once /proc says so */
    long r = sys(SYS_waitid, P_PID, pid, &si, WEXITED | WNOHANG | __WALL, 0);
    if (r == 0 && si.si_pid == pid) return 0;
    if (r < 0 && oci_process_start(pid) < 0) return 0;
    sleep_us(1000);
  }
  return -110; /* ETIMEDOUT */
}

/* A state directory holds files only (state.json, exec.fifo): them, then it. */
static int remove_state(const char *dir) {
  long fd = sys(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fd == -2 /* ENOENT */ ? 0 : (int)fd;
  static char buf[8192];
  long n;
  int err = 0;
  while ((n = sys(SYS_getdents64, fd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n;) {
      struct raw_dirent *e = (void *)(buf + off);
      off += e->reclen;
      if (strcmp(e->name, ".") && strcmp(e->name, "..")) {
        long r = sys(SYS_unlinkat, fd, e->name, e->type == 4 /* DT_DIR */ ? AT_REMOVEDIR : 0);
        if (r < 0 && r != -2 && !err) err = (int)r;
      }
    }
  sys(SYS_close, fd);
  if (n < 0) return (int)n;
  long r = sys(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);
  return err ? err : r < 0 && r != -2 ? (int)r : 0;
}

static void warn_cgroup(const char *dir, long err) {
  char line[PATH + 96];
  size_t n = 0;
  const char *parts[] = {"mycfs: warning: could not remove the cgroup ", dir, ": errno "};
  for (size_t i = 0; i < 3; i++)
    for (const char *s = parts[i]; *s && n < PATH; s++) line[n++] = *s;
  n = (size_t)(put_uint(line + n, (unsigned long)err) - line);
  line[n++] = '\n';
  sys(SYS_write, 2, line, n);
}

int oci_remove(const char *dir, const char *lists, int pid, int kill) {
  const char *dirs = lists, *parents = lists;
  while (next(&parents)) {}
  parents++; /* past the empty name that ends dirs */
  if (kill) {
    sys(SYS_kill, pid, SIGKILL);
    signal_cgroup(dirs, SIGKILL);
    oci_wait_gone(pid);
  }
  /* its processes have left the cgroup once they ended (zombies too); the deepest first */
  const char *all[64];
  size_t count = 0;
  for (const char *d; count < 64 && (d = next(&dirs));) all[count++] = d;
  while (count--) {
    const char *d = all[count];
    char one[PATH + 2];
    size_t len = strlen(d);
    if (len >= PATH) continue;
    memcpy(one, d, len + 1);
    one[len + 1] = 0;
    long err = sys(SYS_unlinkat, AT_FDCWD, d, AT_REMOVEDIR);
    for (int i = 0; err == -16 /* EBUSY */ && i < 200; i++) {
      signal_cgroup(one, SIGKILL);
      sleep_us(5000);
      err = sys(SYS_unlinkat, AT_FDCWD, d, AT_REMOVEDIR);
    }
    if (err < 0 && err != -2) warn_cgroup(d, -err);
  }
  /* the parents create made, deepest first; one another container still uses stays */
  for (size_t longest = (size_t)-1;;) {
    size_t best = 0;
    const char *pick = 0;
    for (const char *l = parents, *p; (p = next(&l));)
      if (strlen(p) < longest && strlen(p) >= best) best = strlen(p), pick = p;
    if (!pick) break;
    for (const char *l = parents, *p; (p = next(&l));)
      if (strlen(p) == best) sys(SYS_unlinkat, AT_FDCWD, p, AT_REMOVEDIR);
    longest = best;
  }
  return remove_state(dir);
}
