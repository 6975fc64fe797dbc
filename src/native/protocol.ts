// The numbers of csrc/protocol.h, as TypeScript. test/protocol.unit.test.ts reads the header
// and fails if the two ever disagree.

export const PLAN_MAGIC = 0x7066796d;
export const PLAN_VERSION = 1;
export const PLAN_HEADER_SIZE = 16;
export const OP_HEADER_SIZE = 40;

export const OpCode = {
  SYNC: 1,
  MOUNT: 2,
  ROOT: 3,
  MKDIR: 4,
  MKNOD: 5,
  SYMLINK: 6,
  PIVOT_ROOT: 7,
  CHROOT: 8,
  HOSTNAME: 9,
  LOOPBACK: 10,
  CHDIR: 11,
  STDIO: 12,
  EXEC: 13,
  UNSHARE: 14,
  PRCTL: 15,
  RLIMIT: 16,
  CAPS: 17,
  SECCOMP: 18,
  SETID: 19,
  ATTACH: 20,
  WRITE: 21,
  SETNS: 22,
  PTY: 23,
  ENTER: 24,
  CAPBSET: 25,
  AWAIT: 26,
  UMASK: 27,
  PERSONALITY: 28,
  IOPRIO: 29,
  SCHED: 30,
  LIFT_ROOT: 50,
  SETATTR: 60,
  ATTACH_TREE: 61,
} as const;

export const OpFlag = {
  IN_ROOT: 0x1,
  MKDIR: 0x2,
  MKFILE: 0x4,
  OPTIONAL: 0x8,
  BIND_SELF: 0x80,
  SETGROUPS: 0x100,
  TREE: 0x200,
  SOURCE_IN_ROOT: 0x400,
  MASK: 0x800,
  INIT: 0x10,
  SETSID: 0x20,
  CTTY: 0x40,
} as const;

export const Sync = {
  NAMESPACES: 1,
  TERMINAL: 2,
  PREPARED: 3,
  NETWORK: 4,
  CREATED: 5,
  HOOKS: 6,
  SECCOMP: 20,
} as const;
export type SyncPoint = (typeof Sync)[keyof typeof Sync];

export const MsgKind = {
  SYNC: 1,
  GO: 2,
  DONE: 3,
  ERROR: 4,
} as const;

export const Call = {
  SPAWN: 1,
  RECV: 2,
  SEND: 3,
  SEND_FD: 4,
  REAP: 5,
  COPY_WINSIZE: 6,
  PIPE: 7,
  ISATTY: 8,
  RANDOM: 9,
  STRERROR: 10,
  ERRNAME: 11,
  CLOSE: 12,
  WRITE: 13,
  FILE_MODE: 14,
  MKDIR: 15,
  REMOVE_TREE: 16,
  RMDIR: 17,
  GETRLIMIT: 18,
  CLONE_TREE: 19,
  CHOWN: 20,
  OPEN_DIR: 21,
  FS_TYPE: 22,
  CHMOD: 23,
  WRITE_FILE: 24,
  READ_FILE: 25,
  READLINK: 26,
  LIST_DIR: 27,
  PLAN_DUMP: 28,
  SPAWN_JOINED: 29,
  PIDFD_OPEN: 30,
  PIDFD_SIGNAL: 31,
  PIDFD_WAIT: 32,
  SET_DUMPABLE: 33,
  TTY_RAW: 34,
  TTY_RESTORE: 35,
  REPLACE_FILE: 36,
  SYMLINK: 37,
  UNLINK: 38,
  DUP2: 39,
  LOCK: 40,
  RENAME: 41,
  OPEN_PATH_DIR: 42,
  SAME_INODE: 43,
  SPAWN_INTO: 44,
  ACCESS: 45,
  LAYER_ENTRY: 46,
  DEVICE_NUMBER: 60,
  ATTACH_DEVICE_FILTER: 61,
  NETLINK: 62,
  OPEN_NAMESPACE: 70,
  MOUNT: 80,
  SUPERVISE: 81,
  POWER_OFF: 82,
  BUILD_INFO: 83,
  MKFIFO: 90,
  OPEN_FIFO: 91,
  SEND_CONSOLE: 92,
  SECCOMP_FLAGS: 95,
  OCI_PROCESS_START: 96,
  OCI_STATUS: 97,
  OCI_START: 98,
  OCI_WAIT_GONE: 99,
  OCI_REMOVE: 100,
} as const;

export const PlanFlag = {
  TIMINGS: 0x1,
} as const;

/** An OCI container's status as oci_status (csrc/oci_lifecycle.c) finds it. */
export const OciStatus = { STOPPED: 0, CREATED: 1, RUNNING: 2, PAUSED: 3 } as const;
