// Where the container's root file system comes from, and how it is made a mount point.
import { join, resolve } from "node:path";
import { MycfsError } from "../errors";
import { fileType, mkdir, removeTree, S_IFMT } from "../native/lib";
import { mount, MS, type Op } from "../plan/ops";
import type { Store } from "../images/store";

export interface Rootfs {
  /** The host path that becomes the container's "/". */
  path: string;
  /** Steps that mount it, run inside the container's mount namespace. */
  ops: Op[];
  /** Removes what was created on the host for this container. */
  cleanup(): void;
}

/** An image shared read-only, under an overlay whose upper layer is the container's own.
 * The overlay is mounted inside the container's mount namespace, so it vanishes with it. */
export function overlayRootfs(store: Store, lower: string, id: string): Rootfs {
  const dir = store.container(id);
  // the container's directory is private; the upper layer's mode becomes the mode of "/"
  const parent = join(dir, "..");
  if (fileType(parent) === null) mkdir(parent, 0o700);
  mkdir(dir, 0o700);
  for (const d of ["upper", "work", "rootfs"]) mkdir(join(dir, d), 0o755);
  const path = join(dir, "rootfs");
  return {
    path,
    ops: [mount({ source: "overlay", target: path, fstype: "overlay",
      data: `lowerdir=${lower},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`,
      what: "mount the image read-only under a copy-on-write overlay" })],
    cleanup: () => removeTree(dir),
  };
}

/** --rootfs DIR: used in place, like runc's bundle rootfs. */
export function directoryRootfs(dir: string): Rootfs {
  const path = resolve(dir);
  if (fileType(path) !== S_IFMT.DIR) throw new MycfsError(`--rootfs ${dir}: no such directory; give the path of an unpacked root file system`);
  return {
    path,
    ops: [mount({ source: path, target: path, flags: MS.BIND | MS.REC,
      what: `bind ${path} onto itself, so that it is a mount point pivot_root accepts` })],
    cleanup: () => {},
  };
}
