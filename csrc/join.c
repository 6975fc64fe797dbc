/* What `mycfs exec` needs to enter a running container, and what `stop`, `kill` and
 * `wait` need to act on a process without racing a recycled pid: pidfds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mycfs.h"
#include "child/sys.h"

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

/* Clones the child that walks `plan` straight into the PID namespace of the process behind
 * pidfd, sharing mycfs's memory (mycfs_spawn), born in the cgroup v2 directory behind
 * cgroup_fd unless -1: for a container that cannot reach it (see src/container/exec.ts).
 * setns(CLONE_NEWPID) changes only where the calling thread's *children* go, so the thread
 * enters for the clone and leaves right after. out as mycfs_spawn's. */
int mycfs_spawn_into(const uint8_t *plan, uint32_t len, int pidfd, int cgroup_fd, int32_t *out) {
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

/* The intermediate child of mycfs_spawn_joined: it shares mycfs's memory until the exec,
 * so raw system calls only (sys.h). Every fd but 0-2 and those kept is closed by the exec;
 * if the exec fails, -errno goes on the report pipe where the pid would. */
struct enter_start {
  int image;
  char *const *argv;
  const int *keep;
  int nkeep;
  int report;
};

__attribute__((noreturn)) static void enter_exec(void *arg) {
  const struct enter_start *e = arg;
  int err = cloexec_from(3);
  for (int i = 0; i < e->nkeep && !err; i++)
    if (e->keep[i] > 2 && sys(SYS_fcntl, e->keep[i], F_SETFD, 0) < 0) err = EBADF;
  char *const envp[] = {NULL};
  if (!err) err = (int)-sys(SYS_execveat, e->image, "", e->argv, envp, AT_EMPTY_PATH);
  int32_t report = -err; /* the pid would come here: -errno says why there is none */
  sys(SYS_write, e->report, &report, sizeof report);
  sys_exit(127);
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x10u
#endif

/* A sealed memfd holding the enter program: nothing can write it, so neither can a process
 * that reaches it through /proc/PID/exe. */
static int enter_image(void) {
  int fd = memfd_create("mycfs-enter", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("mycfs-enter", MFD_CLOEXEC | MFD_ALLOW_SEALING); /* before 6.3 */
  if (fd < 0) return -errno;
  size_t len = (size_t)(mycfs_enter_image_end - mycfs_enter_image);
  int rc = mycfs_write(fd, mycfs_enter_image, (uint32_t)len);
  if (rc == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) rc = -errno;
  if (rc < 0) {
    int err = -rc;
    close(fd);
    return -err;
  }
  return fd;
}

/* Starts the enter program (enter/main.c), which walks `plan`: its OP_ENTER clones the
 * walker into the container's PID namespace, as mycfs's child. io[0] = that child's pid,
 * io[1] = mycfs's end of its sync socket; in: io[2..7], the fds it keeps (the plan's
 * stdio, pidfd, cgroup directory; -1: none). Blocks until the child exists, or the enter
 * program failed at a step before OP_ENTER: then io[0] is the enter program's own pid, and
 * its error waits on the sync socket, as any step's. */
int mycfs_spawn_joined(const uint8_t *plan, uint32_t len, int32_t *io) {
  int image = -1, args = -1, sv[2] = {-1, -1}, report[2] = {-1, -1}, err = 0;
  if ((image = enter_image()) < 0) return image;
  if ((args = memfd_create("mycfs-enter-plan", MFD_CLOEXEC)) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(report, O_CLOEXEC) < 0)
    err = errno;
  struct enter_args hdr = {.magic = ENTER_MAGIC, .plan_len = len, .sync_fd = sv[1], .report_fd = report[1]};
  int rc = err ? 0 : mycfs_write(args, (const uint8_t *)&hdr, sizeof hdr);
  if (rc == 0 && !err) rc = mycfs_write(args, plan, len);
  if (rc < 0) err = -rc;
  long pid = -1;
  if (!err) {
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", args);
    char *argv[] = {"mycfs-enter", fdarg, NULL};
    int keep[] = {sv[1], report[1], args, io[2], io[3], io[4], io[5], io[6], io[7]};
    struct enter_start e = {.image = image, .argv = argv, .keep = keep, .nkeep = 9, .report = report[1]};
    pid = clone_vfork(enter_exec, &e);
    if (pid < 0) err = (int)-pid;
  }
  const int theirs[] = {image, args, sv[1], report[1]};
  for (int i = 0; i < 4; i++)
    if (theirs[i] >= 0) close(theirs[i]);
  int32_t child = -1;
  if (pid > 0) {
    /* the pid once the clone exists, then the enter program exits; at EOF it failed before */
    ssize_t n;
    while ((n = read(report[0], &child, sizeof child)) < 0 && errno == EINTR) {}
    if (n == sizeof child && child != 0) { /* a pid, or -errno from before the exec */
      while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {}
      if (child < 0) err = -child;
    } else {
      child = (int32_t)pid;
    }
  }
  if (report[0] >= 0) close(report[0]);
  if (err) {
    if (sv[0] >= 0) close(sv[0]);
    return -err;
  }
  io[0] = child;
  io[1] = sv[0];
  return 0;
}
