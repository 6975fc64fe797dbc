/* What the cloned child runs until execve. Bun is multi-threaded and only this thread
 * survives clone(), and the child may share mycfs's memory (api.c), so this code makes
 * raw system calls only (sys.h): no malloc, no stdio, no locks, no errno.
 * It walks the plan TypeScript built, op by op, and holds no policy of its own: every
 * failure goes back to the parent as {op index, errno} and the child exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "../mycfs.h"
#include "sys.h"

#define MAX_STR 8

/* The child's own, though in memory it may share with mycfs: mycfs never reads them, and
 * it clones one child at a time. */
static int sync_fd = -1;
static int root_fd = -1;
static int root_on_slash = 0; /* the root is a tree attached over / (OPF_TREE) */
static int passed_fd = -1;    /* a mount the parent sent at a sync point, until OP_ATTACH takes it */
static int detached = 0;      /* OP_AWAIT: the parent has gone; the child no longer dies with it */
static unsigned kept_fds = 0; /* OP_AWAIT: fds 3 .. 3 + kept_fds - 1 survive the exec (--preserve-fds) */

static uint64_t now_ns(void) {
  struct timespec ts = {0};
  sys(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The parent's go-ahead past sync point `step`. EOF means the parent is gone, so stop
 * here rather than run an unsupervised container. */
static int await_go(uint32_t step) {
  struct mycfs_msg m;
  int fd;
  int rc = chan_recv(sync_fd, &m, &fd);
  if (rc < 0) return -rc;
  if (rc == 0) sys_exit(125);
  if (fd >= 0) passed_fd = fd; /* a later go-ahead without one leaves it for its step */
  return m.kind == MSG_GO && m.step == step ? 0 : EPROTO;
}

/* A sync point: tell the parent where we are (handing it passfd, if any) and wait until
 * it says go. */
static int sync_point(uint32_t step, int passfd) {
  TRY(passfd < 0 ? chan_send(sync_fd, MSG_SYNC, step, 0, 0) : chan_send_fd(sync_fd, MSG_SYNC, step, passfd));
  return await_go(step);
}

/* "/proc/self/fd/N", written by hand: stdio is not for the post-clone child. */
static const char *fd_path(char buf[32], int fd) {
  memcpy(buf, "/proc/self/fd/", 14);
  put_uint(buf + 14, (unsigned)fd);
  return buf;
}

/* The path to hand to mount(2) for a target, resolved below the root if the op says so. */
static int target_path(const struct mycfs_op_hdr *op, const char *target, char buf[32], const char **path, int *fd) {
  *fd = -1;
  *path = target;
  if (!(op->flags & OPF_IN_ROOT)) return 0;
  enum create_kind kind = op->flags & OPF_MKDIR ? CREATE_DIR : op->flags & OPF_MKFILE ? CREATE_FILE : CREATE_NONE;
  *fd = open_in_root(root_fd, target, kind);
  if (*fd < 0) return (*fd == -ENOENT || *fd == -EROFS) && (op->flags & OPF_OPTIONAL) ? -1 : -*fd;
  *path = fd_path(buf, *fd);
  return 0;
}

/* A source below the root (the container's own /dev/null, say): an fd, checked to be the
 * character device `rdev` if that is not 0, so that what an image or a container put at
 * that name is never bound over anything (runc CVE-2025-31133). */
static int source_in_root(const char *path, uint64_t rdev) {
  int fd = open_in_root(root_fd, path, CREATE_NONE);
  if (fd < 0 || rdev == 0) return fd;
  struct stat st;
  long rc = sys(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
  if (rc == 0 && (!S_ISCHR(st.st_mode) || st.st_rdev != rdev)) rc = -ENODEV;
  if (rc == 0) return fd;
  sys(SYS_close, fd);
  return (int)rc;
}

static int do_mount(const struct mycfs_op_hdr *op, const char *const s[]) {
  char buf[32], src_buf[32];
  const char *path, *source = op->flags & OPF_BIND_SELF ? NULL : s[0][0] ? s[0] : NULL;
  int src = -1;
  if (op->flags & OPF_SOURCE_IN_ROOT) {
    if ((src = source_in_root(s[0], op->b)) < 0) return -src;
    source = fd_path(src_buf, src);
  }
  int fd, err = target_path(op, s[1], buf, &path, &fd);
  long rc = 0;
  struct stat st;
  if (!err && (op->flags & OPF_MASK) && fd >= 0 && sys(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) == 0 &&
      S_ISDIR(st.st_mode))
    rc = sys(SYS_mount, "tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
  else if (!err)
    rc = sys(SYS_mount, op->flags & OPF_BIND_SELF ? path : source, path, s[2][0] ? s[2] : NULL, op->a,
             s[3][0] ? s[3] : NULL);
  if (fd >= 0) sys(SYS_close, fd);
  if (src >= 0) sys(SYS_close, src);
  if (err) return err < 0 ? 0 : err; /* < 0: an optional target that is not there */
  return rc < 0 ? (int)-rc : 0;
}

/* OP_SETATTR: the mount at the target and every mount below it get the attributes a and
 * lose b, in one call the kernel applies to all or none (runc's rro, rnosuid…). */
static int set_attr(const struct mycfs_op_hdr *op, const char *target) {
  char buf[32];
  const char *path;
  int fd, err = target_path(op, target, buf, &path, &fd);
  if (err) return err < 0 ? 0 : err;
  struct mount_attr attr = {.attr_set = op->a, .attr_clr = op->b};
  long rc = fd >= 0 ? sys(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr)
                    : sys(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr);
  if (fd >= 0) sys(SYS_close, fd);
  return rc < 0 ? (int)-rc : 0;
}

/* OP_ATTACH_TREE: a detached tree mycfs made (an id-mapped bind) goes onto the target,
 * resolved below the root and held by its fd, never named again. */
static int attach_tree(const struct mycfs_op_hdr *op, const char *target) {
  char buf[32];
  const char *path;
  int fd, err = target_path(op, target, buf, &path, &fd);
  long rc = 0;
  if (!err)
    rc = fd >= 0 ? sys(SYS_move_mount, (int)op->a, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                 : sys(SYS_move_mount, (int)op->a, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH);
  if (fd >= 0) sys(SYS_close, fd);
  sys(SYS_close, (int)op->a);
  if (err) return err < 0 ? 0 : err;
  return rc < 0 ? (int)-rc : 0;
}

/* The root: a path, or a detached mount tree that mycfs made from an fd it checked (it
 * came with the op, or at the last sync point). The tree is attached over / of the
 * child's own mount namespace, where no name is involved (a path walk from / does not
 * see what is mounted over it), and from then on used only through its fd. */
static int set_root(const struct mycfs_op_hdr *op, const char *path) {
  if (!(op->flags & OPF_TREE)) {
    root_fd = (int)sys(SYS_openat, AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return root_fd < 0 ? -root_fd : 0;
  }
  int tree = (int64_t)op->a >= 0 ? (int)op->a : passed_fd;
  if (tree < 0) return EBADF;
  if (tree == passed_fd) passed_fd = -1;
  TRY(sys(SYS_move_mount, tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH));
  root_fd = tree;
  root_on_slash = 1;
  return 0;
}

/* Into a directory resolved below the root, never through a magic link (/proc/self/fd/N
 * could lead to an fd of mycfs's, outside the root: runc CVE-2024-21626); then the kernel's
 * own word that the working directory is reachable from the root. */
static int change_dir(const char *path) {
  int fd = open_in_root(root_fd, path, CREATE_NONE);
  if (fd < 0) return -fd;
  long rc = sys(SYS_fchdir, fd);
  sys(SYS_close, fd);
  if (rc < 0) return (int)-rc;
  char cwd[PATH_MAX];
  rc = sys(SYS_getcwd, cwd, sizeof cwd);
  if (rc < 0) return (int)-rc;
  return cwd[0] == '/' ? 0 : EXDEV; /* "(unreachable)/...": outside the root */
}

static int do_node(const struct mycfs_op_hdr *op, const char *const s[]) {
  const char *name;
  const char *path = op->op == OP_SYMLINK ? s[1] : s[0];
  int dfd = open_parent_in_root(root_fd, path, &name);
  if (dfd < 0) return -dfd;
  long rc;
  if (op->op == OP_SYMLINK) rc = sys(SYS_symlinkat, s[0], dfd, name);
  else if ((rc = sys(SYS_mknodat, dfd, name, (mode_t)op->a, (dev_t)op->b)) == 0)
    rc = sys(SYS_fchmodat, dfd, name, (mode_t)op->a & 07777); /* exact mode, whatever the umask */
  sys(SYS_close, dfd);
  return rc < 0 ? (int)-rc : 0;
}

/* The root of an initramfs is the mount namespace's first mount, which has no parent, and
 * pivot_root refuses to move a root without one. A copy of the whole tree attached over /
 * has one (the initramfs), so from inside the copy pivot_root works as on any host: the
 * copy is detached afterwards, and the initramfs below the new root is out of reach, as
 * the rootfs under every host's root is. */
static int lift_root(void) {
  long tree = sys(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return (int)-tree;
  long rc = sys(SYS_move_mount, tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH);
  if (rc == 0) rc = sys(SYS_fchdir, tree);
  if (rc == 0) rc = sys(SYS_chroot, ".");
  sys(SYS_close, tree);
  return rc < 0 ? (int)-rc : 0;
}

static int do_root_switch(const struct mycfs_op_hdr *op) {
  TRY(sys(SYS_fchdir, root_fd));
  if (op->op == OP_PIVOT_ROOT) {
    /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it
     * leaves no path back to the host (no put_old directory to clean up). */
    TRY(sys(SYS_pivot_root, ".", "."));
    TRY(sys(SYS_umount2, ".", MNT_DETACH));
  } else {
    if (!root_on_slash) TRY(sys(SYS_mount, ".", "/", NULL, MS_MOVE, NULL));
    TRY(sys(SYS_chroot, "."));
  }
  TRY(sys(SYS_chdir, "/"));
  return 0;
}

static int loopback_up(void) {
  long s = sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return (int)-s;
  struct ifreq ifr = {0};
  memcpy(ifr.ifr_name, "lo", 3);
  long rc = sys(SYS_ioctl, s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = sys(SYS_ioctl, s, SIOCSIFFLAGS, &ifr);
  }
  sys(SYS_close, s);
  return rc < 0 ? (int)-rc : 0;
}

/* Every capability not in `keep` leaves the bounding set: before the ids change, while
 * CAP_SETPCAP, which dropping needs, is still effective. */
static int drop_bounding(uint64_t keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ull << cap)) continue;
    long rc = sys(SYS_prctl, PR_CAPBSET_DROP, cap);
    if (rc == -EINVAL) break; /* past the kernel's last capability */
    TRY(rc);
  }
  return 0;
}

/* The ambient set cleared, then the permitted, effective and inheritable sets in one capset. */
static int set_caps(const struct mycfs_op_hdr *op) {
  long rc = sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (rc != -EINVAL) TRY(rc);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {
      {(uint32_t)op->a, (uint32_t)op->a, (uint32_t)op->b},
      {(uint32_t)(op->a >> 32), (uint32_t)(op->a >> 32), (uint32_t)(op->b >> 32)},
  };
  TRY(sys(SYS_capset, &hdr, data));
  /* then the ambient set c (a subset of the permitted and inheritable ones: the planner's rule) */
  for (int cap = 0; cap < 64; cap++)
    if ((uint64_t)op->c & (1ull << cap)) TRY(sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0));
  return 0;
}

static int write_file(const char *path, const char *text) {
  long fd = sys(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return (int)-fd;
  size_t len = strlen(text);
  long n;
  while ((n = sys(SYS_write, fd, text, len)) == -EINTR) {}
  sys(SYS_close, fd);
  return n < 0 ? (int)-n : (size_t)n != len ? EIO : 0;
}

/* Die with the parent: the parent-death signal, then a look at the sync socket in case
 * the parent died before the signal was armed (its end would read EOF). */
static int die_with_parent(void) {
  if (detached) return 0; /* OCI: the engine that started `create` is the parent now */
  TRY(sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL));
  char byte;
  if (sys(SYS_recvfrom, sync_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT, NULL) == 0) sys_exit(125);
  return 0;
}

/* A change of credentials (a new uid, or joining a user namespace) makes the kernel drop
 * the parent-death signal and reset dumpability: set both again. */
static int after_cred_change(void) {
  int err = die_with_parent();
  if (err) return err;
  TRY(sys(SYS_prctl, PR_SET_DUMPABLE, 0));
  return 0;
}

/* Become gid and uid, with the supplementary gids that follow the header where setgroups
 * is allowed: a new user namespace's root once its maps are written, and the container's
 * user at the end. Raw syscalls: glibc's setresuid/setgroups would signal every thread it
 * believes the process has (Bun's, which did not survive clone) and wait for them forever. */
static int set_ids(const struct mycfs_op_hdr *op) {
  if (op->flags & OPF_SETGROUPS) TRY(sys(SYS_setgroups, op->c, (const gid_t *)(op + 1)));
  TRY(sys(SYS_setresgid, (gid_t)op->a, (gid_t)op->a, (gid_t)op->a));
  TRY(sys(SYS_setresuid, (uid_t)op->b, (uid_t)op->b, (uid_t)op->b));
  return after_cred_change();
}

/* The BPF program was compiled by TypeScript; the kernel checks it, and the flags. With
 * SECCOMP_FILTER_FLAG_NEW_LISTENER the call returns the filter's notification fd, which
 * goes to the parent at sync point c: the listener must have it before any call the
 * filter notifies can be answered. */
static int set_seccomp(const struct mycfs_op_hdr *op) {
  struct sock_fprog prog = {.len = (unsigned short)(op->a / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)(op + 1)};
  long fd = sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)op->b, &prog);
  TRY(fd);
  if (!(op->b & SECCOMP_FILTER_FLAG_NEW_LISTENER)) return 0;
  int err = sync_point((uint32_t)op->c, (int)fd);
  sys(SYS_close, fd);
  return err;
}

static int set_stdio(const struct mycfs_op_hdr *op) {
  int64_t fds[3] = {(int64_t)op->a, (int64_t)op->b, (int64_t)op->c};
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0 && fds[i] != i) TRY(sys(SYS_dup3, fds[i], i, 0));
  return 0;
}

/* close(2) of every fd in [first, end) below the fd limit (close_range came in 5.9). */
static int close_each(unsigned first, unsigned end) {
  struct rlimit rl;
  TRY(sys(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl));
  for (rlim_t fd = first; fd < end && fd < rl.rlim_cur; fd++) sys(SYS_close, fd);
  return 0;
}

/* Every fd from `first` on is closed by the next execve. */
int cloexec_from(unsigned first) {
  if (sys(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  struct rlimit rl;
  TRY(sys(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl));
  for (rlim_t fd = first; fd < rl.rlim_cur; fd++) sys(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  return 0;
}

/* The child starts (signals all blocked, mycfs_spawn) with Bun's handlers: back to the
 * defaults, then nothing blocked, before anything else. The command inherits that: Bun
 * ignores SIGPIPE and others, and ignored signals would survive execve. */
static void reset_signals(void) {
  struct kernel_sigaction dfl = {.handler = SIG_DFL};
  for (int sig = 1; sig < _NSIG; sig++)
    sys(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask); /* KILL, STOP: EINVAL, harmless */
  uint64_t none = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

/* Every fd but 0-2 is closed, not just marked close-on-exec: execve looks the command up
 * while they are still open, and a path through /proc/self/fd/N (the command's name, or an
 * image's symlink for it) would lead out of the root through a directory fd of mycfs's
 * (runc CVE-2024-21626). The sync socket stays, close-on-exec, so that an exec failure can
 * still be reported; a socket leads nowhere. */
static int close_before_exec(void) {
  unsigned first = 3 + kept_fds;
  if (sync_fd >= (int)first) {
    if (sync_fd > (int)first && sys(SYS_close_range, first, (unsigned)sync_fd - 1, 0u) < 0)
      return close_each(first, (unsigned)sync_fd);
    if (sys(SYS_close_range, (unsigned)sync_fd + 1, ~0u, 0u) < 0) return close_each((unsigned)sync_fd + 1, ~0u);
    return 0;
  }
  if (sys(SYS_close_range, first, ~0u, 0u) < 0) return close_each(first, ~0u);
  return 0;
}

/* OCI create's last step before the command's setup: the parent hears that the container
 * is created and exits; the child then waits for `start` to write a byte to the exec fifo
 * (fd), which it holds open for reading and writing, so that the read blocks until then. */
static int await_start(const struct mycfs_op_hdr *op) {
  TRY(sys(SYS_prctl, PR_SET_PDEATHSIG, 0));
  detached = 1;
  kept_fds = (unsigned)op->b;
  int err = sync_point(SYNC_CREATED, -1);
  if (err) return err;
  char byte;
  long n;
  while ((n = sys(SYS_read, (int)op->a, &byte, 1)) == -EINTR) {}
  sys(SYS_close, (int)op->a);
  return n == 1 ? 0 : n < 0 ? (int)-n : EPIPE;
}

static int do_exec(const struct mycfs_op_hdr *op, const char *strs, uint32_t step) {
  uint64_t argc = op->a, envc = op->b;
  if (argc == 0 || argc > 65536 || envc > 65536 || op->nstr != 1 + argc + envc) return EINVAL;
  char *argv[argc + 1], *envp[envc + 1];
  const char *p = strs, *path_list = p;
  p += strlen(p) + 1;
  for (uint64_t i = 0; i < argc; i++, p += strlen(p) + 1) argv[i] = (char *)p;
  for (uint64_t i = 0; i < envc; i++, p += strlen(p) + 1) envp[i] = (char *)p;
  argv[argc] = envp[envc] = NULL;

  int err = close_before_exec();
  if (err) return err;
  if (op->flags & OPF_SETSID) TRY(sys(SYS_setsid));
  if (op->flags & OPF_CTTY) TRY(sys(SYS_ioctl, 0, TIOCSCTTY, 0));
  if (op->flags & OPF_INIT) run_init(sync_fd, step, !!(op->flags & OPF_CTTY), path_list, argv, envp);
  return exec_search(path_list, argv, envp);
}

int enter_report_fd = -1;
long sys_failed_nr;
int sys_failed_errno;

/* A failed step: its errno, and the system call that failed with it, if one did (0: the
 * step's own check, such as a working directory outside the root). */
static void report_failure(uint32_t step, int err) {
  chan_send(sync_fd, MSG_ERROR, step, err, sys_failed_errno == err ? (uint64_t)sys_failed_nr + 1 : 0);
}

/* OP_ENTER: the clone goes on walking the plan, as mycfs's own child (CLONE_PARENT) in the
 * PID namespace joined (fd a, or the one for children set before: a = -1), a process of
 * its own (no memory shared with mycfs: it may join a time namespace); this process
 * reports it and exits. The enter program reports the pid on its report fd; mycfs's own
 * child hands a pidfd to mycfs at sync point c, which its clone then waits past. */
static int enter_pid_ns(const struct mycfs_op_hdr *op) {
  int own = enter_report_fd < 0;
  if (own && op->c == 0) return EBADF;
  if ((int64_t)op->a >= 0) TRY(sys(SYS_setns, op->a, CLONE_NEWPID));
  int64_t cgroup = (int64_t)op->b;
  int pidfd = -1;
  struct clone_args args = {.flags = CLONE_PARENT | (cgroup >= 0 ? CLONE_INTO_CGROUP : 0) | (own ? CLONE_PIDFD : 0),
                            .pidfd = (uint64_t)(uintptr_t)&pidfd,
                            .cgroup = cgroup >= 0 ? (uint64_t)cgroup : 0};
  long pid = sys(SYS_clone3, &args, sizeof args);
  if (pid < 0) return (int)-pid;
  if (pid == 0) {
    if (!own) sys(SYS_close, enter_report_fd);
    if (cgroup >= 0) sys(SYS_close, cgroup);
    if (own) {
      int err = await_go((uint32_t)op->c);
      if (err) return err;
    }
    return die_with_parent(); /* a clone does not inherit the parent-death signal */
  }
  if (own) {
    int rc = chan_send_fd(sync_fd, MSG_SYNC, (uint32_t)op->c, pidfd);
    if (rc < 0) { /* mycfs never hears of the clone, which would wait for it forever */
      sys(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      return -rc;
    }
  } else {
    int32_t report = (int32_t)pid;
    sys(SYS_write, enter_report_fd, &report, sizeof report);
  }
  sys_exit(0);
}

static int do_op(const struct mycfs_op_hdr *op, const char *strs, uint32_t step) {
  const char *s[MAX_STR];
  const char *p = strs;
  for (uint32_t i = 0; i < MAX_STR; i++) {
    s[i] = i < op->nstr ? p : "";
    if (i < op->nstr) p += strlen(p) + 1;
  }
  switch (op->op) {
    case OP_SYNC: return sync_point((uint32_t)op->a, -1);
    case OP_MOUNT: return do_mount(op, s);
    case OP_ROOT: return set_root(op, s[0]);
    case OP_MKDIR: {
      int fd = open_in_root(root_fd, s[0], CREATE_DIR);
      if (fd < 0) return -fd;
      sys(SYS_close, fd);
      return 0;
    }
    case OP_MKNOD:
    case OP_SYMLINK: return do_node(op, s);
    case OP_PIVOT_ROOT:
    case OP_CHROOT: return do_root_switch(op);
    case OP_HOSTNAME: TRY(sys(SYS_sethostname, s[0], strlen(s[0]))); return 0;
    case OP_LOOPBACK: return loopback_up();
    case OP_CHDIR: return change_dir(s[0]);
    case OP_STDIO: return set_stdio(op);
    case OP_EXEC: return do_exec(op, strs, step);
    case OP_UNSHARE: TRY(sys(SYS_unshare, op->a)); return 0;
    case OP_PRCTL:
      TRY(sys(SYS_prctl, op->a, op->b, 0, 0, 0));
      if (op->a == PR_SET_PDEATHSIG && op->b == 0) detached = 1; /* runc exec -d: outlives mycfs */
      return 0;
    case OP_RLIMIT: {
      struct rlimit rl = {.rlim_cur = op->b, .rlim_max = op->c};
      TRY(sys(SYS_prlimit64, 0, op->a, &rl, NULL));
      return 0;
    }
    case OP_CAPBSET: return drop_bounding(op->a);
    case OP_CAPS: return set_caps(op);
    case OP_SETID: return set_ids(op);
    case OP_WRITE: return write_file(s[0], s[1]);
    case OP_ATTACH: {
      if (passed_fd < 0) return EBADF;
      long rc = sys(SYS_move_mount, passed_fd, "", AT_FDCWD, s[0], MOVE_MOUNT_F_EMPTY_PATH);
      sys(SYS_close, passed_fd);
      passed_fd = -1;
      return rc < 0 ? (int)-rc : 0;
    }
    case OP_SECCOMP: return set_seccomp(op);
    case OP_SETNS: TRY(sys(SYS_setns, op->a, op->b)); return after_cred_change();
    case OP_PTY: {
      int master = pty_onto_stdio(root_fd, (uint32_t)op->b, (uint32_t)op->c);
      if (master < 0) return -master;
      int err = sync_point((uint32_t)op->a, master);
      sys(SYS_close, master);
      return err;
    }
    case OP_ENTER: return enter_pid_ns(op);
    case OP_LIFT_ROOT: return lift_root();
    case OP_AWAIT: return await_start(op);
    case OP_UMASK: sys(SYS_umask, op->a); return 0;
    case OP_PERSONALITY: TRY(sys(SYS_personality, op->a)); return 0;
    case OP_IOPRIO: TRY(sys(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, op->a)); return 0;
    case OP_SCHED: TRY(sys(SYS_sched_setattr, 0, (const void *)(op + 1), 0)); return 0;
    case OP_SETATTR: return set_attr(op, s[0]);
    case OP_ATTACH_TREE: return attach_tree(op, s[0]);
    default: return ENOSYS;
  }
}

void mycfs_child(const uint8_t *plan, size_t len, int fd) {
  sync_fd = fd;
  reset_signals();
  die_with_parent(); /* PR_SET_PDEATHSIG with SIGKILL cannot fail */
  const struct mycfs_plan_hdr *hdr = plan_header(plan, len);
  if (!hdr) {
    chan_send(sync_fd, MSG_ERROR, 0, EPROTO, 0);
    sys_exit(125);
  }
  size_t off = sizeof *hdr;
  for (uint32_t i = 0; i < hdr->count; i++) {
    const struct mycfs_op_hdr *op = plan_op(plan, len, off);
    if (!op) {
      chan_send(sync_fd, MSG_ERROR, i, EPROTO, 0);
      sys_exit(125);
    }
    uint64_t t0 = hdr->flags & PLANF_TIMINGS ? now_ns() : 0;
    sys_failed_errno = 0;
    int err = do_op(op, (const char *)(op + 1), i);
    if (err) {
      report_failure(i, err);
      sys_exit(125);
    }
    if (hdr->flags & PLANF_TIMINGS) chan_send(sync_fd, MSG_DONE, i, 0, now_ns() - t0);
    off += op->len;
  }
  /* A plan always ends in OP_EXEC; reaching here means it did not. */
  chan_send(sync_fd, MSG_ERROR, hdr->count, EPROTO, 0);
  sys_exit(125);
}
