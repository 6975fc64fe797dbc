/* The container's terminal, opened by the child from the devpts instance on /dev/pts once
 * it is inside the container's root: the slave's name then exists in there, so ttyname()
 * and `tty` work, and the host's terminal is never handed in. Still the post-clone child:
 * raw system calls (sys.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include "../mycfs.h"
#include "sys.h"

/* The slave belongs to the process's user, as login(1) and runc make it: a user other than
 * root can then reopen it (/dev/tty, `script`) and change its modes. */
int pty_onto_stdio(int root_fd, uint32_t uid, uint32_t gid) {
  /* resolved below the root: in a running container (exec -t) the container owns /dev,
   * and a symlink there must not lead out of it */
  long m = open_file_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW);
  if (m < 0) return (int)m;
  int unlock = 0;
  /* Only a pty master answers these: whatever the image put at that path, the parent
   * gets a pty master or nothing. TIOCGPTPEER opens the slave without a path lookup. */
  long rc = sys(SYS_ioctl, m, TIOCSPTLCK, &unlock), s = -1;
  if (rc == 0) rc = s = sys(SYS_ioctl, m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (rc >= 0) rc = sys(SYS_fchown, s, uid, gid);
  for (int fd = 0; fd < 3 && rc >= 0; fd++)
    if (s != fd) rc = sys(SYS_dup3, s, fd, 0);
  if (s > 2) sys(SYS_close, s);
  if (rc >= 0) return (int)m;
  sys(SYS_close, m);
  return (int)rc;
}
