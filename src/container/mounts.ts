// The container's file system view, as plan steps: the kernel file systems every
// container has (as docker and runc set them up) and the user's volumes.
import type { CgroupBind } from "../cgroups/cgroup";
import { attachTree, mount, MOUNT_ATTR, MS, setattr, symlink, type Step } from "../plan/ops";
import { type Device, deviceNodes } from "./devices";
import type { IdMapping, Mount } from "../spec/spec";

/** Mounts a container always has, minus the paths the user mounts something else on;
 * its device nodes, with those of --device. */
export function systemMounts(userTargets: Set<string>, gidMappings: IdMapping[] | undefined, devices: readonly Device[]): Step[] {
  const nosuid = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  // terminals belong to the tty group (5), as docker's; devpts refuses a gid the user
  // namespace does not map (rootless with only the caller's own id), so then root's
  const ttyGroup = !gidMappings || gidMappings.some((r) => r.containerID <= 5 && 5 < r.containerID + r.size);
  const ops: Step[] = [
    mount({
      source: "proc",
      target: "/proc",
      fstype: "proc",
      flags: nosuid,
      inRoot: "dir",
      what: "mount a fresh /proc that shows only the container's processes",
    }),
    mount({
      source: "tmpfs",
      target: "/dev",
      fstype: "tmpfs",
      flags: MS.NOSUID | MS.STRICTATIME,
      data: "mode=755,size=65536k",
      inRoot: "dir",
      what: "mount a small tmpfs on /dev",
    }),
    mount({
      source: "devpts",
      target: "/dev/pts",
      fstype: "devpts",
      flags: MS.NOSUID | MS.NOEXEC,
      data: `newinstance,ptmxmode=0666,mode=0620${ttyGroup ? ",gid=5" : ""}`,
      inRoot: "dir",
      what: "mount a private devpts instance on /dev/pts",
    }),
    mount({ source: "shm", target: "/dev/shm", fstype: "tmpfs", flags: nosuid, data: "mode=1777,size=65536k", inRoot: "dir", what: "mount /dev/shm" }),
    mount({
      source: "mqueue",
      target: "/dev/mqueue",
      fstype: "mqueue",
      flags: nosuid,
      inRoot: "dir",
      what: "mount the IPC namespace's POSIX message queues on /dev/mqueue",
    }),
    ...devNodes(devices, gidMappings !== undefined),
    mount({ source: "sysfs", target: "/sys", fstype: "sysfs", flags: nosuid | MS.RDONLY, inRoot: "dir", what: "mount /sys read-only" }),
  ];
  if (!userTargets.has("/tmp"))
    ops.push(
      mount({ source: "tmpfs", target: "/tmp", fstype: "tmpfs", flags: MS.NOSUID | MS.NODEV, data: "mode=1777", inRoot: "dir", what: "mount a tmpfs on /tmp" }),
    );
  return ops;
}

/** The device nodes (the defaults and the spec's) and /dev's links, once /dev and
 * /dev/pts are mounted. */
export function devNodes(devices: readonly Device[], userns: boolean): Step[] {
  // the links win over a node given at their place (podman --privileged gives /dev/ptmx), as runc's
  const links = new Set(["/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"]);
  return [
    ...deviceNodes(
      devices.filter((d) => !links.has(d.container)),
      userns,
    ),
    symlink("pts/ptmx", "/dev/ptmx"),
    symlink("/proc/self/fd", "/dev/fd"),
    symlink("/proc/self/fd/0", "/dev/stdin"),
    symlink("/proc/self/fd/1", "/dev/stdout"),
    symlink("/proc/self/fd/2", "/dev/stderr"),
  ];
}

/** mount(8)'s option names that are flags: what each sets, or (with a "clear" entry) clears. */
export const MOUNT_FLAGS: ReadonlyMap<string, { set?: number; clear?: number }> = new Map([
  ["defaults", {}],
  ["ro", { set: MS.RDONLY }],
  ["rw", { clear: MS.RDONLY }],
  ["nosuid", { set: MS.NOSUID }],
  ["suid", { clear: MS.NOSUID }],
  ["nodev", { set: MS.NODEV }],
  ["dev", { clear: MS.NODEV }],
  ["noexec", { set: MS.NOEXEC }],
  ["exec", { clear: MS.NOEXEC }],
  ["sync", { set: MS.SYNCHRONOUS }],
  ["async", { clear: MS.SYNCHRONOUS }],
  ["dirsync", { set: MS.DIRSYNC }],
  ["mand", { set: MS.MANDLOCK }],
  ["nomand", { clear: MS.MANDLOCK }],
  ["atime", { clear: MS.NOATIME }],
  ["noatime", { set: MS.NOATIME }],
  ["diratime", { clear: MS.NODIRATIME }],
  ["nodiratime", { set: MS.NODIRATIME }],
  ["relatime", { set: MS.RELATIME }],
  ["norelatime", { clear: MS.RELATIME }],
  ["strictatime", { set: MS.STRICTATIME }],
  ["nostrictatime", { clear: MS.STRICTATIME }],
  ["nosymfollow", { set: MS.NOSYMFOLLOW }],
  ["symfollow", { clear: MS.NOSYMFOLLOW }],
  ["bind", { set: MS.BIND }],
  ["rbind", { set: MS.BIND | MS.REC }],
]);

const ATIME = (mode: number): { set?: number; clear?: number } => ({ set: mode, clear: MOUNT_ATTR._ATIME });
/** config.json's recursive options (runc's): mount_setattr(2)'s attributes for a mount and
 * every mount below it. The atime modes are one field: an option that clears one gives the
 * kernel's default, relatime (as mount(2) without an atime flag), but rnorelatime, which
 * asks for atime updates relatime would skip: strictatime. */
export const RECURSIVE_FLAGS: ReadonlyMap<string, { set?: number; clear?: number }> = new Map<string, { set?: number; clear?: number }>([
  ["rro", { set: MOUNT_ATTR.RDONLY }],
  ["rrw", { clear: MOUNT_ATTR.RDONLY }],
  ["rnosuid", { set: MOUNT_ATTR.NOSUID }],
  ["rsuid", { clear: MOUNT_ATTR.NOSUID }],
  ["rnodev", { set: MOUNT_ATTR.NODEV }],
  ["rdev", { clear: MOUNT_ATTR.NODEV }],
  ["rnoexec", { set: MOUNT_ATTR.NOEXEC }],
  ["rexec", { clear: MOUNT_ATTR.NOEXEC }],
  ["rnodiratime", { set: MOUNT_ATTR.NODIRATIME }],
  ["rdiratime", { clear: MOUNT_ATTR.NODIRATIME }],
  ["rrelatime", ATIME(MOUNT_ATTR.RELATIME)],
  ["rnorelatime", ATIME(MOUNT_ATTR.STRICTATIME)],
  ["rnoatime", ATIME(MOUNT_ATTR.NOATIME)],
  ["ratime", ATIME(MOUNT_ATTR.RELATIME)],
  ["rstrictatime", ATIME(MOUNT_ATTR.STRICTATIME)],
  ["rnostrictatime", ATIME(MOUNT_ATTR.RELATIME)],
  ["rnosymfollow", { set: MOUNT_ATTR.NOSYMFOLLOW }],
  ["rsymfollow", { clear: MOUNT_ATTR.NOSYMFOLLOW }],
]);

/** Propagation types, applied after the mount (a separate mount(2) call, as runc does). */
export const PROPAGATION: ReadonlyMap<string, number> = new Map([
  ["private", MS.PRIVATE],
  ["rprivate", MS.PRIVATE | MS.REC],
  ["shared", MS.SHARED],
  ["rshared", MS.SHARED | MS.REC],
  ["slave", MS.SLAVE],
  ["rslave", MS.SLAVE | MS.REC],
  ["unbindable", MS.UNBINDABLE],
  ["runbindable", MS.UNBINDABLE | MS.REC],
]);

/** A mount's options as mount(2) takes them: flags, propagation, the file system's own
 * data; and the recursive ones as mount_setattr(2) takes them (the last option wins). */
export function mountOptions(options: readonly string[]): {
  flags: number;
  propagation: number[];
  data: string;
  recursive: { set: number; clear: number; names: string[] };
} {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  const recursive = { set: 0, clear: 0, names: [] as string[] };
  for (const o of options) {
    const f = MOUNT_FLAGS.get(o);
    const r = RECURSIVE_FLAGS.get(o);
    if (f) flags = (flags | (f.set ?? 0)) & ~(f.clear ?? 0);
    else if (r) {
      recursive.set = (recursive.set & ~(r.clear ?? 0)) | (r.set ?? 0);
      recursive.clear = (recursive.clear & ~(r.set ?? 0)) | (r.clear ?? 0);
      recursive.names.push(o);
    } else if (PROPAGATION.has(o)) propagation.push(PROPAGATION.get(o)!);
    else data.push(o);
  }
  return { flags, propagation, data: data.join(","), recursive };
}

const KERNEL_FS_WHAT: Record<string, string> = {
  proc: "a /proc that shows only the container's processes",
  sysfs: "sysfs",
  mqueue: "the IPC namespace's POSIX message queues",
  devpts: "a private devpts instance",
  tmpfs: "a tmpfs",
};

/** The spec's mounts, in order: a bind (an id-mapped one: the tree mycfs made for it in
 * `trees`, attached), then its remount with the flags a bind ignores (ro, nosuid…); a file
 * system of the kernel with its flags and data; then the recursive attributes (rro…) and
 * the propagation each asks for. */
export function userMounts(list: Mount[], trees: ReadonlyMap<Mount, number> = new Map()): Step[] {
  return list.flatMap((m) => {
    const { flags, propagation, data, recursive } = mountOptions(m.options);
    const target = m.destination;
    const propagate = [
      ...(recursive.names.length ? [setattr(target, recursive.set, recursive.clear, recursive.names)] : []),
      ...propagation.map((p) => mount({ target, flags: p, inRoot: "existing", what: `set the propagation of ${target}` })),
    ];
    if (m.type !== "bind") {
      // a devpts of its own in every container; a bind-only option is meaningless here
      const own = m.type === "devpts" && !data.split(",").includes("newinstance") ? (data ? `newinstance,${data}` : "newinstance") : data;
      return [
        mount({
          source: m.source || m.type,
          target,
          fstype: m.type,
          flags: flags & ~(MS.BIND | MS.REC),
          data: own,
          inRoot: "dir",
          what: `mount ${KERNEL_FS_WHAT[m.type] ?? m.type} on ${target}`,
        }),
        ...propagate,
      ];
    }
    const remount = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW);
    const names = m.options.filter((o) => ["ro", "nosuid", "nodev", "noexec", "nosymfollow"].includes(o));
    const tree = trees.get(m);
    if (m.idmap && tree === undefined) throw new Error(`the id-mapped mount of ${m.source} was not made`);
    return [
      tree === undefined
        ? mount({
            source: m.source,
            target,
            flags: MS.BIND | (m.options.includes("rbind") ? MS.REC : 0),
            inRoot: m.file ? "file" : "dir",
            optional: m.optional,
            what: `bind ${m.source} on ${target}`,
          })
        : attachTree(
            tree,
            target,
            m.file === true,
            `attach ${m.source} on ${target}, id-mapped${m.idmap?.recursive ? " with every mount below it" : ""} (made by mycfs)`,
          ),
      ...(remount
        ? [
            mount({
              target,
              flags: MS.BIND | MS.REMOUNT | remount,
              inRoot: "existing",
              what: names.length === 1 && names[0] === "ro" ? `make ${target} read-only` : `remount ${target} ${names.join(",") || "with its flags"}`,
            }),
          ]
        : []),
      ...propagate,
    ];
  });
}

const RO = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** The container's cgroups on /sys/fs/cgroup, read-only (writable: --privileged, as docker): its own cgroup directories
 * (or the host's trees with --cgroupns host) bound there. Binding, rather than mounting
 * a cgroup file system, works the same for v1, v2 and inside a user namespace, where v1
 * hierarchies cannot be mounted. */
export function cgroupMounts(binds: CgroupBind[], v2Only: boolean, writable: boolean): Step[] {
  const tree = v2Only
    ? []
    : [
        mount({
          source: "tmpfs",
          target: "/sys/fs/cgroup",
          fstype: "tmpfs",
          flags: MS.NOSUID | MS.NODEV | MS.NOEXEC,
          data: "mode=755",
          inRoot: "dir",
          what: "mount a tmpfs on /sys/fs/cgroup for the cgroup hierarchies",
        }),
      ];
  return [
    ...tree,
    ...binds.flatMap((b) => [
      mount({ source: b.source, target: b.target, flags: MS.BIND, inRoot: "dir", what: `bind ${b.source} on ${b.target}` }),
      ...(writable ? [] : [mount({ target: b.target, flags: MS.BIND | MS.REMOUNT | RO, inRoot: "existing", what: `make ${b.target} read-only` })]),
    ]),
    ...(v2Only || writable
      ? []
      : [mount({ target: "/sys/fs/cgroup", flags: MS.REMOUNT | RO, data: "mode=755", inRoot: "existing", what: "make /sys/fs/cgroup read-only" })]),
  ];
}

/** Masked paths and read-only /proc paths. A file is covered by the container's own
 * /dev/null, made by mycfs a few steps before and checked to be the 1:3 device, bound
 * read-only: the host's /dev/null bound there would be the host's inode, whose mode and
 * owner a container with CAP_CHOWN or CAP_FOWNER could change through the mask (runc
 * CVE-2025-31133). A directory is covered by an empty read-only tmpfs. */
export function maskedPaths(masked: string[], readonly: string[]): Step[] {
  return [
    ...masked.flatMap((path) => {
      const target = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
      return target === path ? maskFile(target) : [maskDir(target)];
    }),
    ...readonly.flatMap((target) => [
      mount({ target, flags: MS.BIND | MS.REC, inRoot: "existing", optional: true, bindSelf: true, what: `bind ${target} onto itself` }),
      mount({ target, flags: MS.BIND | MS.REMOUNT | RO, inRoot: "existing", optional: true, what: `make ${target} read-only` }),
    ]),
  ];
}

const maskFile = (target: string): Step[] => [
  mount({
    source: "/dev/null",
    sourceInRoot: { device: [1, 3] },
    target,
    flags: MS.BIND,
    inRoot: "existing",
    optional: true,
    // config.json's paths say not which are directories (/proc/acpi): the child looks
    mask: true,
    what: `mask ${target} with the container's /dev/null (an empty tmpfs if it is a directory)`,
  }),
  // (not nodev: through the mask, reading gives nothing, as docker's does, rather than EACCES)
  mount({
    target,
    flags: MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NOEXEC,
    inRoot: "existing",
    optional: true,
    what: `make the mask on ${target} read-only`,
  }),
];

const maskDir = (target: string): Step =>
  mount({
    source: "tmpfs",
    target,
    fstype: "tmpfs",
    flags: RO,
    data: "size=0",
    inRoot: "existing",
    optional: true,
    what: `mask ${target} with an empty read-only tmpfs`,
  });
