// Where the container's root file system comes from, and how it is made a mount point.
import { dirname, join, resolve } from "node:path";
import { MycfsError } from "../errors";
import { chmod, chown, fileMode, fileType, mkdir, removeTree, S_IFMT } from "../native/lib";
import { attach, mount, MS, type Op } from "../plan/ops";
import { idmapRefusal } from "./idmap";
import type { Store } from "../images/store";

export interface Rootfs {
  /** The host path that becomes the container's "/". */
  path: string;
  /** Steps that mount it, run inside the container's mount namespace. */
  ops: Op[];
  /** Removes what was created on the host for this container. */
  cleanup(): void;
  /** In a user namespace: the tree the parent id-maps and passes to the child at its
   * first sync point, where the `attach` step in `ops` puts it. */
  idmap?: string;
}

/** The host ids of the container's root, when it runs in a user namespace. */
export type Owner = { uid: number; gid: number };

/** An image shared read-only, under an overlay whose upper layer is the container's own.
 * The overlay is mounted inside the container's mount namespace, so it vanishes with it. */
/** In a user namespace the container's root, an unprivileged uid on the host, mounts the
 * root file system itself, so it must be able to traverse every directory above it. */
function checkReachable(path: string, what: string) {
  for (let p = dirname(path); p !== "/"; p = dirname(p))
    if (((fileMode(p) ?? 0) & 0o001) === 0)
      throw new MycfsError(`--userns: the container's root cannot reach ${what} ${path}, because ${p} is private; use a path others may traverse (chmod o+x ${p}), such as the default store /var/lib/mycfs`);
}

/** `owner`: in a user namespace, the host ids of its root; `shifted`: whether `image` is a
 * copy already owned by them (no id-mapped mount then). */
export function overlayRootfs(store: Store, image: string, id: string, owner?: Owner, shifted = false): Rootfs {
  const dir = store.container(id);
  if (owner) checkReachable(store.root, "the store");
  // the container's directory is private; the upper layer's mode becomes the mode of "/";
  // in a user namespace its root owns the layers (and so "/")
  // traversable, not listable: the root of a user namespace mounts the layers below
  const parent = join(dir, "..");
  if (fileType(parent) === null) mkdir(parent, 0o711);
  if (owner) for (const d of [store.root, parent]) chmod(d, 0o711);
  mkdir(dir, 0o700);
  const idmapped = owner !== undefined && !shifted;
  const sub = ["upper", "work", "rootfs", ...(idmapped ? ["lower"] : [])];
  for (const d of sub) mkdir(join(dir, d), 0o755);
  if (owner) for (const d of [dir, ...sub.map((s) => join(dir, s))]) chown(d, owner.uid, owner.gid);
  const path = join(dir, "rootfs");
  const lower = idmapped ? join(dir, "lower") : image;
  return {
    path,
    ops: [
      ...(idmapped ? [attach(lower, "attach the image, id-mapped so that its root is the container's root")] : []),
      mount({ source: "overlay", target: path, fstype: "overlay",
        // in a user namespace overlayfs keeps its metadata in user.* xattrs
        data: `lowerdir=${lower},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}${owner ? ",userxattr" : ""}`,
        what: "mount the image read-only under a copy-on-write overlay" }),
    ],
    cleanup: () => removeTree(dir),
    idmap: idmapped ? image : undefined,
  };
}

/** --rootfs DIR: used in place, like runc's bundle rootfs. */
export function directoryRootfs(dir: string, owner?: Owner): Rootfs {
  const path = resolve(dir);
  if (fileType(path) !== S_IFMT.DIR) throw new MycfsError(`--rootfs ${dir}: no such directory; give the path of an unpacked root file system`);
  if (owner) {
    checkReachable(path, "--rootfs");
    const refusal = idmapRefusal(path);
    if (refusal) throw new MycfsError(`--rootfs with a user namespace needs an id-mapped mount, and ${refusal}; run the image from the store instead`);
  }
  return {
    path,
    ops: [owner
      ? attach(path, `attach ${path} onto itself, id-mapped so that its root is the container's root`)
      : mount({ source: path, target: path, flags: MS.BIND | MS.REC,
        what: `bind ${path} onto itself, so that it is a mount point pivot_root accepts` })],
    cleanup: () => {},
    idmap: owner ? path : undefined,
  };
}
