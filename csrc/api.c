/* The functions TypeScript calls through bun:ffi. Each returns 0 or a result on
 * success and -errno on failure, so no errno crosses the FFI boundary. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "mycfs.h"
#include "child/sys.h"

/* The child's start: its stack, these arguments and its own copy of the plan, in one
 * mapping. With CLONE_VM the child runs in mycfs's memory, where the plan's JavaScript
 * buffer may be collected at any moment; the mapping is unmapped once the child has been
 * reaped (mycfs_reap), not before: a PID 1 with --init runs on it until the end. */
struct child_start {
  const uint8_t *plan;
  size_t len;
  int sync_fd, parent_fd;
};
#define CHILD_STACK (4u << 20) /* do_exec's argv and envp arrays live on it: 2 × 65536 pointers */
#define GUARD 4096u

static struct region {
  pid_t pid;
  uint8_t *base;
  size_t size;
} regions[8];

static void forget_region(pid_t pid) {
  for (size_t i = 0; i < sizeof regions / sizeof *regions; i++)
    if (regions[i].pid == pid && regions[i].base) {
      munmap(regions[i].base, regions[i].size);
      regions[i] = (struct region){0};
    }
}

__attribute__((noreturn)) static void child_start(void *arg) {
  struct child_start *s = arg;
  sys(SYS_close, s->parent_fd);
  mycfs_child(s->plan, s->len, s->sync_fd);
}

#if defined(__x86_64__)
/* clone3 with the child on a stack of its own: no page tables copied, no copy-on-write
 * faults after (in mycfs, that is most of the cost of a start), as posix_spawn does. The
 * child calls fn(arg) on its stack and never returns. */
#define SHARE_MEMORY CLONE_VM
static long clone_child(struct clone_args *args, void (*fn)(void *), void *arg) {
  register long f __asm__("r8") = (long)fn;
  register long a __asm__("r9") = (long)arg;
  long ret;
  __asm__ volatile("syscall\n\t"
                   "test %%rax, %%rax\n\t"
                   "jnz 1f\n\t"
                   "xor %%ebp, %%ebp\n\t"
                   "mov %%r9, %%rdi\n\t"
                   "call *%%r8\n\t"
                   "ud2\n"
                   "1:"
                   : "=a"(ret)
                   : "a"(SYS_clone3), "D"(args), "S"(sizeof *args), "r"(f), "r"(a)
                   : "rcx", "r11", "memory");
  return ret;
}
#else
/* Elsewhere, a copy-on-write child (clone3 without a stack behaves like fork). */
#define SHARE_MEMORY 0
static long clone_child(struct clone_args *args, void (*fn)(void *), void *arg) {
  args->stack = args->stack_size = 0;
  long pid = sys(SYS_clone3, args, sizeof *args);
  if (pid == 0) {
    fn(arg);
    sys_exit(127);
  }
  return pid;
}
#endif

/* Every signal blocked across a clone: the child inherits Bun's handlers, which must never
 * run there; it resets them to the defaults before it unblocks (child.c). */
static long clone_blocked(struct clone_args *args, void (*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = clone_child(args, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pid;
}

/* A child that runs fn(arg) until it execs, while the calling thread waits (CLONE_VFORK),
 * on a small stack of its own; the pid or -errno. */
long clone_vfork(void (*fn)(void *), void *arg) {
  const size_t size = GUARD + (64u << 10);
  uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return -errno;
  mprotect(base, GUARD, PROT_NONE);
  struct clone_args args = {.flags = SHARE_MEMORY | CLONE_VFORK,
                            .exit_signal = SIGCHLD,
                            .stack = (uint64_t)(base + GUARD),
                            .stack_size = size - GUARD};
  long pid = clone_blocked(&args, fn, arg);
  munmap(base, size); /* the child has exec'd or exited */
  return pid;
}

/* Clones the child into new namespaces (and into the cgroup v2 directory open as
 * cgroup_fd, if not -1). out[0] = pid, out[1] = the parent's end of the sync socket. */
int mycfs_spawn(const uint8_t *plan, uint32_t len, uint64_t flags, int cgroup_fd, int32_t *out) {
  struct region *slot = NULL;
  for (size_t i = 0; i < sizeof regions / sizeof *regions && !slot; i++)
    if (!regions[i].base) slot = &regions[i];
  if (!slot) return -EAGAIN;
  size_t size = GUARD + CHILD_STACK + ((sizeof(struct child_start) + len + 4095) & ~(size_t)4095);
  uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return -errno;
  mprotect(base, GUARD, PROT_NONE); /* a stack overflow faults instead of writing below */
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    int err = errno;
    munmap(base, size);
    return -err;
  }
  struct child_start *start = (struct child_start *)(base + GUARD + CHILD_STACK);
  *start = (struct child_start){.plan = (uint8_t *)(start + 1), .len = len, .sync_fd = sv[1], .parent_fd = sv[0]};
  memcpy(start + 1, plan, len);
  /* CLONE_INTO_CGROUP: born in its cgroup v2 directory, no migration to pay for */
  struct clone_args args = {.flags = flags | SHARE_MEMORY | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                            .exit_signal = SIGCHLD,
                            .cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
                            .stack = (uint64_t)(base + GUARD),
                            .stack_size = CHILD_STACK};
  long pid = clone_blocked(&args, child_start, start);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    munmap(base, size);
    return (int)pid;
  }
  *slot = (struct region){(pid_t)pid, base, size};
  out[0] = (int32_t)pid;
  out[1] = sv[0];
  return 0;
}

/* Dumpability belongs to an address space: a child that shares mycfs's (x86_64) and makes
 * itself non-dumpable makes mycfs so too, and the next child must start dumpable again
 * (mycfs without root writes its maps through /proc/PID). */
int mycfs_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on, 0, 0, 0) < 0 ? -errno : 0; }

/* Blocking read of one message into out[5] = {kind, step, err, ns in µs (MSG_ERROR: 1 + the
 * failed system call's number, or 0), passed fd or -1}; 0 at EOF. */
int mycfs_recv(int fd, int32_t *out) {
  struct mycfs_msg m;
  int passfd;
  int rc = chan_recv(fd, &m, &passfd);
  if (rc <= 0) return rc;
  out[0] = (int32_t)m.kind;
  out[1] = (int32_t)m.step;
  out[2] = m.err;
  out[3] = m.kind == MSG_ERROR ? (int32_t)m.ns : (int32_t)(m.ns / 1000);
  out[4] = passfd;
  return 1;
}

int mycfs_send(int fd, uint32_t kind, uint32_t step) { return chan_send(fd, kind, step, 0, 0); }

int mycfs_send_fd(int fd, uint32_t kind, uint32_t step, int passed) { return chan_send_fd(fd, kind, step, passed); }

/* A detached copy of the mount at path (relative to dirfd; "" for dirfd itself), with the
 * mounts below it if `recursive` has CLONE_TREE_RECURSIVE. With userns_path, its files
 * appear owned through the uid and gid maps of that user namespace (MOUNT_ATTR_IDMAP): on
 * every mount of the copy, or only its top one with CLONE_TREE_IDMAP_TOP (config.json's
 * idmap on an rbind, where ridmap maps them all). Only the parent can make it: it needs
 * CAP_SYS_ADMIN over the mount's (initial) user namespace. */
int mycfs_clone_tree(int dirfd, const char *path, int recursive, const char *userns_path) {
  int top = recursive & CLONE_TREE_IDMAP_TOP;
  recursive &= CLONE_TREE_RECURSIVE;
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) | (path[0] ? 0 : AT_EMPTY_PATH);
  int tree = (int)syscall(SYS_open_tree, dirfd, path, flags);
  if (tree < 0 || !userns_path[0]) return tree < 0 ? -errno : tree;
  int ns = open(userns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    int err = errno;
    close(tree);
    return -err;
  }
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
  int rc = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive && !top ? AT_RECURSIVE : 0), &attr,
                        sizeof attr);
  int err = errno;
  close(ns);
  if (rc < 0) {
    close(tree);
    return -err;
  }
  return tree;
}

/* An O_PATH fd of the directory at path, the last component not followed: whatever is
 * swapped in at that name later, the fd stays on what was checked. */
int mycfs_open_path_dir(const char *path) {
  int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* 1 if fd and path are the same inode, else 0. */
int mycfs_same_inode(int fd, const char *path) {
  struct stat a, b;
  if (fstat(fd, &a) < 0 || stat(path, &b) < 0) return -errno;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Waiting for the container must not block the JS thread (it forwards signals): JS asks
 * at each SIGCHLD. pid's raw wait status once it has ended (reaped), -1 while it runs,
 * -errno on failure. */
int mycfs_reap(int pid) {
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid, &status, WNOHANG | __WALL)) < 0 && errno == EINTR) {}
  if (r < 0) return -errno;
  if (r == 0) return -1;
  forget_region(r);
  return status & 0x7fffffff;
}

/* Copies the window size of terminal `from` to terminal `to`. */
int mycfs_copy_winsize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) < 0 || ioctl(to, TIOCSWINSZ, &ws) < 0) return -errno;
  return 0;
}

int mycfs_isatty(int fd) { return isatty(fd); }

/* len random bytes (at most 256, which getrandom(2) never cuts short). */
int mycfs_random(uint8_t *buf, uint32_t len) { return getrandom(buf, len, 0) < 0 ? -errno : 0; }

int mycfs_pipe(int32_t *out) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -errno;
  out[0] = p[0];
  out[1] = p[1];
  return 0;
}

const char *mycfs_strerror(int err) { return strerror(err); }

#ifdef __GLIBC__
const char *mycfs_errname(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "";
}
#else
/* musl has no strerrorname_np: the names of Linux's errno values (the same numbers on
 * x86_64 and arm64), as glibc's answers them (test/release.test.ts compares the two). */
static const char *const errnames[] = {
    [EPERM] = "EPERM",
    [ENOENT] = "ENOENT",
    [ESRCH] = "ESRCH",
    [EINTR] = "EINTR",
    [EIO] = "EIO",
    [ENXIO] = "ENXIO",
    [E2BIG] = "E2BIG",
    [ENOEXEC] = "ENOEXEC",
    [EBADF] = "EBADF",
    [ECHILD] = "ECHILD",
    [EAGAIN] = "EAGAIN",
    [ENOMEM] = "ENOMEM",
    [EACCES] = "EACCES",
    [EFAULT] = "EFAULT",
    [ENOTBLK] = "ENOTBLK",
    [EBUSY] = "EBUSY",
    [EEXIST] = "EEXIST",
    [EXDEV] = "EXDEV",
    [ENODEV] = "ENODEV",
    [ENOTDIR] = "ENOTDIR",
    [EISDIR] = "EISDIR",
    [EINVAL] = "EINVAL",
    [ENFILE] = "ENFILE",
    [EMFILE] = "EMFILE",
    [ENOTTY] = "ENOTTY",
    [ETXTBSY] = "ETXTBSY",
    [EFBIG] = "EFBIG",
    [ENOSPC] = "ENOSPC",
    [ESPIPE] = "ESPIPE",
    [EROFS] = "EROFS",
    [EMLINK] = "EMLINK",
    [EPIPE] = "EPIPE",
    [EDOM] = "EDOM",
    [ERANGE] = "ERANGE",
    [EDEADLK] = "EDEADLK",
    [ENAMETOOLONG] = "ENAMETOOLONG",
    [ENOLCK] = "ENOLCK",
    [ENOSYS] = "ENOSYS",
    [ENOTEMPTY] = "ENOTEMPTY",
    [ELOOP] = "ELOOP",
    [ENOMSG] = "ENOMSG",
    [EIDRM] = "EIDRM",
    [ECHRNG] = "ECHRNG",
    [EL2NSYNC] = "EL2NSYNC",
    [EL3HLT] = "EL3HLT",
    [EL3RST] = "EL3RST",
    [ELNRNG] = "ELNRNG",
    [EUNATCH] = "EUNATCH",
    [ENOCSI] = "ENOCSI",
    [EL2HLT] = "EL2HLT",
    [EBADE] = "EBADE",
    [EBADR] = "EBADR",
    [EXFULL] = "EXFULL",
    [ENOANO] = "ENOANO",
    [EBADRQC] = "EBADRQC",
    [EBADSLT] = "EBADSLT",
    [EBFONT] = "EBFONT",
    [ENOSTR] = "ENOSTR",
    [ENODATA] = "ENODATA",
    [ETIME] = "ETIME",
    [ENOSR] = "ENOSR",
    [ENONET] = "ENONET",
    [ENOPKG] = "ENOPKG",
    [EREMOTE] = "EREMOTE",
    [ENOLINK] = "ENOLINK",
    [EADV] = "EADV",
    [ESRMNT] = "ESRMNT",
    [ECOMM] = "ECOMM",
    [EPROTO] = "EPROTO",
    [EMULTIHOP] = "EMULTIHOP",
    [EDOTDOT] = "EDOTDOT",
    [EBADMSG] = "EBADMSG",
    [EOVERFLOW] = "EOVERFLOW",
    [ENOTUNIQ] = "ENOTUNIQ",
    [EBADFD] = "EBADFD",
    [EREMCHG] = "EREMCHG",
    [ELIBACC] = "ELIBACC",
    [ELIBBAD] = "ELIBBAD",
    [ELIBSCN] = "ELIBSCN",
    [ELIBMAX] = "ELIBMAX",
    [ELIBEXEC] = "ELIBEXEC",
    [EILSEQ] = "EILSEQ",
    [ERESTART] = "ERESTART",
    [ESTRPIPE] = "ESTRPIPE",
    [EUSERS] = "EUSERS",
    [ENOTSOCK] = "ENOTSOCK",
    [EDESTADDRREQ] = "EDESTADDRREQ",
    [EMSGSIZE] = "EMSGSIZE",
    [EPROTOTYPE] = "EPROTOTYPE",
    [ENOPROTOOPT] = "ENOPROTOOPT",
    [EPROTONOSUPPORT] = "EPROTONOSUPPORT",
    [ESOCKTNOSUPPORT] = "ESOCKTNOSUPPORT",
    [EOPNOTSUPP] = "EOPNOTSUPP",
    [EPFNOSUPPORT] = "EPFNOSUPPORT",
    [EAFNOSUPPORT] = "EAFNOSUPPORT",
    [EADDRINUSE] = "EADDRINUSE",
    [EADDRNOTAVAIL] = "EADDRNOTAVAIL",
    [ENETDOWN] = "ENETDOWN",
    [ENETUNREACH] = "ENETUNREACH",
    [ENETRESET] = "ENETRESET",
    [ECONNABORTED] = "ECONNABORTED",
    [ECONNRESET] = "ECONNRESET",
    [ENOBUFS] = "ENOBUFS",
    [EISCONN] = "EISCONN",
    [ENOTCONN] = "ENOTCONN",
    [ESHUTDOWN] = "ESHUTDOWN",
    [ETOOMANYREFS] = "ETOOMANYREFS",
    [ETIMEDOUT] = "ETIMEDOUT",
    [ECONNREFUSED] = "ECONNREFUSED",
    [EHOSTDOWN] = "EHOSTDOWN",
    [EHOSTUNREACH] = "EHOSTUNREACH",
    [EALREADY] = "EALREADY",
    [EINPROGRESS] = "EINPROGRESS",
    [ESTALE] = "ESTALE",
    [EUCLEAN] = "EUCLEAN",
    [ENOTNAM] = "ENOTNAM",
    [ENAVAIL] = "ENAVAIL",
    [EISNAM] = "EISNAM",
    [EREMOTEIO] = "EREMOTEIO",
    [EDQUOT] = "EDQUOT",
    [ENOMEDIUM] = "ENOMEDIUM",
    [EMEDIUMTYPE] = "EMEDIUMTYPE",
    [ECANCELED] = "ECANCELED",
    [ENOKEY] = "ENOKEY",
    [EKEYEXPIRED] = "EKEYEXPIRED",
    [EKEYREVOKED] = "EKEYREVOKED",
    [EKEYREJECTED] = "EKEYREJECTED",
    [EOWNERDEAD] = "EOWNERDEAD",
    [ENOTRECOVERABLE] = "ENOTRECOVERABLE",
    [ERFKILL] = "ERFKILL",
    [EHWPOISON] = "EHWPOISON",
};

const char *mycfs_errname(int err) {
  const char *name = err > 0 && err < (int)(sizeof errnames / sizeof *errnames) ? errnames[err] : 0;
  return name ? name : "";
}
#endif

/* How this library was built, for `mycfs version`: the compiler, the C library whose
 * headers it was compiled against, the architecture. */
#define STR_(x) #x
#define STR(x) STR_(x)
#if defined(__GLIBC__)
#define LIBC "glibc " STR(__GLIBC__) "." STR(__GLIBC_MINOR__)
#else
#define LIBC "musl"
#endif
#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__aarch64__)
#define ARCH "aarch64"
#else
#define ARCH "unknown"
#endif
const char *mycfs_build_info(void) { return "gcc " __VERSION__ ", " LIBC ", " ARCH; }

/* Thin file system calls for the start path, where loading node:fs would cost more
 * than the container itself takes to start. */
int mycfs_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int mycfs_write(int fd, const uint8_t *buf, uint32_t len) {
  for (uint32_t off = 0; off < len;) {
    ssize_t n = write(fd, buf + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    off += (uint32_t)n;
  }
  return 0;
}

/* path's mode (type and permission bits), following symlinks. */
int mycfs_file_mode(const char *path) {
  struct stat st;
  return stat(path, &st) < 0 ? -errno : (int)st.st_mode;
}

int mycfs_mkdir(const char *path, uint32_t mode) { return mkdir(path, mode) < 0 ? -errno : 0; }

/* out[0] = soft, out[1] = hard; -1 for unlimited. */
int mycfs_getrlimit(int resource, int64_t *out) {
  struct rlimit rl;
  if (getrlimit(resource, &rl) < 0) return -errno;
  out[0] = rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur;
  out[1] = rl.rlim_max == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_max;
  return 0;
}

/* The file system type (statfs f_type) of path's file system. */
int64_t mycfs_fs_type(const char *path) {
  struct statfs st;
  return statfs(path, &st) < 0 ? -errno : (int64_t)st.f_type;
}

int mycfs_chmod(const char *path, uint32_t mode) { return chmod(path, mode) < 0 ? -errno : 0; }

int mycfs_open_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int mycfs_chown(const char *path, uint32_t uid, uint32_t gid) { return lchown(path, uid, gid) < 0 ? -errno : 0; }

int mycfs_rmdir(const char *path) { return rmdir(path) < 0 ? -errno : 0; }

/* access(2): 0, or -errno (EROFS for a read-only mount, EACCES). */
int mycfs_access(const char *path, int mode) { return access(path, mode) < 0 ? -errno : 0; }

/* One write(2) of the whole value, as cgroup and /proc files expect. */
int mycfs_write_file(const char *path, const uint8_t *data, uint32_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  /* one write: a cgroup or /proc file takes its value whole. A signal (SIGCHLD, one the
   * user sends) can interrupt it, e.g. memory.limit_in_bytes while it reclaims: again. */
  ssize_t n;
  while ((n = write(fd, data, len)) < 0 && errno == EINTR) {}
  int err = n < 0 ? errno : n != (ssize_t)len ? EIO : 0;
  close(fd);
  return -err;
}

/* Reads up to size bytes of a (small, virtual) file; returns the length read. */
int mycfs_read_file(const char *path, uint8_t *buf, uint32_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  uint32_t off = 0;
  for (ssize_t n; off < size; off += (uint32_t)n) {
    n = read(fd, buf + off, size - off);
    if (n < 0 && errno == EINTR) {
      n = 0;
      continue;
    }
    if (n <= 0) break;
  }
  close(fd);
  return (int)off;
}

/* readlink(2) into buf; the target's length, -ERANGE if it might not fit. */
int mycfs_readlink(const char *path, uint8_t *buf, uint32_t size) {
  ssize_t n = readlink(path, (char *)buf, size);
  if (n < 0) return -errno;
  return (uint32_t)n == size ? -ERANGE : (int)n;
}

/* The names in a directory but . and .., each followed by a NUL; the bytes used, or
 * -ERANGE if buf is too small. */
int mycfs_list_dir(const char *path, uint8_t *buf, uint32_t size) {
  DIR *d = opendir(path);
  if (!d) return -errno;
  uint32_t off = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    size_t len = strlen(e->d_name) + 1;
    if (off + len > size) {
      rc = -ERANGE;
      break;
    }
    memcpy(buf + off, e->d_name, len);
    off += (uint32_t)len;
  }
  closedir(d);
  return rc ? rc : (int)off;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)ftw;
  /* a directory we may not read (overlayfs leaves work/work at mode 0): open it up first */
  if (type == FTW_DNR) return chmod(path, 0700) < 0 || mycfs_remove_tree(path) < 0 ? -1 : 0;
  int rc = type == FTW_DP ? rmdir(path) : unlink(path);
  return rc < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf that never follows a symlink nor crosses into another mount. */
int mycfs_remove_tree(const char *path) {
  if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT) return -errno;
  return 0;
}

/* A namespace file (/proc/PID/ns/net, a bind mount of one) opened for setns: the fd; in
 * out[0] its CLONE_NEW* type, out[1] its inode (the namespace's identity), out[2] the
 * inode of the user namespace that owns it (0: one we may not see). The path is opened
 * O_PATH and checked to be on nsfs before it is opened for reading, so that a device or
 * a FIFO named by mistake is never opened. -ENOTTY: not a namespace file. */
#define NSFS_MAGIC_NUMBER 0x6e736673
#define NS_GET_USERNS_IOCTL _IO(0xb7, 0x1)
#define NS_GET_NSTYPE_IOCTL _IO(0xb7, 0x3)
int mycfs_open_namespace(const char *path, uint32_t *out) {
  int pfd = open(path, O_PATH | O_CLOEXEC);
  if (pfd < 0) return -errno;
  struct statfs st;
  int rc = fstatfs(pfd, &st) < 0 ? -errno : st.f_type != NSFS_MAGIC_NUMBER ? -ENOTTY : 0;
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
  int fd = rc < 0 ? -1 : open(proc, O_RDONLY | O_CLOEXEC);
  if (rc == 0 && fd < 0) rc = -errno;
  close(pfd);
  if (rc < 0) return rc;
  int t = ioctl(fd, NS_GET_NSTYPE_IOCTL);
  if (t < 0) {
    rc = -errno;
    close(fd);
    return rc;
  }
  struct stat self, owner;
  int ufd = ioctl(fd, NS_GET_USERNS_IOCTL);
  out[0] = (uint32_t)t;
  out[1] = fstat(fd, &self) == 0 ? (uint32_t)self.st_ino : 0;
  out[2] = ufd >= 0 && fstat(ufd, &owner) == 0 ? (uint32_t)owner.st_ino : 0;
  if (ufd >= 0) close(ufd);
  return fd;
}
