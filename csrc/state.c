/* Thin file calls for the container state directory, usable on the start path (where
 * node:fs costs more than a container takes to start). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "mycfs.h"

/* Readers see the old file or the new one, never half of either: write a temporary file
 * beside it, then swap the two (RENAME_EXCHANGE) and remove the old one. A plain rename
 * over an existing file makes ext4 start writing the new one out first (auto_da_alloc),
 * which costs more than a container's start; an exchange does not. */
static int swap_in(const char *tmp, const char *path) {
  /* the system call itself: musl (1.2.3, Debian 12's) has no renameat2() */
  if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) return unlink(tmp) < 0 ? errno : 0;
  /* nothing to exchange with yet, or a file system without exchange */
  return errno != ENOENT && errno != EINVAL ? errno : rename(tmp, path) < 0 ? errno : 0;
}

int mycfs_replace_file(const char *path, const uint8_t *data, uint32_t len, uint32_t mode) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, getpid()) >= (int)sizeof tmp) return -ENAMETOOLONG;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  int err = 0;
  for (uint32_t off = 0; off < len && !err;) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno != EINTR) err = errno;
    else if (n > 0) off += (uint32_t)n;
  }
  if (close(fd) < 0 && !err) err = errno;
  if (!err) err = swap_in(tmp, path);
  if (err) unlink(tmp);
  return -err;
}

/* symlink(2) fails with EEXIST if path is taken: an atomic way to claim a name. */
int mycfs_symlink(const char *target, const char *path) { return symlink(target, path) < 0 ? -errno : 0; }

int mycfs_unlink(const char *path) { return unlink(path) < 0 ? -errno : 0; }

int mycfs_rename(const char *from, const char *to) { return rename(from, to) < 0 ? -errno : 0; }

int mycfs_dup2(int from, int to) { return dup2(from, to) < 0 ? -errno : 0; }
