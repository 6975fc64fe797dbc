/* The container's terminal, opened by the child from the devpts instance on /dev/pts once
 * it is inside the container's root: the slave's name then exists in there, so ttyname()
 * and `tty` work, and the host's terminal is never handed in. Still the post-clone child:
 * syscalls only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "mycfs.h"

int pty_onto_stdio(void) {
  int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
  if (m < 0) return -errno;
  int unlock = 0, s = -1;
  /* Only a pty master answers these: whatever the image put at that path, the parent
   * gets a pty master or nothing. TIOCGPTPEER opens the slave without a path lookup. */
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0) goto fail;
  for (int fd = 0; fd < 3; fd++)
    if (s != fd && dup2(s, fd) < 0) goto fail;
  if (s > 2) close(s);
  return m;
fail:;
  int err = errno;
  if (s > 2) close(s);
  close(m);
  return -err;
}
