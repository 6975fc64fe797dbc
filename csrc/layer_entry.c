/* What `mycfs run` and `exec` read of an image or of a running container to name its users
 * (/etc/passwd, /etc/group): one path below a layer's directory or a container's root,
 * looked up with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS), which implies
 * RESOLVE_NO_MAGICLINKS: nothing in the path can lead out of that root. The caller follows
 * symlinks itself, across the layers (src/images/read-file.ts). The files are hostile: only a
 * regular file is opened for reading, through the inode already looked up (never a fifo or a
 * device that another name could be swapped for), non-blocking, and read up to a bound. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "mycfs.h"

/* A directory whose lower layers overlayfs hides: trusted.overlay.opaque as root makes it,
 * user.overlay.opaque in a user namespace (userxattr). */
static int opaque(const char *fd_path) {
  static const char *const names[] = {"trusted.overlay.opaque", "user.overlay.opaque"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char v;
    if (getxattr(fd_path, names[i], &v, 1) == 1 && v == 'y') return 1;
  }
  return 0;
}

static int read_regular(const char *fd_path, uint8_t *data, uint32_t size) {
  int fd = open(fd_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st;
  int rc = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
  uint32_t off = 0;
  while (rc == 0 && off < size) {
    ssize_t n = read(fd, data + off, size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) rc = -errno;
    if (n <= 0) break;
    off += (uint32_t)n;
  }
  close(fd);
  return rc < 0 ? rc : (int)off;
}

/* buf: five uint32 (mode, major, minor, 1 for an opaque directory, st_size up to
 * UINT32_MAX), padding to 24 bytes, then up to `size` bytes: a symlink's target, or, with
 * `contents`, a regular file's first bytes. Returns how many bytes follow the header, or -errno
 * (-ENOENT: nothing there). */
int mycfs_layer_entry(int dirfd, const char *path, uint8_t *buf, uint32_t size, int contents) {
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
  int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  if (fd < 0) return -errno;
  char fd_path[32];
  snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", fd);
  struct stat st;
  int rc = fstat(fd, &st) < 0 ? -errno : 0;
  uint8_t *data = buf + 24;
  if (rc == 0) {
    uint32_t out[5] = {st.st_mode, major(st.st_rdev), minor(st.st_rdev), S_ISDIR(st.st_mode) && opaque(fd_path),
                       st.st_size > (off_t)UINT32_MAX ? UINT32_MAX : (uint32_t)st.st_size};
    memcpy(buf, out, sizeof out);
    if (S_ISLNK(st.st_mode)) {
      ssize_t n = readlinkat(fd, "", (char *)data, size);
      rc = n < 0 ? -errno : (uint32_t)n == size ? -ERANGE : (int)n;
    } else if (S_ISREG(st.st_mode) && contents) {
      rc = read_regular(fd_path, data, size);
    }
  }
  close(fd);
  return rc;
}
