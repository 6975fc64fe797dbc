/* --init: a PID 1 in the spirit of tini. The command runs as its child; every signal
 * mycfs forwards is passed on to it; orphans that the namespace reparents to PID 1 are
 * reaped so they never linger as zombies. It exits with the command's status, 128+N for
 * death by signal N. Still the post-clone child, so still syscalls only. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mycfs.h"

void run_init(int sync_fd, uint32_t step, int ctty, const char *path_list, char *const argv[],
              char *const envp[]) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  /* This process never execs, so close-on-exec never closes anything for it: close every
   * fd but the sync socket now, or PID 1 would keep mycfs's (and the caller's) open. */
  if (sync_fd > 3) syscall(SYS_close_range, 3u, (unsigned)sync_fd - 1, 0u);
  syscall(SYS_close_range, (unsigned)sync_fd + 1, ~0u, 0u);
  /* A raw clone, not fork(): glibc's fork runs atfork handlers that take locks another
   * Bun thread may have held at the moment of our own clone. */
  pid_t child = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child < 0) {
    chan_send(sync_fd, MSG_ERROR, step, errno, 0);
    _exit(125);
  }
  if (child == 0) {
    if (ctty) {
      /* The command gets the terminal's foreground, so Ctrl-C and job control reach it;
       * with SIGTTOU still blocked, or tcsetpgrp from a background group stops us. */
      setpgid(0, 0);
      tcsetpgrp(0, getpid());
    }
    sigprocmask(SIG_SETMASK, &old, NULL); /* empty, as the child started with */
    chan_send(sync_fd, MSG_ERROR, step, exec_search(path_list, argv, envp), 0);
    _exit(127);
  }
  close(sync_fd); /* the parent sees EOF once the command has exec'd */
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}
