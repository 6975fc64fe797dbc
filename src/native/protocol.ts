// The numbers of csrc/protocol.h, as TypeScript. test/protocol.test.ts reads the header
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
} as const;

export const OpFlag = {
  IN_ROOT: 0x1,
  MKDIR: 0x2,
  MKFILE: 0x4,
  OPTIONAL: 0x8,
  BIND_SELF: 0x80,
  SETGROUPS: 0x100,
  INIT: 0x10,
  SETSID: 0x20,
  CTTY: 0x40,
} as const;

export const Sync = {
  NAMESPACES: 1,
  TERMINAL: 2,
} as const;
export type SyncPoint = (typeof Sync)[keyof typeof Sync];

export const MsgKind = {
  SYNC: 1,
  GO: 2,
  DONE: 3,
  ERROR: 4,
} as const;

export const PlanFlag = {
  TIMINGS: 0x1,
} as const;
