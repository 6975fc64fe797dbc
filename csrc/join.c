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
#include <linux/sched.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mycfs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int mycfs_pidfd_open(int pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : fd;
}

int mycfs_pidfd_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/* 1 once the process has exited, 0 if it is still running after timeout_ms (-1: forever). */
int mycfs_pidfd_wait(int pidfd, int timeout_ms) {
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int rc;
  do rc = poll(&p, 1, timeout_ms);
  while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : rc > 0;
}

/* PR_SET_DUMPABLE: 0 keeps /proc/PID/exe and /proc/PID/mem of this process (and of the
 * children it clones, which inherit the flag) away from the container (CVE-2019-5736). */
int mycfs_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on, 0, 0, 0) < 0 ? -errno : 0; }

/* Clones the child into the PID namespace of the process behind pidfd (and into the cgroup
 * v2 directory behind cgroup_fd, if not -1): setns(CLONE_NEWPID)
 * changes only the namespace this thread's *children* get, so the calling thread enters it
 * for the clone and leaves right after. The child joins the other namespaces itself
 * (OP_SETNS): a mount namespace can only be entered by a single-threaded process. */
/* Rootless: only a process with CAP_SYS_ADMIN in the container's user namespace may clone
 * into its PID namespace, and a multi-threaded process cannot enter a user namespace. So
 * a single-threaded intermediate child (mycfs's own uid owns the namespace, so it may
 * enter it) joins the user and PID namespaces, clones the real child as mycfs's own child
 * (CLONE_PARENT, so that mycfs waits for it), reports its pid, and exits. */
static int spawn_via_userns(const uint8_t *plan, uint32_t len, int pidfd, int cgroup_fd, int32_t *out) {
  int sv[2], report[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
  if (pipe2(report, O_CLOEXEC) < 0) {
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    return -err;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* as in mycfs_spawn: no Bun handler runs below */
  long mid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (mid == 0) {
    int32_t msg[2] = {-1, 0};
    if (setns(pidfd, CLONE_NEWUSER) < 0 || setns(pidfd, CLONE_NEWPID) < 0) {
      msg[1] = errno;
    } else {
      struct clone_args args = {.flags = CLONE_PARENT | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                                .cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0};
      long pid = syscall(SYS_clone3, &args, sizeof args);
      if (pid == 0) {
        close(sv[0]);
        close(report[0]);
        close(report[1]);
        mycfs_child(plan, len, sv[1]);
      }
      msg[0] = (int32_t)pid;
      msg[1] = pid < 0 ? errno : 0;
    }
    ssize_t n = write(report[1], msg, sizeof msg);
    _exit(n == sizeof msg ? 0 : 1);
  }
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(sv[1]);
  close(report[1]);
  int32_t msg[2] = {-1, mid < 0 ? err : EPROTO};
  if (mid > 0) {
    if (read(report[0], msg, sizeof msg) != sizeof msg) msg[1] = msg[1] ? msg[1] : EPROTO;
    while (waitpid((pid_t)mid, NULL, 0) < 0 && errno == EINTR) {}
  }
  close(report[0]);
  if (msg[1] || msg[0] <= 0) {
    close(sv[0]);
    return -(msg[1] ? msg[1] : EPROTO);
  }
  out[0] = msg[0];
  out[1] = sv[0];
  return 0;
}

int mycfs_spawn_joined(const uint8_t *plan, uint32_t len, int pidfd, int cgroup_fd, int via_userns, int32_t *out) {
  if (via_userns) return spawn_via_userns(plan, len, pidfd, cgroup_fd, out);
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
