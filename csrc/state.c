/* Thin file calls for the container state directory, usable on the start path (where
 * node:fs costs more than a container takes to start). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Readers see the old file or the new one, never half of either: write a temporary file
 * beside it, then rename over. */
EXPORT int mycfs_replace_file(const char *path, const uint8_t *data, uint32_t len, uint32_t mode) {
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
  if (!err && rename(tmp, path) < 0) err = errno;
  if (err) unlink(tmp);
  return -err;
}

/* symlink(2) fails with EEXIST if path is taken: an atomic way to claim a name. */
EXPORT int mycfs_symlink(const char *target, const char *path) { return symlink(target, path) < 0 ? -errno : 0; }

EXPORT int mycfs_unlink(const char *path) { return unlink(path) < 0 ? -errno : 0; }

EXPORT int mycfs_dup2(int from, int to) { return dup2(from, to) < 0 ? -errno : 0; }
