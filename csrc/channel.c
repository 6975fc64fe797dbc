/* The sync channel: SOCK_SEQPACKET keeps message boundaries, so each read is one message. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "mycfs.h"

int chan_send(int fd, uint32_t kind, uint32_t step, int32_t err, uint64_t ns) {
  struct mycfs_msg m = {.kind = kind, .step = step, .err = err, .ns = ns};
  ssize_t n;
  do n = send(fd, &m, sizeof m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == sizeof m ? 0 : -1;
}

/* A message with an fd attached (SCM_RIGHTS): a mount the child cannot make itself. */
int chan_send_fd(int fd, uint32_t kind, uint32_t step, int passed) {
  struct mycfs_msg m = {.kind = kind, .step = step};
  struct iovec iov = {&m, sizeof m};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u = {0};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &passed, sizeof(int));
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == sizeof m ? 0 : -1;
}

/* Returns 1 for a message, 0 at end of stream, -1 with errno set. An fd that came with
 * the message is stored in *passed (else -1). */
int chan_recv(int fd, struct mycfs_msg *m, int *passed) {
  struct iovec iov = {m, sizeof *m};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n == 0) return 0;
  if (n < 0) return -1;
  if (n != sizeof *m) { errno = EPROTO; return -1; }
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (passed) *passed = -1;
  if (c && c->cmsg_type == SCM_RIGHTS && passed) memcpy(passed, CMSG_DATA(c), sizeof(int));
  return 1;
}
