/* The store's own file system calls: locks, free space, the copy of an image for file
 * systems where overlayfs cannot be mounted, and the extended attributes of a layer's
 * entries. Functions return 0, an fd, or -errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "mycfs.h"

/* Opens (creating) a lock file and flock()s it: shared or exclusive, waiting or not
 * (-EWOULDBLOCK). The kernel drops the lock when its holder dies, however it dies, so a
 * stale lock cannot outlive a crashed or killed mycfs. Close the fd to unlock. */
int mycfs_lock(const char *path, int exclusive, int wait) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  int rc;
  do rc = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

/* Bytes that can still be written on fd's file system (root may use the reserve). */
EXPORT double mycfs_free_bytes(int fd) {
  struct statvfs s;
  if (fstatvfs(fd, &s) < 0) return -1;
  return (double)(geteuid() == 0 ? s.f_bfree : s.f_bavail) * (double)s.f_frsize;
}

/* The copy fallback: the image's tree, copied entry by entry below dst with the same
 * calls as unpacking; file data is shared (FICLONE) where the file system can reflink.
 * nftw has no user pointer, hence the two statics (this runs on the JS thread only). */
static int copy_root = -1;
static size_t copy_skip;

static int copy_data(const char *from, int to) {
  int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return -1;
  int rc = ioctl(to, FICLONE, in);
  if (rc < 0) {
    ssize_t n;
    while ((n = copy_file_range(in, NULL, to, NULL, 1 << 30, 0)) > 0) {}
    rc = n < 0 ? -1 : 0;
  }
  int err = errno;
  close(in);
  errno = err;
  return rc;
}

/* Post-order (FTW_DEPTH): a directory is finished after everything in it. */
static int copy_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  if (type == FTW_NS || type == FTW_DNR) return errno = EACCES, -1;
  const char *rel = path[copy_skip] ? path + copy_skip + 1 : ".";
  double mtime = (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
  int32_t uid = (int32_t)st->st_uid, gid = (int32_t)st->st_gid;
  if (type == FTW_DP) {
    int rc = strcmp(rel, ".") ? mycfs_entry_make(copy_root, rel, ENTRY_DIR, 0, 0, 0, "", uid, gid, 0) : 0;
    if (rc == 0) rc = mycfs_entry_dir_done(copy_root, rel, uid, gid, st->st_mode, mtime);
    return rc < 0 ? (errno = -rc, -1) : 0;
  }
  if (S_ISREG(st->st_mode)) {
    int fd = mycfs_entry_file(copy_root, rel);
    if (fd < 0) return errno = -fd, -1;
    int rc = copy_data(path, fd) < 0 ? -errno : 0;
    int done = mycfs_entry_file_done(fd, uid, gid, st->st_mode, mtime);
    return rc < 0 || done < 0 ? (errno = rc < 0 ? -rc : -done, -1) : 0;
  }
  char target[4096] = "";
  uint32_t kind = S_ISLNK(st->st_mode) ? ENTRY_SYMLINK : ENTRY_NODE;
  if (kind == ENTRY_SYMLINK) {
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) return -1;
    target[n] = '\0';
  }
  int rc = mycfs_entry_make(copy_root, rel, kind, st->st_mode, major(st->st_rdev), minor(st->st_rdev), target, uid, gid,
                            mtime);
  return rc < 0 ? (errno = -rc, -1) : 0;
}

/* Copies the tree at src into the existing empty directory dst, never following a
 * symlink nor crossing into another mount. Hardlinked files become separate copies. */
EXPORT int mycfs_copy_tree(const char *src, const char *dst) {
  copy_root = mycfs_open_root(dst);
  if (copy_root < 0) return copy_root;
  copy_skip = strlen(src);
  int rc = nftw(src, copy_entry, 64, FTW_PHYS | FTW_MOUNT | FTW_DEPTH) < 0 ? -errno : 0;
  mycfs_close_root(copy_root);
  copy_root = -1;
  return rc;
}

/* The extended attributes of the entry at path, never following a symlink there (for
 * saving an image's layer): each as its name, a NUL, its value's length (4 bytes,
 * little-endian), then the value. The bytes used, -ERANGE if buf is too small, or -errno. */
EXPORT int mycfs_read_xattrs(const char *path, uint8_t *buf, uint32_t size) {
  char names[XATTR_LIST_MAX];
  ssize_t len = llistxattr(path, names, sizeof names);
  if (len < 0) return errno == ENOTSUP ? 0 : -errno;
  uint32_t off = 0;
  for (const char *name = names; name < names + len; name += strlen(name) + 1) {
    uint32_t key = (uint32_t)strlen(name) + 1;
    if (off + key + 4 >= size) return -ERANGE; /* with no room, lgetxattr would only measure */
    ssize_t n = lgetxattr(path, name, buf + off + key + 4, size - off - key - 4);
    if (n < 0 && errno == ENODATA) continue; /* removed meanwhile */
    if (n < 0) return -errno;
    memcpy(buf + off, name, key);
    for (int i = 0; i < 4; i++) buf[off + key + i] = (uint8_t)((uint64_t)n >> (8 * i));
    off += key + 4 + (uint32_t)n;
  }
  return (int)off;
}
