// Where the container's root file system comes from, and how it is made a mount point.
import { join, resolve } from "node:path";
import { MycfsError } from "../errors";
import { close, copyTree, fileType, mkdir, removeTree, S_IFMT } from "../native/lib";
import { mount, MS, type Op } from "../plan/ops";
import type { ContainerRecord, ImageRecord, Store } from "../images/store";

export interface Rootfs {
  /** The host path that becomes the container's "/". */
  path: string;
  /** Steps that mount it, run inside the container's mount namespace. */
  ops: Op[];
  /** Removes what was created on the host for this container, unless it is kept and
   * its command ran (a container that never started is of no use to anyone). */
  cleanup(ran: boolean): void;
  /** A copy to run instead, where overlayfs cannot be mounted. */
  fallback?: () => Rootfs;
}

const bindSelf = (path: string): Op[] => [mount({ source: path, target: path, flags: MS.BIND | MS.REC,
  what: `bind ${path} onto itself, so that it is a mount point pivot_root accepts` })];

/** An image shared read-only, under an overlay whose upper layer is the container's own.
 * The overlay is mounted inside the container's mount namespace, so it vanishes with it.
 * The container's directory records the image it uses; `keep` leaves it, with the upper
 * layer, once the container ends (docker's default; --rm removes it). */
export async function imageRootfs(store: Store, image: ImageRecord, id: string, keep: boolean): Promise<Rootfs> {
  const lower = store.rootfs(image.digest);
  const dir = store.container(id);
  // Shared with other starts, exclusive against rmi and pull: no image goes away between
  // reading its record and this container recording its use.
  const lock = store.lock("store", false)!;
  try {
    if (fileType(lower) === null) throw new MycfsError(`image ${image.ref} was removed meanwhile; run the container again`);
    store.dir("containers");
    // the container's directory is private; the upper layer's mode becomes the mode of "/"
    mkdir(dir, 0o700);
    for (const d of ["upper", "work", "rootfs"]) mkdir(join(dir, d), 0o755);
    const record: ContainerRecord = { id, image: image.ref, digest: image.digest, created: new Date().toISOString(), rm: !keep };
    await Bun.write(join(dir, "container.json"), JSON.stringify(record));
  } finally {
    close(lock);
  }
  const cleanup = (ran: boolean) => {
    if (!(keep && ran)) removeTree(dir);
  };
  const upper = join(dir, "upper");
  return {
    path: join(dir, "rootfs"),
    ops: [mount({ source: "overlay", target: join(dir, "rootfs"), fstype: "overlay",
      data: `lowerdir=${lower},upperdir=${upper},workdir=${join(dir, "work")}`,
      what: "mount the image read-only under a copy-on-write overlay" })],
    cleanup,
    fallback: () => {
      copyTree(lower, upper);
      return { path: upper, ops: bindSelf(upper), cleanup };
    },
  };
}

/** --rootfs DIR: used in place, like runc's bundle rootfs. */
export function directoryRootfs(dir: string): Rootfs {
  const path = resolve(dir);
  if (fileType(path) !== S_IFMT.DIR) throw new MycfsError(`--rootfs ${dir}: no such directory; give the path of an unpacked root file system`);
  return { path, ops: bindSelf(path), cleanup: () => {} };
}
