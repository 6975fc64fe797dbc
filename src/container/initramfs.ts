// A host whose root is an initramfs (a minimal VM): that root is the mount namespace's
// first mount, which has no parent mount, and pivot_root refuses to leave a root without
// one (EINVAL). The plan then pivots from a copy of the tree (op.liftRoot).
import { fsType, readFile } from "../native/lib";

const TMPFS_MAGIC = 0x01021994,
  RAMFS_MAGIC = 0x858458f6;

/** Whether the mount on / (the last one there, if several are stacked) is its own parent
 * in /proc/self/mountinfo, as only a namespace's first mount is. */
export function rootWithoutParent(mountinfo: string): boolean {
  let last: string[] | undefined;
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ", 5);
    if (f[4] === "/") last = f;
  }
  return last !== undefined && last[0] === last[1];
}

/** An initramfs is tmpfs or ramfs: only then is the mount table read (no cost elsewhere). */
export function hostRootWithoutParent(): boolean {
  const type = fsType("/");
  return (type === TMPFS_MAGIC || type === RAMFS_MAGIC) && rootWithoutParent(readFile("/proc/self/mountinfo") ?? "");
}
