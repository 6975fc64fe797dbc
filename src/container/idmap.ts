// How the image's files come to be owned by the container's root in a user namespace:
// an id-mapped mount where the kernel and the file system support one, else a copy of the
// image chowned onto the range, made once per range and kept next to the image.
import { dirname, join } from "../paths";
import { log } from "../log";
import { fileType, fsType } from "../native/lib";
import { kernelAtLeast, kernelVersion } from "./kernel";
import type { Store } from "../images/store";
import type { Owner } from "./rootfs";

// file systems that take id-mapped mounts (FS_ALLOW_IDMAP), and from which Linux: ext2/3/4
// and xfs (5.12) and btrfs (5.15) before overlayfs's 5.19 below; tmpfs only from 6.3 (a
// minimal VM's initramfs on 6.1 refused one with EINVAL)
const IDMAP_FS = new Map<number, [number, number]>([
  [0xef53, [5, 12]],
  [0x58465342, [5, 12]],
  [0x9123683e, [5, 15]],
  [0x01021994, [6, 3]],
]);

/** Why an id-mapped mount of `path` cannot be had here, or null if it can. */
export function idmapRefusal(path: string): string | null {
  if (process.env.MYCFS_IDMAP === "0") return "MYCFS_IDMAP=0";
  // overlayfs takes an id-mapped lower layer since Linux 5.19
  if (!kernelAtLeast(5, 19)) return `Linux ${kernelVersion().join(".")} has no id-mapped overlay layers (5.19+)`;
  const type = fsType(path);
  const since = type === null ? undefined : IDMAP_FS.get(type);
  if (!since || !kernelAtLeast(...since))
    return `the file system of ${path} (0x${(type ?? 0).toString(16)}) has no id-mapped mounts on Linux ${kernelVersion().join(".")}`;
  return null;
}

/** Where the copy of an image's root for a range lives: next to it, so that removing the
 * image (catalog.ts) finds it. */
export const shiftedDir = (image: string, owner: Owner) => `${image}.shifted-${owner.uid}-${owner.gid}`;

/** The image's files chowned by the range's offset, made on first use. */
export async function shiftedCopy(store: Store, image: string, owner: Owner, why: string): Promise<string> {
  const dir = shiftedDir(image, owner);
  if (fileType(join(dir, "rootfs")) !== null) return join(dir, "rootfs");
  log.info(`copying layer ${image.slice(-64, -52)} with its owners shifted to ${owner.uid}:${owner.gid}, once (no id-mapped mount: ${why})`);
  const { chmodSync, lchownSync, lstatSync, mkdtempSync, readdirSync, renameSync, rmSync } = await import("node:fs");
  const stage = mkdtempSync(join(store.tmp(), "shift-"));
  try {
    const cp = Bun.spawnSync(["cp", "-a", "--reflink=auto", image, join(stage, "rootfs")], { stderr: "pipe" });
    if (cp.exitCode !== 0) throw new Error(`cp: ${cp.stderr.toString().trim()}`);
    const shift = (p: string) => {
      const st = lstatSync(p);
      lchownSync(p, st.uid + owner.uid, st.gid + owner.gid);
      // chown clears setuid and setgid bits: put them back (symlinks have no mode)
      if (!st.isSymbolicLink()) chmodSync(p, st.mode & 0o7777);
      if (st.isDirectory()) for (const e of readdirSync(p)) shift(join(p, e));
    };
    shift(join(stage, "rootfs"));
    // the namespace's root mounts it as its lower layer: the way there must be open to it
    for (const d of [stage, dirname(dir)]) chmodSync(d, 0o711);
    renameSync(stage, dir);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return join(dir, "rootfs");
}
