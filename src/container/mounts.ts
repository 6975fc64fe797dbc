// The container's file system view, as plan steps: the kernel file systems every
// container has (as docker and runc set them up) and the user's volumes.
import type { CgroupBind } from "../cgroups/cgroup";
import { mount, MS, symlink, type Step } from "../plan/ops";
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
    ...deviceNodes(devices, gidMappings !== undefined),
    mount({
      source: "devpts",
      target: "/dev/pts",
      fstype: "devpts",
      flags: MS.NOSUID | MS.NOEXEC,
      data: `newinstance,ptmxmode=0666,mode=0620${ttyGroup ? ",gid=5" : ""}`,
      inRoot: "dir",
      what: "mount a private devpts instance on /dev/pts",
    }),
    symlink("pts/ptmx", "/dev/ptmx"),
    mount({ source: "shm", target: "/dev/shm", fstype: "tmpfs", flags: nosuid, data: "mode=1777,size=65536k", inRoot: "dir", what: "mount /dev/shm" }),
    mount({
      source: "mqueue",
      target: "/dev/mqueue",
      fstype: "mqueue",
      flags: nosuid,
      inRoot: "dir",
      what: "mount the IPC namespace's POSIX message queues on /dev/mqueue",
    }),
    symlink("/proc/self/fd", "/dev/fd"),
    symlink("/proc/self/fd/0", "/dev/stdin"),
    symlink("/proc/self/fd/1", "/dev/stdout"),
    symlink("/proc/self/fd/2", "/dev/stderr"),
    mount({ source: "sysfs", target: "/sys", fstype: "sysfs", flags: nosuid | MS.RDONLY, inRoot: "dir", what: "mount /sys read-only" }),
  ];
  if (!userTargets.has("/tmp"))
    ops.push(
      mount({ source: "tmpfs", target: "/tmp", fstype: "tmpfs", flags: MS.NOSUID | MS.NODEV, data: "mode=1777", inRoot: "dir", what: "mount a tmpfs on /tmp" }),
    );
  return ops;
}

/** The mount options mycfs takes as flags; the others are the file system's own. */
const FLAGS = new Map([
  ["ro", MS.RDONLY],
  ["nosuid", MS.NOSUID],
  ["nodev", MS.NODEV],
  ["noexec", MS.NOEXEC],
]);

/** The spec's mounts: a bind, then its read-only remount; a tmpfs with its flags and data. */
export function userMounts(list: Mount[]): Step[] {
  return list.flatMap((m) => {
    const ro = m.options.includes("ro");
    if (m.type === "tmpfs") {
      const flags = m.options.reduce((f, o) => f | (FLAGS.get(o) ?? 0), 0);
      const data = m.options.filter((o) => !FLAGS.has(o)).join(",");
      return [mount({ source: "tmpfs", target: m.destination, fstype: "tmpfs", flags, data, inRoot: "dir", what: `mount a tmpfs on ${m.destination}` })];
    }
    const flags = MS.BIND | (m.options.includes("rbind") ? MS.REC : 0);
    return [
      mount({
        source: m.source,
        target: m.destination,
        flags,
        inRoot: m.file ? "file" : "dir",
        optional: m.optional,
        what: `bind ${m.source} on ${m.destination}`,
      }),
      ...(ro ? [mount({ target: m.destination, flags: MS.BIND | MS.REMOUNT | MS.RDONLY, inRoot: "existing", what: `make ${m.destination} read-only` })] : []),
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
    what: `mask ${target} with the container's /dev/null`,
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
