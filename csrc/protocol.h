/* The contract between the TypeScript parent and the C child.
 * src/native/protocol.ts repeats every number below; test/protocol.unit.test.ts checks
 * that both files agree, so the two sides can never drift apart. */
#ifndef MYCFS_PROTOCOL_H
#define MYCFS_PROTOCOL_H
#include <stdint.h>

#define MYCFS_PLAN_MAGIC 0x7066796du /* "myfp" */
#define MYCFS_PLAN_VERSION 1u

/* Setup operations, walked by the child in plan order. */
enum mycfs_op {
  OP_SYNC = 1,       /* a = sync point: tell the parent, wait for its go-ahead */
  OP_MOUNT = 2,      /* s0 source, s1 target, s2 fstype, s3 data; a = mount flags */
  OP_ROOT = 3,       /* s0 path: later IN_ROOT paths resolve below it (OPF_TREE: see there) */
  OP_MKDIR = 4,      /* s0 path (in root), a = mode */
  OP_MKNOD = 5,      /* s0 path (in root), a = mode, b = dev_t */
  OP_SYMLINK = 6,    /* s0 link target, s1 path (in root) */
  OP_PIVOT_ROOT = 7, /* switch to the root, detach the old one */
  OP_CHROOT = 8,     /* move the root onto / and chroot (the --no-pivot path) */
  OP_HOSTNAME = 9,   /* s0 name */
  OP_LOOPBACK = 10,  /* bring lo up */
  OP_CHDIR = 11,     /* s0 path, resolved below OP_ROOT; the result must be inside the root */
  OP_STDIO = 12,     /* a, b, c: fds that become 0, 1, 2 (-1 keeps the inherited one) */
  OP_EXEC = 13,      /* s0 PATH to search, then a argv strings, then b env strings */
  OP_UNSHARE = 14,   /* a = CLONE_* flags */
  OP_PRCTL = 15,     /* prctl(a, b, 0, 0, 0) */
  OP_RLIMIT = 16,    /* a = resource, b = soft, c = hard (-1: unlimited) */
  OP_CAPS =
      17, /* a = permitted and effective, b = inheritable, c = ambient (bit masks; the ambient set is cleared first) */
  OP_SECCOMP = 18,     /* a = length of the BPF program (struct sock_filter[]) that follows the header; b =
                        * seccomp(2)'s SECCOMP_FILTER_FLAG_*; c = with NEW_LISTENER in b, the sync point at
                        * which the notification fd goes to the parent (SCM_RIGHTS) */
  OP_SETID = 19,       /* a = gid, b = uid: become them; c = number of supplementary gids (uint32) after the header */
  OP_ATTACH = 20,      /* s0 path: attach there the mount the parent sent with the last MSG_GO */
  OP_WRITE = 21,       /* s0 path, s1 text: one write(2) of the text (cgroup and /proc files) */
  OP_SETNS = 22,       /* setns(a, b): a = a pidfd (or namespace fd), b = CLONE_NEW* flags */
  OP_PTY = 23,         /* open a pty on the root's /dev/pts, slave (owned by uid b, gid c) onto 0-2, master to the
                        * parent at sync point a */
  OP_ENTER = 24,       /* join the PID namespace of pidfd (or namespace fd) a unless -1, go on in a clone
                        * made there (CLONE_PARENT, into the cgroup v2 directory fd b unless -1); its pid
                        * goes to mycfs (the enter program, csrc/enter/main.c: on its report fd; mycfs's
                        * own child: a pidfd at sync point c, which the clone waits past) and this
                        * process exits */
  OP_CAPBSET = 25,     /* a = the bounding set to keep (bit mask): every other capability is dropped from it */
  OP_AWAIT = 26,       /* OCI create: reach sync point SYNC_CREATED, then stop dying with the parent (which
                        * exits) and block until one byte can be read from fd a (the exec fifo, `start`);
                        * b = the fds from 3 on that the command keeps (--preserve-fds) */
  OP_UMASK = 27,       /* umask(a) */
  OP_PERSONALITY = 28, /* personality(a) */
  OP_IOPRIO = 29,      /* ioprio_set(IOPRIO_WHO_PROCESS, 0, a) */
  OP_SCHED = 30,       /* sched_setattr(0, the struct sched_attr after the header, 0) */
  OP_LIFT_ROOT = 50,   /* copy the mount tree at / over / and chroot into the copy: a root with no
                        * parent mount (initramfs) cannot be pivoted from, the copy can */
  OP_SETATTR = 60,     /* s0 target (OPF_IN_ROOT): mount_setattr(AT_RECURSIVE) on it and every mount below it,
                        * setting the MOUNT_ATTR_* bits a and clearing b (config.json's rro, rnosuid…) */
  OP_ATTACH_TREE = 61, /* s0 target (OPF_IN_ROOT, made as OPF_MKDIR/OPF_MKFILE say): attach there the detached
                        * mount tree fd a (inherited: an id-mapped bind mycfs made), then close it */
};

/* Op flags. */
#define OPF_IN_ROOT 0x1u     /* OP_MOUNT: target resolved below OP_ROOT, never leaving it */
#define OPF_MKDIR 0x2u       /* OP_MOUNT: create a missing target as a directory */
#define OPF_MKFILE 0x4u      /* OP_MOUNT: create a missing target as an empty file */
#define OPF_OPTIONAL 0x8u    /* OP_MOUNT: a target that does not exist (or cannot be made: EROFS) is skipped */
#define OPF_BIND_SELF 0x80u  /* OP_MOUNT: the source is the resolved target itself */
#define OPF_SETGROUPS 0x100u /* OP_SETID: the supplementary groups become the c gids (setgroups is allowed) */
/* OP_ROOT: the root is a detached mount tree, fd a (or, if a is -1, the mount passed at
 * the last sync point): attached over / of the child's mount namespace and used through
 * its fd, never a name */
#define OPF_TREE 0x200u
/* OP_MOUNT: the source is resolved below OP_ROOT too; if b is not 0 it must be the
 * character device b (a dev_t) */
#define OPF_SOURCE_IN_ROOT 0x400u
/* OP_MOUNT: a mask (runc's maskPath): where the resolved target is a directory, an empty
 * read-only tmpfs is mounted on it instead of the source */
#define OPF_MASK 0x800u
#define OPF_INIT 0x10u   /* OP_EXEC: run mycfs's tiny init as PID 1, the command as its child */
#define OPF_SETSID 0x20u /* OP_EXEC: new session, so the container has no host terminal */
#define OPF_CTTY 0x40u   /* OP_EXEC: fd 0 becomes the controlling terminal */

/* Numbered sync points: the child stops at each; the parent acts, then says go. A plan
 * has only those the parent has something to do at. */
enum mycfs_sync {
  SYNC_NAMESPACES = 1, /* child is in its new user namespace: the uid and gid maps go here */
  SYNC_TERMINAL = 2,   /* OP_PTY: the message carries the pty master (SCM_RIGHTS); window size goes here */
  SYNC_PREPARED = 3,   /* the steps that follow need what the parent makes meanwhile (cgroup, layers) */
  SYNC_NETWORK = 4,    /* in the new network namespace: the parent moves eth0 into it and sets it up */
  SYNC_CREATED = 5,    /* OP_AWAIT: everything is set up; after the go-ahead the parent may exit */
  SYNC_HOOKS = 6,      /* mounted, before the root's switch: the parent runs config.json's createRuntime hooks */
  SYNC_SECCOMP = 20,   /* OP_SECCOMP with a listener: the message carries the filter's notification fd, which
                        * the parent hands to config.json's seccomp listenerPath */
  SYNC_FORKED = 80,    /* OP_ENTER in mycfs's own child: the message carries a pidfd of the clone that goes on */
};

/* Messages on the sync socket (SOCK_SEQPACKET, one struct per packet). */
enum mycfs_msg_kind {
  MSG_SYNC = 1,  /* child -> parent: reached sync point `step` (may carry one fd, SCM_RIGHTS) */
  MSG_GO = 2,    /* parent -> child: continue past sync point `step` (may carry an fd) */
  MSG_DONE = 3,  /* child -> parent: op `step` finished in `ns` nanoseconds (debug plans) */
  MSG_ERROR = 4, /* child -> parent: op `step` failed with `err` (errno); `ns` is 1 + the number of
                  * the system call that failed with it, or 0 if none did */
};

/* The functions TypeScript calls, by number through mycfs_call (call.c). */
enum mycfs_call {
  CALL_SPAWN = 1,
  CALL_RECV = 2,
  CALL_SEND = 3,
  CALL_SEND_FD = 4,
  CALL_REAP = 5,
  CALL_COPY_WINSIZE = 6,
  CALL_PIPE = 7,
  CALL_ISATTY = 8,
  CALL_RANDOM = 9,
  CALL_STRERROR = 10,
  CALL_ERRNAME = 11,
  CALL_CLOSE = 12,
  CALL_WRITE = 13,
  CALL_FILE_MODE = 14,
  CALL_MKDIR = 15,
  CALL_REMOVE_TREE = 16,
  CALL_RMDIR = 17,
  CALL_GETRLIMIT = 18,
  CALL_CLONE_TREE = 19,
  CALL_CHOWN = 20,
  CALL_OPEN_DIR = 21,
  CALL_FS_TYPE = 22,
  CALL_CHMOD = 23,
  CALL_WRITE_FILE = 24,
  CALL_READ_FILE = 25,
  CALL_READLINK = 26,
  CALL_LIST_DIR = 27,
  CALL_PLAN_DUMP = 28,
  CALL_SPAWN_JOINED = 29,
  CALL_PIDFD_OPEN = 30,
  CALL_PIDFD_SIGNAL = 31,
  CALL_PIDFD_WAIT = 32,
  CALL_SET_DUMPABLE = 33,
  CALL_TTY_RAW = 34,
  CALL_TTY_RESTORE = 35,
  CALL_REPLACE_FILE = 36,
  CALL_SYMLINK = 37,
  CALL_UNLINK = 38,
  CALL_DUP2 = 39,
  CALL_LOCK = 40,
  CALL_RENAME = 41,
  CALL_OPEN_PATH_DIR = 42,
  CALL_SAME_INODE = 43,
  CALL_SPAWN_INTO = 44,
  CALL_ACCESS = 45,
  CALL_LAYER_ENTRY = 46,
  CALL_DEVICE_NUMBER = 60,
  CALL_ATTACH_DEVICE_FILTER = 61,
  CALL_NETLINK = 62,
  CALL_OPEN_NAMESPACE = 70,
  CALL_MOUNT = 80,
  CALL_SUPERVISE = 81,
  CALL_POWER_OFF = 82,
  CALL_BUILD_INFO = 83,
  CALL_MKFIFO = 90,
  CALL_OPEN_FIFO = 91,
  CALL_SEND_CONSOLE = 92,
  CALL_SECCOMP_FLAGS = 95,
  CALL_OCI_PROCESS_START = 96,
  CALL_OCI_STATUS = 97,
  CALL_OCI_START = 98,
  CALL_OCI_WAIT_GONE = 99,
  CALL_OCI_REMOVE = 100,
};

/* An OCI container's status (oci_status), as runtime-spec names them. */
enum oci_status {
  OCI_STOPPED = 0,
  OCI_CREATED = 1,
  OCI_RUNNING = 2,
  OCI_PAUSED = 3,
};

/* Plan flags (header). */
#define PLANF_TIMINGS 0x1u /* send MSG_DONE after every op */

struct mycfs_msg {
  uint32_t kind;
  uint32_t step;
  int32_t err;
  uint32_t pad;
  uint64_t ns;
};

/* Plan layout: header, then ops; every record is 8-byte aligned. */
struct mycfs_plan_hdr {
  uint32_t magic;
  uint32_t version;
  uint32_t count;
  uint32_t flags;
};

struct mycfs_op_hdr {
  uint32_t len; /* whole record, header and strings, padded to 8 */
  uint32_t op;
  uint32_t nstr; /* NUL-terminated strings that follow the header (OP_SECCOMP, OP_SETID: raw bytes) */
  uint32_t flags;
  uint64_t a, b, c;
};

#endif
