// Streams a (gzip) tar archive into a directory, keeping what a root file system needs:
// symlinks, hardlinks, modes with setuid bits, owners and mtimes.
import { chmodSync, linkSync, lchownSync, lutimesSync, mkdirSync, symlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { createTarDecoder } from "modern-tar";
import { MycfsError } from "../errors";
import { log } from "../log";

/** The entry's path relative to the root, or null for the root itself. Refuses any way out. */
export function entryPath(name: string): string | null {
  const norm = posix.normalize(name.replace(/^\.\//, ""));
  if (name.startsWith("/") || norm === ".." || norm.startsWith("../"))
    throw new MycfsError(`archive entry '${name}' points outside the image; refusing to unpack it`);
  const rel = norm.replace(/\/$/, "");
  return rel === "." || rel === "" ? null : rel;
}

export async function unpackTar(archive: ReadableStream<Uint8Array>, dest: string): Promise<number> {
  const dirs: { path: string; mode: number; mtime?: Date }[] = [];
  let count = 0;
  // Without root, the files are the caller's, which is root inside a rootless container;
  // other owners cannot be kept and are said so, not skipped silently.
  const rootless = process.getuid?.() !== 0;
  let remapped = 0;
  for await (const entry of archive.pipeThrough(createTarDecoder({ strict: true }))) {
    const h = entry.header;
    const rel = entryPath(h.name);
    const path = rel === null ? dest : join(dest, rel);
    const mode = h.mode ?? 0o644;
    if (h.type === "file" && rel !== null) {
      await Bun.write(path, new Response(entry.body));
    } else {
      await entry.body.cancel();
      if (h.type === "directory") {
        mkdirSync(path, { recursive: true });
        dirs.push({ path, mode, mtime: h.mtime });
      } else if (h.type === "symlink" && rel !== null) symlinkSync(h.linkname ?? "", path);
      else if (h.type === "link" && rel !== null) {
        const target = entryPath(h.linkname ?? "");
        if (target === null) throw new MycfsError(`archive entry '${h.name}' hardlinks to the image's root`);
        linkSync(join(dest, target), path);
      } else throw new MycfsError(`archive entry '${h.name}' has a type mycfs does not unpack (${h.type})`);
    }
    if (!rootless) lchownSync(path, h.uid ?? 0, h.gid ?? 0);
    else if (h.uid || h.gid) remapped++;
    if (h.type === "file") chmodSync(path, mode);
    if (h.type !== "directory" && h.mtime) lutimesSync(path, h.mtime, h.mtime);
    count++;
  }
  // Directories last, deepest first: writing into a directory changes its mtime, and a
  // read-only mode would stop the writes below it.
  if (remapped) log.warn(`${remapped} files of the image belong to users other than root; without root they are unpacked as yours`);
  for (const d of dirs.reverse()) {
    chmodSync(d.path, d.mode);
    if (d.mtime) lutimesSync(d.path, d.mtime, d.mtime);
  }
  return count;
}
