// How the image's files come to be owned by the container's root in a user namespace:
// an id-mapped mount where the kernel and the file system support one, else a copy of the
// image chowned onto the range, made once per range and kept next to the image. And
// config.json's id-mapped binds, made through a user namespace with their maps.
import { dirname, join } from "../paths";
import { log } from "../log";
import { cloneTree, close, fileType, fsType, pidfdOpen, pidfdWait, readFile, reap, setDumpable, spawn } from "../native/lib";
import { E } from "../errno";
import { MycfsError, SysError } from "../errors";
import { Sync } from "../native/protocol";
import { encodePlan } from "../plan/encode";
import { sync } from "../plan/ops";
import type { Mount } from "../spec/spec";
import { CLONE } from "./namespaces";
import { idRanges, writeMaps } from "./userns";
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

/** A tree mycfs clones on the host is attached with its mounts unlocked: in a container
 * with a user namespace, whose root may unmount what the kernel locked in a plain rbind,
 * a mount below the source would uncover the files it hides there. */
function refuseSubmounts(m: Mount) {
  const source = (require("node:fs") as typeof import("node:fs")).realpathSync(m.source); // loaded only here: it costs milliseconds
  const below = (readFile("/proc/self/mountinfo") ?? "")
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .find((mp) => mp.startsWith(source === "/" ? "/" : `${source}/`) && mp !== source);
  if (below)
    throw new MycfsError(
      `the id-mapped bind on ${m.destination}: ${m.source} has a mount below it (${below}), which the container's root could unmount (mycfs makes the id-mapped tree outside its user namespace, unlocked); bind it without rbind, or without idmap`,
    );
}

/** Detached trees of the spec's id-mapped binds (config.json's idmap, ridmap, or a
 * mount's own mappings), made by mycfs on the host (only it may map a host mount), for
 * the child to attach (HostFacts.mountTrees). Each fd is the caller's to close once the
 * child holds it. `userns`: the container has one. */
export function idmappedTrees(mounts: readonly Mount[], userns: boolean): Map<Mount, number> {
  const trees = new Map<Mount, number>();
  // grouped by hand: Map.groupBy costs a millisecond at its first call, on every create
  const byMaps = new Map<string, Mount[]>();
  for (const m of mounts) {
    if (!m.idmap) continue;
    const key = JSON.stringify([m.idmap.uidMappings, m.idmap.gidMappings]);
    const group = byMaps.get(key);
    if (group) group.push(m);
    else byMaps.set(key, [m]);
  }
  try {
    for (const group of byMaps.values())
      withMapsNamespace(group[0]!.idmap!, group[0]!.destination, (ns) => {
        for (const m of group) trees.set(m, idmappedTree(m, ns, userns));
      });
    return trees;
  } catch (e) {
    for (const fd of trees.values()) close(fd);
    throw e;
  }
}

/** f with the path of a user namespace that has these maps: a helper's, cloned into a new
 * one, held at its first sync point while its maps are written and f runs, then let go
 * (it exits at its socket's end) and reaped, before mycfs clones another child. A failure
 * to write the maps names the bind on `what`. */
function withMapsNamespace(maps: NonNullable<Mount["idmap"]>, what: string, f: (ns: string) => void) {
  setDumpable(true); // its /proc files are mycfs's to write (userns.ts's writeMaps)
  const helper = spawn(encodePlan([sync(Sync.NAMESPACES, "wait while mycfs maps a mount through this user namespace")]), CLONE.NEWUSER, -1);
  try {
    writeMaps(helper.pid, { uids: idRanges(maps.uidMappings), gids: idRanges(maps.gidMappings) });
    f(`/proc/${helper.pid}/ns/user`);
  } catch (e) {
    throw e instanceof SysError ? new MycfsError(`the id-mapped bind on ${what}: ${e.message}`) : e;
  } finally {
    close(helper.sock);
    const pidfd = pidfdOpen(helper.pid);
    if (pidfd !== null) {
      pidfdWait(pidfd, -1);
      close(pidfd);
    }
    reap(helper.pid);
  }
}

/** One bind's tree, mapped through the namespace at `ns`; an error names the bind. */
function idmappedTree(m: Mount, ns: string, userns: boolean): number {
  const recursive = m.options.includes("rbind");
  try {
    if (recursive && userns) refuseSubmounts(m);
    return cloneTree(m.source, m.source, { recursive, userns: ns, idmapTop: !m.idmap!.recursive });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    const fs = e.errno === E.EINVAL ? `: the file system of ${m.source}${m.idmap!.recursive ? " or of a mount below it" : ""} takes no id-mapped mount` : "";
    throw new MycfsError(`the id-mapped bind on ${m.destination}: ${e.message}${fs}`);
  }
}
