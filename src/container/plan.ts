// Options in, plan out: the whole container setup as data, in the order it must happen.
// Mounts first (they need the host's paths), then the switch of root, then exec.
import { Sync } from "../native/protocol";
import * as op from "../plan/ops";
import { systemMounts, tmpfsMounts, volumeMounts } from "./mounts";
import { DEFAULT_PATH, type Tmpfs, type Volume } from "./options";

export interface ContainerConfig {
  rootfs: { path: string; ops: op.Op[] };
  argv: string[];
  env: string[];
  hostname: string;
  workdir: string;
  volumes: Volume[];
  tmpfs: Tmpfs[];
  pivot: boolean;
  init: boolean;
  /** Remount the root read-only once everything is mounted on it (--read-only). */
  readOnly: boolean;
}

export interface Stdio {
  /** Host fds that become the container's 0, 1, 2 (-1: inherit mycfs's own). */
  fds: [number, number, number];
  /** fd 0 is a terminal of the container's own, to become its controlling terminal. */
  ctty: boolean;
}

export function buildPlan(c: ContainerConfig, io: Stdio): op.Op[] {
  const root = c.rootfs.path;
  const userTargets = new Set([...c.volumes.map((v) => v.container), ...c.tmpfs.map((t) => t.path)]);
  const pathVar = c.env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  return [
    op.sync(Sync.NAMESPACES, "wait for mycfs: the child is in its new namespaces"),
    op.mount({ target: "/", flags: op.MS.REC | op.MS.PRIVATE,
      what: "make every mount private to the new mount namespace (the host's are untouched)" }),
    ...c.rootfs.ops,
    op.root(root),
    ...systemMounts(userTargets),
    ...volumeMounts(c.volumes),
    ...tmpfsMounts(c.tmpfs),
    op.hostname(c.hostname),
    op.loopback(),
    ...(c.workdir === "/" ? [] : [op.mkdir(c.workdir)]),
    ...(c.readOnly ? [op.mount({ target: root, flags: op.MS.BIND | op.MS.REMOUNT | op.MS.RDONLY,
      what: "make the root file system read-only (--read-only; /tmp and the mounts on it stay as they are)" })] : []),
    c.pivot ? op.pivotRoot(root) : op.chroot(root),
    op.chdir(c.workdir),
    op.stdio(io.fds),
    op.exec({ argv: c.argv, env: c.env, path: pathVar, init: c.init, ctty: io.ctty }),
  ];
}
