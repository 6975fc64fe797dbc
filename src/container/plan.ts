// Options in, plan out: the whole container setup as data, in the order it must happen
// (contained.c's order): namespaces, mounts while the host's paths are still reachable,
// the switch of root, then limits, privileges, the seccomp filter, and exec. mycfs makes
// the container's record, cgroup and layers while the child makes its namespaces and
// first mounts; the child waits for them only at the step that needs them.
import type { CgroupBind } from "../cgroups/cgroup";
import { Sync } from "../native/protocol";
import * as op from "../plan/ops";
import { capMask } from "./caps";
import type { Device } from "./devices";
import { cgroupMounts, maskedPaths, systemMounts, tmpfsMounts, volumeMounts } from "./mounts";
import { CLONE, CLONED, containerNamespaces } from "./namespaces";
import { DEFAULT_PATH, type Tmpfs, type Volume } from "./options";
import type { Rlimit } from "./rlimits";
import type { Userns } from "./userns";

export interface Security {
  /** Capability names the container keeps. */
  caps: Set<string>;
  noNewPrivs: boolean;
  /** The compiled filter, or null for unconfined. */
  seccomp: Uint8Array | null;
  /** Docker's masked and read-only paths (off with --privileged). */
  maskPaths: boolean;
}

export interface ContainerConfig {
  /** `ops` mount the root and end with the step that makes it the root (op.root). */
  rootfs: { path: string; ops: op.Step[]; idmap?: (userns: string) => number };
  argv: string[];
  env: string[];
  hostname: string;
  workdir: string;
  volumes: Volume[];
  tmpfs: Tmpfs[];
  pivot: boolean;
  /** The host's root is a mount without a parent (an initramfs), which pivot_root refuses. */
  rootWithoutParent: boolean;
  init: boolean;
  rlimits: Rlimit[];
  security: Security;
  /** Host device nodes given to the container (--device), beside the default ones. */
  devices: Device[];
  /** Steps that put the child in its cgroups; what is bound on /sys/fs/cgroup inside;
   * v2Only: one unified tree, no tmpfs around it; writable: left writable (--privileged). */
  cgroups: { join: op.Step[]; binds: CgroupBind[]; v2Only: boolean; writable?: boolean };
  /** A cgroup namespace of its own, entered once the child is in its cgroup. */
  cgroupns: boolean;
  /** A user namespace with these maps (written by the parent at the first sync point). */
  userns?: Userns;
  /** Remount the root read-only once everything is mounted on it (--read-only). */
  readOnly: boolean;
  /** What mycfs makes after the clone, for the child to wait for (Sync.PREPARED): the
   * root's layers (and the cgroup), or only the cgroup; nothing (a second attempt). */
  prepared?: "rootfs" | "cgroup";
}

export interface Stdio {
  /** Host fds that become the container's 0, 1, 2 (-1: inherit mycfs's own). */
  fds: [number, number, number];
  /** The container opens a terminal of its own (OP_PTY) for 0-2 and its controlling terminal. */
  ctty: boolean;
}

export function privileges(s: Security): op.Step[] {
  const mask = capMask(s.caps);
  const caps = op.caps(mask, mask, 0, s.caps.size);
  const filter = s.seccomp ? [op.seccomp(s.seccomp)] : [];
  // With no_new_privs the filter can be installed without CAP_SYS_ADMIN, so it goes
  // last; without it, installing needs CAP_SYS_ADMIN, so before the capabilities go.
  return s.noNewPrivs
    ? [op.prctl(op.PR.SET_NO_NEW_PRIVS, 1, "set no_new_privs: no exec can gain privileges (setuid, file caps)"), caps, ...filter]
    : [...filter, caps];
}

export function buildPlan(c: ContainerConfig, io: Stdio): op.Step[] {
  const root = c.rootfs.path;
  const userTargets = new Set([...c.volumes.map((v) => v.container), ...c.tmpfs.map((t) => t.path)]);
  const pathVar = c.env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  // Into its cgroup the child moves itself once mycfs has made it (after Sync.PREPARED);
  // as late as it can, so that mycfs makes it meanwhile; in a user namespace before it
  // becomes the namespace's root, as only mycfs's own ids may write the host's cgroup files.
  const joinLate = c.prepared === "cgroup" && !c.userns;
  const join = [
    ...(c.prepared
      ? [op.sync(Sync.PREPARED, `wait for mycfs to make the container's ${c.prepared === "rootfs" ? "layers, " : ""}cgroup and record, made meanwhile`)]
      : []),
    // (the child's namespaces and mounts made before are charged to mycfs's cgroup: kilobytes)
    ...c.cgroups.join,
    ...(c.cgroupns ? [op.unshare(CLONE.NEWCGROUP, "enter a new cgroup namespace, rooted at the container's cgroup")] : []),
  ];
  return [
    // Without a user namespace mycfs has nothing to do before the child's first steps, so
    // no round trip; with one, the maps come first: without them nothing else can be made.
    ...(c.userns ? [op.sync(Sync.NAMESPACES, "wait for mycfs to write the uid and gid maps of the new user namespace")] : []),
    // After the sync point, not before: mycfs without root writes the maps through
    // /proc/PID, whose files a non-dumpable process gives to root (runc does the same).
    // Nothing of the container's exists yet that could reach the child before then.
    op.prctl(op.PR.SET_DUMPABLE, 0, "make the child non-dumpable until exec, so the container cannot open mycfs through /proc (CVE-2019-5736)"),
    op.unshare(containerNamespaces(false) & ~CLONED, "enter new mount, UTS, IPC and network namespaces"),
    op.hostname(c.hostname),
    op.loopback(),
    ...(joinLate ? [] : join),
    op.mount({ target: "/", flags: op.MS.REC | op.MS.PRIVATE, what: "make every mount private to the new mount namespace (the host's are untouched)" }),
    ...(c.userns ? [op.setid(0, 0, c.userns.rootless !== "own-id")] : []), // own-id: setgroups is denied
    ...(c.pivot && c.rootWithoutParent ? [op.liftRoot()] : []),
    ...c.rootfs.ops,
    ...systemMounts(userTargets, c.userns, c.devices),
    ...(c.security.maskPaths ? maskedPaths() : []),
    ...(joinLate ? join : []),
    ...cgroupMounts(c.cgroups.binds, c.cgroups.v2Only, c.cgroups.writable === true),
    ...volumeMounts(c.volumes),
    ...tmpfsMounts(c.tmpfs),
    ...(c.workdir === "/" ? [] : [op.mkdir(c.workdir)]),
    ...(c.readOnly
      ? [
          op.mount({
            target: "/",
            inRoot: "existing",
            flags: op.MS.BIND | op.MS.REMOUNT | op.MS.RDONLY,
            what: "make the root file system read-only (--read-only; /tmp and the mounts on it stay as they are)",
          }),
        ]
      : []),
    c.pivot ? op.pivotRoot(root) : op.chroot(root),
    op.chdir(c.workdir),
    op.stdio(io.fds),
    ...(io.ctty ? [op.pty()] : []),
    ...c.rlimits.map((l) => op.rlimit(l.resource, l.soft, l.hard, l.name)),
    ...privileges(c.security),
    op.exec({ argv: c.argv, env: c.env, path: pathVar, init: c.init, ctty: io.ctty }),
  ];
}
