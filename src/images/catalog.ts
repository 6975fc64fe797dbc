// What the store holds: image records and container records, read from disk, and the
// removal of root file systems that nothing uses any more. Not on the start path.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "../paths";
import { removeTree } from "../native/lib";
import type { ContainerRecord, ImageRecord, Store } from "./store";

function jsonFiles(dir: string, depth: number): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth > 0) return jsonFiles(path, depth - 1);
    return e.isFile() && e.name.endsWith(".json") ? [path] : [];
  });
}

export function listImages(store: Store): ImageRecord[] {
  return jsonFiles(join(store.root, "images"), 1)
    .map((f) => JSON.parse(readFileSync(f, "utf8")) as ImageRecord)
    .sort((a, b) => a.ref.localeCompare(b.ref));
}

/** Every container directory with its record: running ones, and those kept after they ended. */
export function listContainers(store: Store): ContainerRecord[] {
  const dir = join(store.root, "containers");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((id) => {
    const file = join(dir, id, "container.json");
    return existsSync(file) ? [JSON.parse(readFileSync(file, "utf8")) as ContainerRecord] : [];
  });
}

/** Removes the root file system `digest` if no image names it and no container uses it.
 * Call it holding the store's exclusive lock. */
export function collect(store: Store, digest: string) {
  if (listImages(store).some((i) => i.digest === digest)) return;
  if (listContainers(store).some((c) => c.digest === digest)) return;
  removeTree(store.rootfs(digest));
  // and the copies made for user namespaces without id-mapped mounts (container/idmap.ts)
  const rootfs = join(store.root, "rootfs");
  const name = digest.replace(/^sha256:/, "");
  for (const d of existsSync(rootfs) ? readdirSync(rootfs) : []) if (d.startsWith(`${name}.shifted-`)) removeTree(join(rootfs, d));
}
