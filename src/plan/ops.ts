// The setup plan: a flat list of steps that the C child walks in order (bubblewrap's
// SetupOp list). Each step carries the words --debug and error messages show.
import { OpCode, OpFlag, Sync, type SyncPoint } from "../native/protocol";

/** A step as the C child reads it (csrc/protocol.h: struct mycfs_op_hdr and its strings). */
export interface RawOp {
  code: number;
  flags: number;
  a: number;
  b: number;
  c: number;
  strs: string[];
}

export interface Op extends RawOp {
  /** Raw bytes carried instead of strings (OP_SECCOMP's BPF program). */
  blob?: Uint8Array;
  /** What the step does, for a learner: "mount proc on /proc". */
  what: string;
}

function op(code: number, what: string, strs: string[] = [], more: Partial<Op> = {}): Op {
  return { code, flags: 0, a: 0, b: 0, c: 0, strs, what, ...more };
}

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  STRICTATIME: 0x1000000,
} as const;

export interface MountSpec {
  source?: string;
  target: string;
  fstype?: string;
  data?: string;
  flags?: number;
  /** Resolve the target below the container root (set with `root`), creating it if missing. */
  inRoot?: "dir" | "file" | "existing";
  /** A target that does not exist is skipped (paths that only some kernels have). */
  optional?: boolean;
  /** Bind the resolved target onto itself (to remount it read-only). */
  bindSelf?: boolean;
  /** The source is a path below the container root too; with `device`, it must be that
   * character device (major, minor). */
  sourceInRoot?: { device?: [number, number] };
  what: string;
}

/** dev_t as glibc's makedev encodes it, for the small numbers used here. */
const makedev = (major: number, minor: number) => (major << 8) | minor;

export function mount(m: MountSpec): Op {
  const flags =
    (m.inRoot === undefined
      ? 0
      : OpFlag.IN_ROOT | (m.inRoot === "dir" ? OpFlag.MKDIR : m.inRoot === "file" ? OpFlag.MKFILE : 0)) |
    (m.optional ? OpFlag.OPTIONAL : 0) |
    (m.bindSelf ? OpFlag.BIND_SELF : 0) |
    (m.sourceInRoot ? OpFlag.SOURCE_IN_ROOT : 0);
  const device = m.sourceInRoot?.device;
  return op(OpCode.MOUNT, m.what, [m.source ?? "", m.target, m.fstype ?? "", m.data ?? ""], {
    flags,
    a: m.flags ?? 0,
    b: device ? makedev(...device) : 0,
  });
}

export const sync = (point: SyncPoint, what: string) => op(OpCode.SYNC, what, [], { a: point });
export const root = (path: string) =>
  op(OpCode.ROOT, `open ${path} as the container's root for the steps that follow`, [path]);
/** The root is a detached mount tree that mycfs made from a directory fd it checked: `fd`
 * inherited by the child, or -1 for the mount passed at the last sync point. */
export const rootTree = (fd: number, path: string, what: string) =>
  op(OpCode.ROOT, `${what}; it is the container's root for the steps that follow, held by its fd`, [path], { flags: OpFlag.TREE, a: fd });
export const mkdir = (path: string) => op(OpCode.MKDIR, `create directory ${path}`, [path]);
export const mknod = (path: string, mode: number, major: number, minor: number) =>
  op(OpCode.MKNOD, `create device ${path} (${major}:${minor})`, [path], {
    a: mode,
    b: makedev(major, minor),
  });
export const symlink = (target: string, path: string) =>
  op(OpCode.SYMLINK, `link ${path} -> ${target}`, [target, path]);
export const pivotRoot = (path: string) =>
  op(OpCode.PIVOT_ROOT, `pivot_root into ${path} and detach the host's root`);
/** The host's root has no parent mount (an initramfs): pivot from a copy of its tree. */
export const liftRoot = () =>
  op(OpCode.LIFT_ROOT, "copy the mount tree at / over itself and chroot into the copy: the host's root is an initramfs, which pivot_root cannot leave, and the copy has a mount below it");
export const chroot = (path: string) =>
  op(OpCode.CHROOT, `move ${path} onto / and chroot into it (--no-pivot)`);
export const hostname = (name: string) => op(OpCode.HOSTNAME, `set hostname to ${name}`, [name]);
export const loopback = () => op(OpCode.LOOPBACK, "bring up lo in the new network namespace");
export const chdir = (path: string) =>
  op(OpCode.CHDIR, `change directory to ${path}, resolved inside the container's root`, [path]);
export const stdio = (fds: [number, number, number]) =>
  op(OpCode.STDIO, `connect stdin, stdout and stderr`, [], { a: fds[0], b: fds[1], c: fds[2] });

export interface ExecSpec {
  argv: string[];
  env: string[];
  /** The container's PATH, searched for argv[0]. */
  path: string;
  init: boolean;
  ctty: boolean;
}

export function exec(e: ExecSpec): Op {
  const flags = OpFlag.SETSID | (e.init ? OpFlag.INIT : 0) | (e.ctty ? OpFlag.CTTY : 0);
  const what = `${e.init ? "start mycfs's init, which runs" : "execute"} ${e.argv[0]}`;
  return op(OpCode.EXEC, what, [e.path, ...e.argv, ...e.env], {
    flags,
    a: e.argv.length,
    b: e.env.length,
  });
}

export const unshare = (flags: number, what: string) => op(OpCode.UNSHARE, what, [], { a: flags });
export const prctl = (option: number, arg: number, what: string) => op(OpCode.PRCTL, what, [], { a: option, b: arg });
export const PR = { SET_DUMPABLE: 4, SET_NO_NEW_PRIVS: 38 } as const;

/** -1 is RLIM_INFINITY. */
export const rlimit = (resource: number, soft: number, hard: number, name: string) =>
  op(OpCode.RLIMIT, `set the ${name} limit to ${soft < 0 ? "unlimited" : soft}:${hard < 0 ? "unlimited" : hard}`, [], { a: resource, b: soft, c: hard });

/** Bit masks of capability numbers (up to 63, so plain numbers lose nothing below 2^53: caps ≤ 40 today). */
export const caps = (bounding: number, permitted: number, inheritable: number, count: number) =>
  op(OpCode.CAPS, `keep ${count} capabilities, drop the rest from every set`, [], { a: bounding, b: permitted, c: inheritable });

export function seccomp(bpf: Uint8Array): Op {
  return { ...op(OpCode.SECCOMP, `install the seccomp filter (${bpf.byteLength / 8} BPF instructions)`, [], { a: bpf.byteLength }), blob: bpf };
}

/** Become gid/uid (root of a new user namespace, once its maps are written). */
export const setid = (gid: number, uid: number, dropGroups: boolean) =>
  op(OpCode.SETID, `become uid ${uid}, gid ${gid} of the new user namespace`, [], { a: gid, b: uid, flags: dropGroups ? OpFlag.SETGROUPS : 0 });

/** Attach the mount mycfs passed at the last sync point (an id-mapped image) at path. */
export const attach = (path: string, what: string) => op(OpCode.ATTACH, what, [path]);

/** One write(2) of text to a file (a cgroup's `tasks`, say). */
export const write = (path: string, text: string, what: string) => op(OpCode.WRITE, what, [path, text]);

/** Joins the namespaces in `flags` of the process behind pidfd (mycfs exec). */
export const setns = (pidfd: number, flags: number, what: string) => op(OpCode.SETNS, what, [], { a: pidfd, b: flags });

/** The enter program's step into the container's PID namespace (pidfd): the walk goes on in
 * a clone made there, born in the cgroup v2 directory open as cgroupFd (-1: none). */
export const enter = (pidfd: number, cgroupFd: number, pid: number) =>
  op(OpCode.ENTER, `clone into the PID namespace of ${pid}${cgroupFd >= 0 ? " and the container's cgroup v2 directory" : ""}, as mycfs's own child`, [], { a: pidfd, b: cgroupFd });

/** A terminal from the devpts on /dev/pts: its slave becomes fds 0-2, its master goes to mycfs. */
export const pty = () =>
  op(OpCode.PTY, "open a terminal on the container's own /dev/pts and hand its master to mycfs", [], { a: Sync.TERMINAL });
