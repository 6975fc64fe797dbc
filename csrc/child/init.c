/* --init: a PID 1 in the spirit of tini. The command runs as its child; every signal
 * mycfs forwards is passed on to it; orphans that the namespace reparents to PID 1 are
 * reaped so they never linger as zombies. It exits with the command's status, 128+N for
 * death by signal N. Still the post-clone child (and it never execs), so raw system
 * calls only (sys.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include "../mycfs.h"
#include "sys.h"

void run_init(int sync_fd, uint32_t step, int ctty, const char *path_list, char *const argv[], char *const envp[]) {
  unsigned long all = ~0ul, none = 0;
  sys(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof all);
  /* This process never execs, so close-on-exec never closes anything for it: close every
   * fd but the sync socket now, or PID 1 would keep mycfs's (and the caller's) open. */
  if (sync_fd > 3) sys(SYS_close_range, 3u, (unsigned)sync_fd - 1, 0u);
  sys(SYS_close_range, (unsigned)sync_fd + 1, ~0u, 0u);
  /* A copy-on-write child, as fork() makes, but without glibc's fork: its atfork
   * handlers take locks another Bun thread may have held at the moment of our own clone. */
  long child = sys(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child < 0) {
    chan_send(sync_fd, MSG_ERROR, step, (int32_t)-child, 0);
    sys_exit(125);
  }
  if (child == 0) {
    if (ctty) {
      /* The command gets the terminal's foreground, so Ctrl-C and job control reach it;
       * with SIGTTOU still blocked, or tcsetpgrp from a background group stops us. */
      sys(SYS_setpgid, 0, 0);
      int self = (int)sys(SYS_getpid);
      sys(SYS_ioctl, 0, TIOCSPGRP, &self);
    }
    sys(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none); /* as the child started with */
    chan_send(sync_fd, MSG_ERROR, step, exec_search(path_list, argv, envp), 0);
    sys_exit(127);
  }
  sys(SYS_close, sync_fd); /* the parent sees EOF once the command has exec'd */
  for (;;) {
    siginfo_t info;
    long sig = sys(SYS_rt_sigtimedwait, &all, &info, NULL, sizeof all);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      sys(SYS_kill, child, sig);
      continue;
    }
    int status;
    long pid;
    while ((pid = sys(SYS_wait4, -1, &status, WNOHANG, NULL)) > 0) {
      if (pid != child) continue;
      sys_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}
