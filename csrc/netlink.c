/* One rtnetlink request and its answer. TypeScript builds the message and decides what
 * it asks (src/network/netlink.ts); this only sends it on a route socket opened in the
 * network namespace of process `pid` (0: mycfs's own) and reads back the kernel's answer.
 * A socket stays in the namespace it was made in, so only its making needs the switch,
 * done in the calling thread alone (setns of a network namespace is per thread). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mycfs.h"

static int route_socket_in(int pid) {
  if (pid == 0) return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = -1, err = 0;
  if (self < 0 || setns(ns, CLONE_NEWNET) < 0) err = errno;
  else {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) err = errno;
    if (setns(self, CLONE_NEWNET) < 0) abort(); /* this thread must never stay in another namespace */
  }
  if (self >= 0) close(self);
  close(ns);
  errno = err;
  return fd;
}

/* Returns 0 for an ack, the length of an answer copied into reply (a GET's), or -errno. */
int mycfs_netlink(const uint8_t *req, uint32_t len, int pid, uint8_t *reply, uint32_t cap) {
  int fd = route_socket_in(pid);
  if (fd < 0) return -errno;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int rc;
  if (sendto(fd, req, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) rc = -errno;
  else {
    char buf[8192] __attribute__((aligned(4)));
    ssize_t n;
    do n = recv(fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n < 0) rc = -errno;
    else if (!NLMSG_OK(h, (size_t)n)) rc = -EBADMSG;
    else if (h->nlmsg_type == NLMSG_ERROR) rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    else if (h->nlmsg_len > cap) rc = -EMSGSIZE;
    else {
      memcpy(reply, buf, h->nlmsg_len);
      rc = (int)h->nlmsg_len;
    }
  }
  close(fd);
  return rc;
}
