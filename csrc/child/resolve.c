/* Path resolution below the container root. openat2(RESOLVE_IN_ROOT) treats the root
 * fd as "/" for every symlink and "..", so an image cannot aim a mount target at the
 * host (runc CVE-2021-30465). Missing components are created one at a time with the
 * *at() calls relative to an already resolved parent, never through a path string.
 * The unpacker passes stricter rules (no symlink at all, nothing above the root).
 * The child uses these too: raw system calls (sys.h); each returns an fd or -errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../mycfs.h"
#include "sys.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int resolve(int root_fd, const char *path, uint64_t rules) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = rules};
  return (int)sys(SYS_openat2, root_fd, path, &how, sizeof how);
}

static int create_at(int root_fd, const char *parent, const char *name, enum create_kind kind, uint64_t rules) {
  int pfd = resolve(root_fd, parent[0] ? parent : ".", rules);
  if (pfd < 0) return pfd;
  long rc;
  if (kind == CREATE_FILE) {
    rc = sys(SYS_openat, pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (rc >= 0) sys(SYS_close, rc);
  } else {
    rc = sys(SYS_mkdirat, pfd, name, 0755);
  }
  sys(SYS_close, pfd);
  /* EEXIST: someone made it meanwhile, or it is a symlink; the next resolve decides. */
  return rc < 0 && rc != -EEXIST ? (int)rc : 0;
}

/* The last component of `buf` (its parent ends at `slash`, or is the root if NULL) is a
 * symlink whose target does not exist: buf becomes the target. A relative target is taken
 * from the link's parent, as the kernel would. */
static int retarget(int root_fd, char *buf, char *slash, uint64_t rules) {
  char link[PATH_MAX], next[PATH_MAX];
  const char *name = slash ? slash + 1 : buf + (buf[0] == '/');
  if (slash) *slash = '\0';
  int pfd = resolve(root_fd, slash && buf[0] ? buf : "/", rules);
  if (slash) *slash = '/';
  if (pfd < 0) return pfd;
  long n = sys(SYS_readlinkat, pfd, name, link, sizeof link - 1);
  sys(SYS_close, pfd);
  if (n <= 0) return n < 0 ? (int)n : -ENOENT;
  link[n] = '\0';
  size_t parent = link[0] == '/' || !slash ? 0 : (size_t)(slash - buf);
  size_t len = parent + 1 + (size_t)n;
  if (len >= sizeof next) return -ENAMETOOLONG;
  memcpy(next, buf, parent);
  next[parent] = '/';
  memcpy(next + parent + 1, link, (size_t)n + 1);
  memcpy(buf, next, len + 1);
  return 0;
}

int open_below(int root_fd, const char *path, enum create_kind create, uint64_t rules) {
  int fd = resolve(root_fd, path, rules);
  if (fd != -ENOENT || create == CREATE_NONE) return fd;

  char buf[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, len + 1);
  /* A last component still missing once made is a dangling symlink (an image's
   * /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf): the walk starts again at
   * its target, still below the root, up to the kernel's 40 links. A directory on the way
   * that leads nowhere stays an error. */
  for (int links = 0; links <= 40; links++) {
    char *last_slash = NULL;
    int again = 0;
    for (char *p = buf + 1; !again; p++) {
      if (*p != '/' && *p != '\0') continue;
      char saved = *p;
      *p = '\0';
      fd = resolve(root_fd, buf, rules);
      if (fd == -ENOENT) {
        char *name = last_slash ? last_slash + 1 : buf + (buf[0] == '/');
        char keep = 0;
        if (last_slash) {
          keep = *last_slash;
          *last_slash = '\0';
        }
        int rc = create_at(root_fd, last_slash ? buf : "", name, saved == '\0' ? create : CREATE_DIR, rules);
        if (last_slash) *last_slash = keep;
        if (rc < 0) return rc;
        fd = resolve(root_fd, buf, rules);
        if (fd == -ENOENT && saved == '\0' && (rules & RESOLVE_IN_ROOT)) {
          rc = retarget(root_fd, buf, last_slash, rules);
          if (rc < 0) return rc;
          again = 1;
          continue;
        }
      }
      if (fd < 0 || saved == '\0') return fd;
      sys(SYS_close, fd);
      *p = saved;
      last_slash = p;
    }
  }
  return -ELOOP;
}

int open_in_root(int root_fd, const char *path, enum create_kind create) {
  return open_below(root_fd, path, create, IN_ROOT);
}

int open_file_in_root(int root_fd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = IN_ROOT};
  return (int)sys(SYS_openat2, root_fd, path, &how, sizeof how);
}

/* Resolves the directory part of path (creating it as `create` says); *name points at
 * the last component. */
int open_parent_below(int root_fd, const char *path, const char **name, enum create_kind create, uint64_t rules) {
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  size_t n = slash ? (size_t)(slash - path) : 0;
  if (n >= sizeof dir) return -ENAMETOOLONG;
  memcpy(dir, path, n);
  dir[n] = '\0';
  *name = slash ? slash + 1 : path;
  if (!**name) return -EINVAL;
  return open_below(root_fd, n ? dir : ".", create, rules);
}

int open_parent_in_root(int root_fd, const char *path, const char **name) {
  return open_parent_below(root_fd, path, name, CREATE_DIR, IN_ROOT);
}
