// Where the container's root file system comes from, and how it is made a mount point.
import { dirname, join, resolve } from "../paths";
import { MycfsError, SysError } from "../errors";
import {
  chmod,
  chown,
  cloneTree,
  close,
  copyTree,
  errnoMessage,
  fileMode,
  fileType,
  mkdir,
  openPathDir,
  removeTree,
  replaceFile,
  sameInode,
} from "../native/lib";
import { attach, mount, MS, root, rootTree, type Step } from "../plan/ops";
import type { ContainerRecord, ImageRecord, Store } from "../images/store";
import { idmapRefusal } from "./idmap";
import { kernelAtLeast } from "./kernel";
import { E } from "../errno";

export interface Rootfs {
  /** The host path that becomes the container's "/". */
  path: string;
  /** Steps that mount it, run inside the container's mount namespace. */
  ops: Step[];
  /** Makes what the steps need on the host (the container's layers), while the child
   * makes its namespaces. */
  prepare?(): void;
  /** Removes what was created on the host for this container, unless it is kept and
   * its command ran (a container that never started is of no use to anyone). */
  cleanup(ran: boolean): void;
  /** A copy to run instead, where overlayfs cannot be mounted. */
  fallback?: () => Rootfs;
  /** In a user namespace: makes the id-mapped tree (for the namespace at `userns`) that the
   * parent passes to the child at its first sync point, for a step in `ops` to take. */
  idmap?: (userns: string) => number;
}

const PAGE = 4096;

/** The host ids of the container's root, when it runs in a user namespace. */
export type Owner = { uid: number; gid: number };

const bindSelf = (path: string): Step[] => [
  mount({ source: path, target: path, flags: MS.BIND | MS.REC, what: `bind ${path} onto itself, so that it is a mount point pivot_root accepts` }),
  root(path),
];

/** In a user namespace the container's root, an unprivileged uid on the host, mounts the
 * root file system itself, so it must be able to traverse every directory above it. */
function checkReachable(path: string, what: string) {
  for (let p = dirname(path); p !== "/"; p = dirname(p))
    if (((fileMode(p) ?? 0) & 0o001) === 0)
      throw new MycfsError(
        `--userns: the container's root cannot reach ${what} ${path}, because ${p} is private; use a path others may traverse (chmod o+x ${p}), such as the default store /var/lib/mycfs`,
      );
}

/** An image shared read-only, under an overlay whose upper layer is the container's own.
 * The overlay is mounted inside the container's mount namespace, so it vanishes with it.
 * The container's directory records the image it uses; `keep` leaves it, with the upper
 * layer, once the container ends (docker's default; --rm removes it).
 * `owner`: in a user namespace, the host ids of its root, who then owns the layers (and
 * so "/"); the layers are id-mapped for it, or `shifted` are copies of them (top first)
 * already owned by it. */
export function imageRootfs(
  store: Store,
  image: ImageRecord,
  id: string,
  { keep, userns, owner, shifted }: { keep: boolean; userns: boolean; owner?: Owner; shifted?: string[] },
): Rootfs {
  const layers = store.layerDirs(image);
  const dir = store.container(id);
  if (owner) checkReachable(store.root, "the store");
  const idmapped = owner !== undefined && shifted === undefined;
  const sub = ["upper", "work", "rootfs", ...(idmapped ? ["lower"] : [])];
  const prepare = () => {
    // Shared with other starts, exclusive against rmi and pull: no image goes away between
    // reading its record and this container recording its use.
    const lock = store.lock("store", false)!;
    try {
      if (layers.some((l) => fileType(l) === null)) throw new MycfsError(`image ${image.ref} was removed meanwhile; run the container again`);
      const parent = store.dir("containers");
      // traversable, not listable: the root of a user namespace mounts the layers below
      if (owner) for (const d of [store.root, parent]) chmod(d, 0o711);
      // the container's directory is private; the upper layer's mode becomes the mode of "/"
      mkdir(dir, 0o700);
      try {
        for (const d of sub) mkdir(join(dir, d), 0o755);
        if (owner) for (const d of [dir, ...sub.map((s) => join(dir, s))]) chown(d, owner.uid, owner.gid);
        const record: ContainerRecord = { id, image: image.ref, digest: image.digest, layers: image.layers, created: new Date().toISOString() };
        replaceFile(join(dir, "container.json"), JSON.stringify(record), 0o644);
      } catch (e) {
        removeTree(dir); // half made (a full disk, say): nothing the container can use
        throw e;
      }
    } finally {
      close(lock);
    }
  };
  const cleanup = (ran: boolean) => {
    if (!(keep && ran)) removeTree(dir);
  };
  const upper = join(dir, "upper");
  // id-mapped: one clone of the whole layers/ directory, so that one mount passed to the
  // child serves every layer, seen below the container's "lower"
  const all = dirname(layers[0]!);
  const lowers = idmapped ? layers.map((l) => join(dir, "lower", l.slice(all.length + 1))) : (shifted ?? layers);
  // In a user namespace overlayfs keeps its metadata in user.* xattrs (and reads the
  // layers' opaque directories from them: see images/install.ts). A layer removed at the
  // end needs no sync, at unmount either (which then takes 0.1 ms instead of 1.6 here):
  // volatile, where the kernel has it (5.10).
  const data = `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${join(dir, "work")}${userns ? ",userxattr" : ""}${!keep && kernelAtLeast(5, 10) ? ",volatile" : ""}`;
  // mount(2) takes one page of options: about 45 layers in /var/lib/mycfs (25 id-mapped)
  if (data.length >= PAGE)
    throw new MycfsError(
      `image ${image.ref} has ${layers.length} layers, more than overlayfs's mount options hold with the store at ${store.root} (${data.length} bytes of ${PAGE}); flatten the image (export and import it), or use a store with a shorter path (--root)`,
    );
  return {
    path: join(dir, "rootfs"),
    ops: [
      ...(idmapped ? [attach(join(dir, "lower"), "attach the image's layers, id-mapped so that their root is the container's root")] : []),
      mount({
        source: "overlay",
        target: join(dir, "rootfs"),
        fstype: "overlay",
        data,
        what: "mount the image read-only under a copy-on-write overlay",
      }),
      // (the store is root's and private: no one else can swap a name in it)
      root(join(dir, "rootfs")),
    ],
    prepare,
    cleanup,
    idmap: idmapped ? (userns) => cloneTree(all, all, { userns }) : undefined,
    // (a copy owned by a user namespace's root is not made here: that is `shifted`; nor is
    // a copy of several layers, whose whiteouts only overlayfs applies)
    fallback:
      owner || layers.length > 1
        ? undefined
        : () => {
            copyTree(layers[0]!, upper);
            return { path: upper, ops: bindSelf(upper), cleanup };
          },
  };
}

/** --rootfs DIR, opened once: its last component not followed (an O_PATH fd), and never the
 * host's own root. */
export function openRootfsDir(dir: string): number {
  let fd: number;
  try {
    fd = openPathDir(resolve(dir));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    const why =
      e.errno === E.ENOENT
        ? "no such directory"
        : e.errno === E.ENOTDIR || e.errno === E.ELOOP
          ? "not a directory (a symlink is not followed)"
          : errnoMessage(e.errno);
    throw new MycfsError(`--rootfs ${dir}: ${why}; give the path of an unpacked root file system`, undefined, e);
  }
  if (sameInode(fd, "/")) {
    close(fd);
    throw new MycfsError(`--rootfs ${dir}: that is the host's own root; give the directory of an unpacked root file system`);
  }
  return fd;
}

/** --rootfs DIR: used in place, like runc's bundle rootfs. Whoever can write the directory
 * above it could swap it for a symlink (to /, say) between a check and a mount by name
 * (the CVE-2018-15664 class): so it is opened once, its last component not followed,
 * checked on that fd, and the container's root is a mount tree cloned from that fd. */
export function directoryRootfs(dir: string, owner?: Owner): Rootfs {
  const path = resolve(dir);
  const fd = openRootfsDir(dir);
  const close_ = () => close(fd);
  try {
    if (owner) {
      checkReachable(path, "--rootfs");
      const refusal = idmapRefusal(path);
      if (refusal) throw new MycfsError(`--rootfs with a user namespace needs an id-mapped mount, and ${refusal}; run the image from the store instead`);
      return {
        path,
        ops: [rootTree(-1, path, `attach ${path}, id-mapped so that its root is the container's root`)],
        idmap: (userns) => cloneTree(fd, path, { recursive: true, userns }),
        cleanup: close_,
      };
    }
    const tree = cloneTree(fd, path, { recursive: true });
    return {
      path,
      ops: [rootTree(tree, path, `attach the tree of ${path} (cloned from the directory mycfs opened and checked)`)],
      cleanup: () => {
        close(tree);
        close_();
      },
    };
  } catch (e) {
    close_();
    throw e;
  }
}
