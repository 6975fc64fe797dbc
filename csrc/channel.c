/* The sync channel: SOCK_SEQPACKET keeps message boundaries, so each read is one message. */
#include <errno.h>
#include <sys/socket.h>
#include "mycfs.h"

int chan_send(int fd, uint32_t kind, uint32_t step, int32_t err, uint64_t ns) {
  struct mycfs_msg m = {.kind = kind, .step = step, .err = err, .ns = ns};
  ssize_t n;
  do n = send(fd, &m, sizeof m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == sizeof m ? 0 : -1;
}

/* Returns 1 for a message, 0 at end of stream, -1 with errno set. */
int chan_recv(int fd, struct mycfs_msg *m) {
  ssize_t n;
  do n = recv(fd, m, sizeof *m, 0);
  while (n < 0 && errno == EINTR);
  if (n == 0) return 0;
  if (n < 0) return -1;
  if (n != sizeof *m) { errno = EPROTO; return -1; }
  return 1;
}
