/* Creating an archive's entries below an image's root, for src/images/unpack.ts (and
 * for the copy of an image in store.c). Every path is resolved beneath the
 * root fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): no "..", no absolute path
 * and no symlink is ever followed, so an archive cannot write outside its root whatever
 * it holds (docker CVE-2014-6407, CVE-2018-15664). Each entry is created relative to its
 * parent's fd with the *at() calls, never through a path string. Functions return 0, a
 * new fd, or -errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "mycfs.h"

#define BELOW (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

static int open_below_as(int root, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)flags | O_NOFOLLOW | O_CLOEXEC, .resolve = BELOW};
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

static struct timespec to_timespec(double t) {
  time_t s = (time_t)t;
  if ((double)s > t) s--;
  return (struct timespec){.tv_sec = s, .tv_nsec = (long)((t - (double)s) * 1e9)};
}

/* A later archive entry replaces what an earlier one left at the same name, as tar does:
 * never write through it (it may be a hardlink or a symlink). */
static int make_room(int dfd, const char *name) {
  if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT) return 0;
  return errno == EISDIR ? unlinkat(dfd, name, AT_REMOVEDIR) : -1;
}

/* Evaluates a create call; if something is in the way, removes it and tries once more. */
#define REPLACING(call)                                                        \
  ({                                                                           \
    int rc_ = (call);                                                          \
    if (rc_ < 0 && errno == EEXIST && make_room(dfd, name) == 0) rc_ = (call); \
    rc_;                                                                       \
  })

/* The directory of the last regular file, kept open: archives list a directory's files
 * one after another, and resolving it again for each would double the system calls per
 * file. It is a directory inside the root (resolved by the rules above, and nothing here
 * renames), so writing through it stays inside. Any other entry or any replacement might
 * change what its path names, so those forget it. */
static struct {
  int fd;
  size_t len;
  char path[PATH_MAX];
} parent = {.fd = -1};

static void forget_parent(void) {
  if (parent.fd >= 0) close(parent.fd);
  parent.fd = -1;
}

/* The image's root: later paths are relative to this fd. */
EXPORT int mycfs_open_root(const char *path) {
  forget_parent();
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

EXPORT int mycfs_close_root(int root) {
  forget_parent();
  return close(root) < 0 ? -errno : 0;
}

/* A new regular file, open for writing; missing parent directories are created (0755). */
EXPORT int mycfs_entry_file(int root, const char *path) {
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  size_t len = (size_t)(name - path);
  if (parent.fd < 0 || len != parent.len || memcmp(path, parent.path, len) != 0) {
    forget_parent();
    if (len >= sizeof parent.path) return -ENAMETOOLONG;
    int fd = open_parent_below(root, path, &name, CREATE_DIR, BELOW);
    if (fd < 0) return fd;
    parent.fd = fd;
    parent.len = len;
    memcpy(parent.path, path, len);
  }
  int dfd = parent.fd;
  int fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) { /* replacing an entry: keep nothing cached past it */
    parent.fd = -1;
    fd = REPLACING(openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
    int err = errno;
    close(dfd);
    errno = err;
  }
  return fd < 0 ? -errno : fd;
}

/* Owner (uid < 0: keep), mode and mtime of a written file, then close it. The owner goes
 * first: chown clears setuid and setgid bits. */
EXPORT int mycfs_entry_file_done(int fd, int32_t uid, int32_t gid, uint32_t mode, double mtime) {
  struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, to_timespec(mtime)};
  int rc = 0;
  if (uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0) rc = -errno;
  else if (fchmod(fd, mode & 07777) < 0 || futimens(fd, ts) < 0) rc = -errno;
  if (close(fd) < 0 && rc == 0) rc = -errno; /* a delayed write error (ENOSPC, EIO) */
  return rc;
}

/* A whole file at once, when all of its data is at hand (most files of an image): created,
 * written and finished in one call. */
EXPORT int mycfs_entry_whole_file(int root, const char *path, const uint8_t *data, uint32_t len, int32_t uid,
                                  int32_t gid, uint32_t mode, double mtime) {
  int fd = mycfs_entry_file(root, path);
  if (fd < 0) return fd;
  int rc = mycfs_write(fd, data, len);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return mycfs_entry_file_done(fd, uid, gid, mode, mtime);
}

/* 0700 until mycfs_entry_dir_done: the final mode might not let anyone write into it. */
static int make_dir(int dfd, const char *name) {
  if (mkdirat(dfd, name, 0700) == 0) return 0;
  if (errno != EEXIST) return -1;
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) return 0;
  return make_room(dfd, name) < 0 ? -1 : mkdirat(dfd, name, 0700);
}

static int make_at(int root, int dfd, const char *name, uint32_t kind, uint32_t mode, dev_t dev, const char *target) {
  switch (kind) {
    case ENTRY_DIR: return make_dir(dfd, name);
    case ENTRY_SYMLINK: return REPLACING(symlinkat(target, dfd, name));
    case ENTRY_NODE: return REPLACING(mknodat(dfd, name, (mode_t)mode, dev));
    case ENTRY_HARDLINK: {
      /* the target is an earlier entry of this archive, resolved by the same rules */
      const char *tname;
      int tfd = open_parent_below(root, target, &tname, CREATE_NONE, BELOW);
      if (tfd < 0) {
        errno = -tfd;
        return -1;
      }
      int rc = REPLACING(linkat(tfd, tname, dfd, name, 0));
      int err = errno;
      close(tfd);
      errno = err;
      return rc;
    }
    default: errno = EINVAL; return -1;
  }
}

/* Owner, mode and mtime of a symlink or node. A directory's wait for
 * mycfs_entry_dir_done; a hardlink shares its target's. */
static int meta_at(int dfd, const char *name, uint32_t kind, int32_t uid, int32_t gid, uint32_t mode, double mtime) {
  if (kind == ENTRY_HARDLINK || kind == ENTRY_DIR) return 0;
  if (uid >= 0 && fchownat(dfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  if (kind == ENTRY_NODE && fchmodat(dfd, name, mode & 07777, 0) < 0) return -1;
  struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, to_timespec(mtime)};
  return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* A directory, symlink, hardlink (target: an archive path) or device node / fifo (mode
 * with its S_IF* type bits). */
EXPORT int mycfs_entry_make(int root, const char *path, uint32_t kind, uint32_t mode, uint32_t major, uint32_t minor,
                            const char *target, int32_t uid, int32_t gid, double mtime) {
  forget_parent();
  const char *name;
  int dfd = open_parent_below(root, path, &name, CREATE_DIR, BELOW);
  if (dfd < 0) return dfd;
  int rc = make_at(root, dfd, name, kind, mode, makedev(major, minor), target);
  if (rc == 0) rc = meta_at(dfd, name, kind, uid, gid, mode, mtime);
  int err = errno;
  close(dfd);
  return rc < 0 ? -err : 0;
}

/* A directory's owner, mode and mtime, set once nothing more is written into it ("."
 * is the root itself). */
EXPORT int mycfs_entry_dir_done(int root, const char *path, int32_t uid, int32_t gid, uint32_t mode, double mtime) {
  int fd = open_below_as(root, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, to_timespec(mtime)};
  int rc = (uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0) || fchmod(fd, mode & 07777) < 0 || futimens(fd, ts) < 0
               ? -errno
               : 0;
  close(fd);
  return rc;
}

/* An extended attribute, set after the owner (chown drops security.capability). The
 * entry is reached through its O_PATH fd, so that a device node is never opened. */
EXPORT int mycfs_entry_xattr(int root, const char *path, const char *key, const uint8_t *value, uint32_t len) {
  int fd = open_below_as(root, path, O_PATH);
  if (fd < 0) return -errno;
  struct stat st;
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int rc = fstat(fd, &st) < 0                       ? -errno
           : S_ISLNK(st.st_mode)                    ? -ELOOP /* setxattr would follow it */
           : setxattr(proc, key, value, len, 0) < 0 ? -errno
                                                    : 0;
  close(fd);
  return rc;
}
