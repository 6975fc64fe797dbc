// The setup plan: a flat list of typed steps that the C child walks in order (bubblewrap's
// SetupOp list). Each step names its fields and carries the words --debug and error
// messages show; only the encoder (encode.ts) maps them to the wire's slots.
import { Sync, type SyncPoint } from "../native/protocol";

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  NOSYMFOLLOW: 0x100,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

/** mount_setattr(2)'s attributes (the atime modes are one field, _ATIME, not bits). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  _ATIME: 0x70,
  RELATIME: 0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

export const PR = { SET_PDEATHSIG: 1, SET_DUMPABLE: 4, SET_KEEPCAPS: 8, SET_NO_NEW_PRIVS: 38 } as const;

/** seccomp(2)'s SECCOMP_FILTER_FLAG_*: NEW_LISTENER makes the notification fd that
 * SCMP_ACT_NOTIFY's listener answers from. */
export const SECCOMP_FILTER_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8, WAIT_KILLABLE_RECV: 32 } as const;

export interface MountSpec {
  source?: string;
  target: string;
  fstype?: string;
  data?: string;
  /** MS_* flags */
  flags?: number;
  /** Resolve the target below the container root (set with `root`), creating it if missing. */
  inRoot?: "dir" | "file" | "existing";
  /** A target that does not exist is skipped (paths that only some kernels have), or,
   * with inRoot "file" or "dir", one that cannot be made in a read-only root. */
  optional?: boolean;
  /** Bind the resolved target onto itself (to remount it read-only). */
  bindSelf?: boolean;
  /** The source is a path below the container root too; with `device`, it must be that
   * character device (major, minor). */
  sourceInRoot?: { device?: [number, number] };
  /** A mask: where the target turns out to be a directory, an empty read-only tmpfs goes there instead. */
  mask?: boolean;
  what: string;
}

export interface ExecSpec {
  argv: string[];
  env: string[];
  /** The container's PATH, searched for argv[0]. */
  path: string;
  init: boolean;
  ctty: boolean;
}

/** One step of a plan: its kind, its fields, and what it does in a learner's words. */
export type Step = { what: string } & (
  | { kind: "sync"; point: SyncPoint }
  | ({ kind: "mount" } & MountSpec)
  /** Later in-root paths resolve below `path`; with `tree`, the root is a detached mount
   * tree mycfs made from a directory fd it checked: that fd, inherited, or "passed" at the
   * last sync point. */
  | { kind: "root"; path: string; tree?: number | "passed" }
  | { kind: "mkdir"; path: string }
  | { kind: "mknod"; path: string; mode: number; major: number; minor: number }
  | { kind: "symlink"; target: string; path: string }
  | { kind: "pivotRoot"; path: string }
  | { kind: "liftRoot" }
  | { kind: "chroot"; path: string }
  | { kind: "hostname"; name: string }
  | { kind: "loopback" }
  | { kind: "chdir"; path: string }
  /** Host fds that become 0, 1, 2 (-1: keep the inherited one). */
  | { kind: "stdio"; fds: [number, number, number] }
  | ({ kind: "exec" } & ExecSpec)
  | { kind: "unshare"; flags: number }
  | { kind: "prctl"; option: number; arg: number }
  /** -1 is RLIM_INFINITY. */
  | { kind: "rlimit"; resource: number; soft: number; hard: number; name: string }
  /** Bit masks of capability numbers (up to 63; plain numbers lose nothing below 2^53). */
  | { kind: "bounding"; keep: number }
  | { kind: "caps"; permitted: number; inheritable: number; ambient: number }
  /** flags: SECCOMP_FILTER_FLAG_*; with NEW_LISTENER, the notification fd goes to mycfs at `point`. */
  | { kind: "seccomp"; bpf: Uint8Array; flags: number; point?: SyncPoint }
  /** groups: the supplementary gids; null leaves them (setgroups is denied there). */
  | { kind: "setid"; gid: number; uid: number; groups: number[] | null }
  | { kind: "attach"; path: string }
  | { kind: "write"; path: string; text: string }
  | { kind: "setns"; fd: number; flags: number }
  | { kind: "pty"; point: SyncPoint; uid: number; gid: number }
  /** Goes on in a clone (mycfs's child) in the PID namespace of pidfd (-1: the one set for
   * children); mycfs's own child hands mycfs a pidfd of it at sync point `point`. */
  | { kind: "enter"; pidfd: number; cgroupFd: number; point?: SyncPoint }
  /** OCI create: tell mycfs (Sync.CREATED), then wait for `start` on the exec fifo's fd. */
  | { kind: "await"; fd: number; keepFds: number }
  | { kind: "umask"; mask: number }
  | { kind: "personality"; persona: number }
  /** (class << 13) | priority, as ioprio_set takes it. */
  | { kind: "ioprio"; value: number }
  /** A struct sched_attr's 48 bytes. */
  | { kind: "sched"; attr: Uint8Array }
  /** mount_setattr(2) on the mount at target (below the root) and every mount below it. */
  | { kind: "setattr"; target: string; set: number; clear: number }
  /** The detached mount tree fd (inherited from mycfs) attached at target, below the root,
   * made as a directory, or a file with `file`. */
  | { kind: "attachTree"; fd: number; target: string; file?: boolean }
);

/** The step of a kind, for code that looks for one. */
export type StepOf<K extends Step["kind"]> = Extract<Step, { kind: K }>;
export const isStep = <K extends Step["kind"]>(s: Step, kind: K): s is StepOf<K> => s.kind === kind;

export const mount = (m: MountSpec): Step => ({ kind: "mount", ...m });
export const sync = (point: SyncPoint, what: string): Step => ({ kind: "sync", point, what });
export const root = (path: string): Step => ({ kind: "root", path, what: `open ${path} as the container's root for the steps that follow` });
export const rootTree = (tree: number | "passed", path: string, what: string): Step => ({
  kind: "root",
  path,
  tree,
  what: `${what}; it is the container's root for the steps that follow, held by its fd`,
});
export const mkdir = (path: string): Step => ({ kind: "mkdir", path, what: `create directory ${path}` });
export const mknod = (path: string, mode: number, major: number, minor: number): Step => ({
  kind: "mknod",
  path,
  mode,
  major,
  minor,
  what: `create device ${path} (${major}:${minor})`,
});
export const symlink = (target: string, path: string): Step => ({ kind: "symlink", target, path, what: `link ${path} -> ${target}` });
export const pivotRoot = (path: string): Step => ({ kind: "pivotRoot", path, what: `pivot_root into ${path} and detach the host's root` });
/** The host's root has no parent mount (an initramfs): pivot from a copy of its tree. */
export const liftRoot = (): Step => ({
  kind: "liftRoot",
  what: "copy the mount tree at / over itself and chroot into the copy: the host's root is an initramfs, which pivot_root cannot leave, and the copy has a mount below it",
});
export const chroot = (path: string): Step => ({ kind: "chroot", path, what: `move ${path} onto / and chroot into it (--no-pivot)` });
export const hostname = (name: string): Step => ({ kind: "hostname", name, what: `set hostname to ${name}` });
export const loopback = (): Step => ({ kind: "loopback", what: "bring up lo in the new network namespace" });
export const chdir = (path: string): Step => ({ kind: "chdir", path, what: `change directory to ${path}, resolved inside the container's root` });
export const stdio = (fds: [number, number, number]): Step => ({ kind: "stdio", fds, what: "connect stdin, stdout and stderr" });
export const exec = (e: ExecSpec): Step => ({ kind: "exec", ...e, what: `${e.init ? "start mycfs's init, which runs" : "execute"} ${e.argv[0]}` });
export const unshare = (flags: number, what: string): Step => ({ kind: "unshare", flags, what });
export const prctl = (option: number, arg: number, what: string): Step => ({ kind: "prctl", option, arg, what });
export const rlimit = (resource: number, soft: number, hard: number, name: string): Step => ({
  kind: "rlimit",
  resource,
  soft,
  hard,
  name,
  what: `set the ${name} limit to ${soft < 0 ? "unlimited" : soft}:${hard < 0 ? "unlimited" : hard}`,
});
/** Capabilities leave the bounding set while CAP_SETPCAP is still effective: before the ids change. */
export const bounding = (keep: number, count: number): Step => ({
  kind: "bounding",
  keep,
  what: `keep ${count} capabilities in the bounding set, drop the rest from it`,
});
export const caps = (permitted: number, inheritable: number, count: number, ambient = 0, ambientCount = 0): Step => ({
  kind: "caps",
  permitted,
  inheritable,
  ambient,
  what: count
    ? `keep ${count} capabilities permitted and effective, ${ambientCount ? `${ambientCount} ambient` : "none ambient"}`
    : "no capability permitted, effective or ambient",
});
export const seccomp = (bpf: Uint8Array, flags = 0): Step => {
  const names = Object.entries(SECCOMP_FILTER_FLAG).flatMap(([k, v]) => (flags & v ? [`SECCOMP_FILTER_FLAG_${k}`] : []));
  const listener = (flags & SECCOMP_FILTER_FLAG.NEW_LISTENER) !== 0;
  return {
    kind: "seccomp",
    bpf,
    flags,
    ...(listener ? { point: Sync.SECCOMP } : {}),
    what: `install the seccomp filter (${bpf.byteLength / 8} BPF instructions)${names.length ? ` with ${names.join(", ")}` : ""}${listener ? ", and hand its notification fd to mycfs for the seccomp listener" : ""}`,
  };
};
/** Become gid/uid: the root of a new user namespace once its maps are written, or the
 * container's user; `groups` as on the step, `whose` says whose ids these are. */
export const setid = (gid: number, uid: number, groups: number[] | null, whose: string): Step => ({
  kind: "setid",
  gid,
  uid,
  groups,
  what: `become uid ${uid}, gid ${gid}${groups === null ? "" : groups.length ? `, supplementary groups ${groups.join(", ")}` : ", no supplementary groups"} (${whose})`,
});
/** Attach the mount mycfs passed at the last sync point (an id-mapped image) at path. */
export const attach = (path: string, what: string): Step => ({ kind: "attach", path, what });
/** One write(2) of text to a file (a cgroup's `tasks`, say). */
export const write = (path: string, text: string, what: string): Step => ({ kind: "write", path, text, what });
/** Joins the namespaces in `flags` of the process behind pidfd (mycfs exec). */
export const setns = (fd: number, flags: number, what: string): Step => ({ kind: "setns", fd, flags, what });
/** The enter program's step into the container's PID namespace (pidfd): the walk goes on in
 * a clone made there, born in the cgroup v2 directory open as cgroupFd (-1: none). */
export const enter = (pidfd: number, cgroupFd: number, pid: number): Step => ({
  kind: "enter",
  pidfd,
  cgroupFd,
  what: `clone into the PID namespace of ${pid}${cgroupFd >= 0 ? " and the container's cgroup v2 directory" : ""}, as mycfs's own child`,
});
/** mycfs's own child goes on in a clone, a process of its own, in the PID namespace joined
 * or made for children before (runc's second fork); mycfs learns it at Sync.FORKED. */
export const fork = (what: string): Step => ({ kind: "enter", pidfd: -1, cgroupFd: -1, point: Sync.FORKED, what });
/** A terminal from the devpts on /dev/pts: its slave becomes fds 0-2, its master goes to mycfs. */
export const pty = (uid: number, gid: number): Step => ({
  kind: "pty",
  point: Sync.TERMINAL,
  uid,
  gid,
  what: `open a terminal on the container's own /dev/pts, owned by ${uid}:${gid}, and hand its master to mycfs`,
});
/** OCI create's pause: the container is created; it goes on once `start` writes to the exec fifo (fd). */
export const awaitStart = (fd: number, keepFds: number): Step => ({
  kind: "await",
  fd,
  keepFds,
  what: "tell mycfs the container is created, then wait for `start` to write to the exec fifo",
});
export const umask = (mask: number): Step => ({ kind: "umask", mask, what: `set the umask to ${mask.toString(8).padStart(4, "0")}` });
export const personality = (persona: number, name: string): Step => ({ kind: "personality", persona, what: `set the execution domain to ${name}` });
export const ioprio = (cls: number, priority: number, name: string): Step => ({
  kind: "ioprio",
  value: cls * 8192 + priority,
  what: `set the I/O priority to ${name}, level ${priority}`,
});
export const sched = (attr: Uint8Array, policy: string): Step => ({ kind: "sched", attr, what: `set the scheduling policy to ${policy}` });
/** set and clear: MOUNT_ATTR bits; `names`: the options that asked, for the words. */
export const setattr = (target: string, set: number, clear: number, names: string[]): Step => ({
  kind: "setattr",
  target,
  set,
  clear,
  what: `make ${target} and every mount below it ${names.join(",")}`,
});
export const attachTree = (fd: number, target: string, file: boolean, what: string): Step => ({
  kind: "attachTree",
  fd,
  target,
  ...(file ? { file } : {}),
  what,
});
