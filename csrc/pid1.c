/* mycfs as the init of a minimal VM (src/init/pid1.ts): the host's mounts, the command run
 * as its child with every other process reaped, and the power-off. mycfs's side only. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mycfs.h"

/* `strs`: source, target, fstype, data, each NUL-terminated. */
int mycfs_mount(const char *strs, uint64_t flags) {
  const char *target = strs + strlen(strs) + 1, *fstype = target + strlen(target) + 1,
             *data = fstype + strlen(fstype) + 1;
  return mount(strs, target, fstype, flags, data[0] ? data : NULL) < 0 ? -errno : 0;
}

static volatile pid_t command = -1;

/* Runs on whichever of Bun's threads the kernel picks: kill(2) is all it does. A PID 1
 * receives only the signals it has a handler for, so these are the ones that reach it. */
static void pass_on(int sig) {
  if (command > 0) kill(command, sig);
}

/* Starts `argv` (argc strings, NUL-terminated, one after another; the first is the
 * executable's path too) with `env` (envc strings), passes SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 on to it, and reaps every child (orphans are PID 1's)
 * until it ends. Returns its wait status, or -errno. */
int64_t mycfs_supervise(const char *args, uint32_t argc, const char *env, uint32_t envc) {
  char *argv[argc + 1], *envp[envc + 1];
  for (uint32_t i = 0; i < argc; i++, args += strlen(args) + 1) argv[i] = (char *)args;
  for (uint32_t i = 0; i < envc; i++, env += strlen(env) + 1) envp[i] = (char *)env;
  argv[argc] = envp[envc] = NULL;
  struct sigaction sa = {.sa_handler = pass_on, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);
  pid_t pid;
  int err = posix_spawn(&pid, argv[0], NULL, NULL, argv, envp);
  if (err) return -err;
  command = pid;
  for (;;) {
    int status;
    pid_t done = waitpid(-1, &status, 0);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -errno;
  }
}

/* The file systems' data out to disk, then off (the VM ends). Returns only on failure. */
int mycfs_power_off(void) {
  sync();
  return reboot(RB_POWER_OFF) < 0 ? -errno : 0;
}
