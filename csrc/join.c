/* What `mycfs exec` needs to enter a running container, and what `stop`, `kill` and
 * `wait` need to act on a process without racing a recycled pid: pidfds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "mycfs.h"

#define EXPORT __attribute__((visibility("default")))

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

EXPORT int mycfs_pidfd_open(int pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : fd;
}

EXPORT int mycfs_pidfd_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/* 1 once the process has exited, 0 if it is still running after timeout_ms (-1: forever). */
EXPORT int mycfs_pidfd_wait(int pidfd, int timeout_ms) {
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int rc;
  do rc = poll(&p, 1, timeout_ms);
  while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : rc > 0;
}

/* PR_SET_DUMPABLE: 0 keeps /proc/PID/exe and /proc/PID/mem of this process (and of the
 * children it clones, which inherit the flag) away from the container (CVE-2019-5736). */
EXPORT int mycfs_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on, 0, 0, 0) < 0 ? -errno : 0; }

/* Clones the child into the PID namespace of the process behind pidfd (and into the cgroup
 * v2 directory behind cgroup_fd, if not -1): setns(CLONE_NEWPID)
 * changes only the namespace this thread's *children* get, so the calling thread enters it
 * for the clone and leaves right after. The child joins the other namespaces itself
 * (OP_SETNS): a mount namespace can only be entered by a single-threaded process. */
EXPORT int mycfs_spawn_joined(const uint8_t *plan, uint32_t len, int pidfd, int cgroup_fd, int32_t *out) {
  int self = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
  if (self < 0) return -errno;
  if (setns(pidfd, CLONE_NEWPID) < 0) {
    int err = errno;
    close(self);
    return -err;
  }
  int rc = mycfs_spawn(plan, len, 0, cgroup_fd, out);
  int back = setns(self, CLONE_NEWPID);
  close(self);
  /* Later children of this process must never land in the container: give up rather. */
  if (back < 0) abort();
  return rc;
}
