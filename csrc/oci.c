/* The OCI front end's calls (src/oci/): the exec fifo that holds a created container
 * until `start`, and the console socket an engine gives for the pty master. Called from
 * TypeScript only, never from the cloned child: the C library is fine here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "mycfs.h"

int mycfs_mkfifo(const char *path, uint32_t mode) { return mkfifo(path, (mode_t)mode) < 0 ? -errno : 0; }

/* The fifo opened for reading and writing (the container's end: its read blocks until
 * `start` writes), or, with `start`, for writing without blocking: ENXIO when no
 * container holds it. */
int mycfs_open_fifo(const char *path, int start) {
  int fd = open(path, (start ? O_WRONLY | O_NONBLOCK : O_RDWR) | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* runc's console socket: connect to the unix socket at path and send fd with
 * SCM_RIGHTS, the terminal's name as the message (what runc's utils.SendFd sends); a
 * seccomp listener gets the container process state (JSON) as its message the same way. */
int mycfs_send_console(const char *path, int fd, const char *name) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(s);
    return -err;
  }
  char control[CMSG_SPACE(sizeof(int))] = {0};
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  while ((n = sendmsg(s, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
  int err = n < 0 ? errno : 0;
  close(s);
  return -err;
}

/* Whether seccomp(2) takes these SECCOMP_FILTER_FLAG_*s (0) or refuses them (-errno): it
 * checks the flags before it reads the program, which is NULL here (EFAULT), so nothing
 * is installed, as libseccomp probes. The child loads its filter after `create` has
 * returned, too late to say which flag was refused. */
int mycfs_seccomp_flags(uint32_t flags) {
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL);
  return rc == 0 || errno == EFAULT ? 0 : -errno;
}
