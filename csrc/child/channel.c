/* The sync channel: SOCK_SEQPACKET keeps message boundaries, so each read is one message.
 * The child uses it too, so raw system calls (sys.h): results or -errno, no errno. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "../mycfs.h"
#include "sys.h"

static int send_msg(int fd, struct msghdr *msg, size_t want) {
  long n;
  do n = sys(SYS_sendmsg, fd, msg, MSG_NOSIGNAL);
  while (n == -EINTR);
  return n < 0 ? (int)n : (size_t)n == want ? 0 : -EIO;
}

int chan_send(int fd, uint32_t kind, uint32_t step, int32_t err, uint64_t ns) {
  struct mycfs_msg m = {.kind = kind, .step = step, .err = err, .ns = ns};
  struct iovec iov = {&m, sizeof m};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  return send_msg(fd, &msg, sizeof m);
}

/* A message with an fd attached (SCM_RIGHTS): a mount the child cannot make itself. */
int chan_send_fd(int fd, uint32_t kind, uint32_t step, int passed) {
  struct mycfs_msg m = {.kind = kind, .step = step};
  struct iovec iov = {&m, sizeof m};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &passed, sizeof(int));
  return send_msg(fd, &msg, sizeof m);
}

/* Returns 1 for a message, 0 at end of stream, or -errno. An fd that came with the
 * message is stored in *passed (else -1). */
int chan_recv(int fd, struct mycfs_msg *m, int *passed) {
  struct iovec iov = {m, sizeof *m};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  long n;
  do n = sys(SYS_recvmsg, fd, &msg, MSG_CMSG_CLOEXEC);
  while (n == -EINTR);
  if (n <= 0) return (int)n;
  if ((size_t)n != sizeof *m) return -EPROTO;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (passed) *passed = -1;
  if (c && c->cmsg_type == SCM_RIGHTS && passed) memcpy(passed, CMSG_DATA(c), sizeof(int));
  return 1;
}
