/* The slow path: the Bun part of this file, run as a cached copy of itself. build.ts
 * appends the Bun executable to the front, page-aligned, then a trailer: its offset, size
 * and sha256. A copy is kept in a directory only its owner (or root) can write, named by
 * the digest, and exec'd with the same arguments and environment:
 *   root       /var/lib/mycfs/runtime/mycfs-DIGEST16
 *   any other  $XDG_DATA_HOME/mycfs/runtime/ (default ~/.local/share/mycfs/runtime/)
 * The copy is trusted only if it is a regular file of the right size, owned by the
 * effective uid or root and writable by no one else, in such a directory: opened without
 * following a symlink and exec'd through that fd (execveat), so nothing can swap it
 * between the check and the exec. Missing or untrusted, it is extracted again: a temporary
 * file written beside it, made read-only, renamed over it. A directory that is there but
 * not to be trusted is refused; none to be had (a read-only root, no home), a sealed copy
 * in memory is run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "../mycfs.h"
#include "../child/sys.h"
#include "front.h"

#define TRAILER_MAGIC "MYCFSRT1"
struct trailer {
  char magic[8];
  uint64_t offset, size;
  uint8_t sha256[32];
};

/* The directory `sub` below dirfd, made if missing (mode 0755 or 0700), opened without
 * following a symlink, and trusted: owned by euid or root, writable by no one else. */
static long trusted_dir(long dirfd, const char *sub, const char *path, unsigned mode, long euid) {
  long fd = sys(SYS_openat, dirfd, sub, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -2 /* ENOENT */ && sys(SYS_mkdirat, dirfd, sub, mode) == 0)
    fd = sys(SYS_openat, dirfd, sub, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fd;
  struct stat st;
  if (sys(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) < 0) return -1;
  if ((st.st_uid != (unsigned)euid && st.st_uid != 0) || (st.st_mode & 022))
    die("mycfs: ", path,
        " is writable by others or owned by another user: mycfs runs nothing from it; remove it (mycfs makes it again) "
        "or chmod go-w it",
        (char *)0);
  return fd;
}

/* The base directory (following symlinks: the system's or the user's choice), made if
 * missing, then mycfs/runtime below it; -errno if it cannot be had. `path`, up to `limit`:
 * where it is, for messages. */
static long cache_dir(const char *base, long euid, char *path, char *limit) {
  char *at = append(path, limit, base);
  unsigned mode = euid == 0 ? 0755 : 0700;
  long fd = sys(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (const char *c = base; *c;) {
    while (*c == '/') c++;
    if (!*c) break;
    char name[256];
    size_t n = 0;
    while (*c && *c != '/' && n < sizeof name - 1) name[n++] = *c++;
    name[n] = 0;
    long next = sys(SYS_openat, fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (next == -2 /* ENOENT */ && sys(SYS_mkdirat, fd, name, mode) == 0)
      next = sys(SYS_openat, fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    sys(SYS_close, fd);
    if (next < 0) return next;
    fd = next;
  }
  at = append(at, limit, "/mycfs");
  long mycfs = trusted_dir(fd, "mycfs", path, mode, euid);
  sys(SYS_close, fd);
  if (mycfs < 0) return mycfs;
  append(at, limit, "/runtime");
  long runtime = trusted_dir(mycfs, "runtime", path, mode, euid);
  sys(SYS_close, mycfs);
  return runtime;
}

/* The cached copy opened for exec, or -1 if it is missing or not to be trusted. */
static long open_trusted(long dirfd, const char *name, uint64_t size, long euid) {
  long fd = sys(SYS_openat, dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return -1;
  if (sys(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISREG(st.st_mode) &&
      (st.st_uid == (unsigned)euid || st.st_uid == 0) && !(st.st_mode & 022) && (uint64_t)st.st_size == size)
    return fd;
  sys(SYS_close, fd);
  return -1;
}

/* The Bun part of self, into out: 0 or -errno. */
static long copy_out(long self, const struct trailer *t, long out) {
  int64_t off = (int64_t)t->offset;
  for (uint64_t left = t->size; left;) {
    long n = raw_syscall(SYS_copy_file_range, self, (long)&off, out, 0, (long)left, 0);
    if (n == -18 /* EXDEV */ || n == -22 /* EINVAL */ || n == -38 /* ENOSYS */ || n == -95 /* EOPNOTSUPP */)
      n = sys(SYS_sendfile, out, self, &off, left);
    if (n <= 0) return n < 0 ? n : -5; /* EIO: the file ended early */
    left -= (uint64_t)n;
  }
  return 0;
}

/* Copies the Bun part out of self into dirfd/name: 0 or -errno. */
static long extract(long dirfd, const char *name, long self, const struct trailer *t) {
  char tmp[128];
  char *end = tmp + sizeof tmp - 24;
  put_uint(append(append(tmp, end, name), end, ".tmp-"), (unsigned long)sys(SYS_getpid));
  sys(SYS_unlinkat, dirfd, tmp, 0); /* an earlier process's with this pid that died */
  long out = sys(SYS_openat, dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
  if (out < 0) return out;
  long err = copy_out(self, t, out);
  if (!err) err = sys(SYS_fchmod, out, 0555);
  if (!err) err = sys(SYS_fsync, out); /* never a file of the right size with holes after a crash */
  sys(SYS_close, out);
  if (!err) err = sys(SYS_renameat2, dirfd, tmp, dirfd, name, 0);
  if (err) sys(SYS_unlinkat, dirfd, tmp, 0);
  return err;
}

/* Copies of other builds: the KEEP newest stay (two mycfs used in turn are not copied out
 * at every start), older ones go. A process running one keeps it, and its /proc/self/exe,
 * until it ends. */
#define KEEP 4
static void prune(long dirfd) {
  static char buf[8192];
  for (;;) {
    long fd = sys(SYS_openat, dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n;
    if (fd < 0) return;
    int count = 0;
    struct stat st, oldest = {0};
    char victim[32] = "";
    while ((n = sys(SYS_getdents64, fd, buf, sizeof buf)) > 0)
      for (long off = 0; off < n;) {
        struct raw_dirent *e = (void *)(buf + off);
        off += e->reclen;
        if (strlen(e->name) != 22 || memcmp(e->name, "mycfs-", 6) ||
            sys(SYS_newfstatat, fd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
          continue;
        count++;
        if (!*victim || st.st_mtim.tv_sec < oldest.st_mtim.tv_sec ||
            (st.st_mtim.tv_sec == oldest.st_mtim.tv_sec && st.st_mtim.tv_nsec < oldest.st_mtim.tv_nsec))
          oldest = st, append(victim, victim + sizeof victim - 1, e->name);
      }
    sys(SYS_close, fd);
    if (count <= KEEP || sys(SYS_unlinkat, dirfd, victim, 0) < 0) return;
  }
}

/* No directory to keep a copy in (a read-only root, no home): a sealed copy in memory,
 * made at every start. Bun's process.execPath is then no path (/memfd:…); mycfs runs
 * itself again as /proc/self/exe. */
static long in_memory(long self, const struct trailer *t) {
  long fd = sys(SYS_memfd_create, "mycfs", MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x10 /* MFD_EXEC, 6.3 */);
  if (fd == -22) fd = sys(SYS_memfd_create, "mycfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return fd;
  long err = copy_out(self, t, fd);
  if (!err) err = sys(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  if (err) sys(SYS_close, fd);
  return err ? err : fd;
}

/* JavaScriptCore warms up GC blocks on a thread of its own, faulting heap pages in ahead of
 * allocation: for a process that is over in tens of milliseconds that thread only takes
 * CPU time and the address space's lock from the main one (docs/design.md, "Decisions": `create`
 * 1.2-2.1 ms faster without it). Bun reads JavaScriptCore's options from BUN_JSC_*
 * variables, so the front adds this one unless the caller set it. What mycfs starts as
 * itself (/proc/self/exe: a supervisor, a VM's init) inherits it; a container's process
 * and a hook get only the environment their config gives them. */
#define NO_WARM_UP "BUN_JSC_useWarmUpMarkedBlocks"
static char **runtime_env(char **envp) {
  static char *env[16384];
  size_t n = 0;
  while (envp[n]) n++;
  if (env_get(envp, NO_WARM_UP) || n > sizeof env / sizeof *env - 2) return envp;
  memcpy(env, envp, n * sizeof *envp);
  env[n] = (char *)NO_WARM_UP "=0";
  env[n + 1] = 0;
  return env;
}

void exec_runtime(char **argv, char **envp) {
  long self = sys(SYS_openat, AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct stat st;
  struct trailer t;
  if (self < 0 || sys(SYS_newfstatat, self, "", &st, AT_EMPTY_PATH) < 0 || st.st_size < (long)sizeof t ||
      sys(SYS_pread64, self, &t, sizeof t, st.st_size - (long)sizeof t) != sizeof t ||
      memcmp(t.magic, TRAILER_MAGIC, 8) || t.offset + t.size > (uint64_t)st.st_size - sizeof t || t.size == 0)
    die("mycfs: this executable holds no Bun part (a front built alone?): rebuild it with `bun build.ts`", (char *)0);
  char name[64];
  char *at = append(name, name + sizeof name - 1, "mycfs-");
  for (int i = 0; i < 8; i++) {
    *at++ = "0123456789abcdef"[t.sha256[i] >> 4];
    *at++ = "0123456789abcdef"[t.sha256[i] & 15];
  }
  *at = 0;

  long euid = sys(SYS_geteuid);
  /* the host's root's, else the user's: a rootless engine's uid 0 sees /var/lib/mycfs
   * owned by an unmapped uid, and may write nothing there */
  static char user_base[4096], path[4200];
  const char *xdg = env_get(envp, "XDG_DATA_HOME"), *home = env_get(envp, "HOME");
  char *user_end = user_base + sizeof user_base - 1, *at_end = user_base;
  if (xdg && *xdg == '/') at_end = append(user_base, user_end, xdg);
  else if (home && *home == '/') at_end = append(append(user_base, user_end, home), user_end, "/.local/share");
  if (at_end == user_end) *user_base = 0; /* too long: never cut short into another directory */
  const char *bases[] = {euid == 0 && host_root() ? "/var/lib" : 0, *user_base ? user_base : 0};
  long dirfd = -1;
  for (int i = 0; i < 2 && dirfd < 0; i++)
    if (bases[i]) dirfd = cache_dir(bases[i], euid, path, path + sizeof path - 1);
  long fd = dirfd < 0 ? -1 : open_trusted(dirfd, name, t.size, euid);
  if (fd < 0 && dirfd >= 0 && extract(dirfd, name, self, &t) == 0) {
    fd = open_trusted(dirfd, name, t.size, euid);
    prune(dirfd);
  }
  if (fd < 0 && (fd = in_memory(self, &t)) < 0)
    die("mycfs: cannot copy its runtime into ", *path ? path : "a directory", " nor into memory", (char *)0);
  sys(SYS_close, self);
  if (dirfd >= 0) sys(SYS_close, dirfd);
  sys(SYS_execveat, fd, "", argv, runtime_env(envp), AT_EMPTY_PATH);
  die("mycfs: cannot run its runtime (execveat)", (char *)0);
}
