// What the store holds: image records and container records, read from disk, and the
// removal of root file systems that nothing uses any more. Not on the start path.
import { join } from "../paths";
import { fileType, listDir, readFile, removeTree, S_IFMT } from "../native/lib";
import type { ContainerRecord, ImageRecord, Store } from "./store";

function jsonFiles(dir: string, depth: number): string[] {
  return (listDir(dir) ?? []).flatMap((name) => {
    const path = join(dir, name);
    const type = fileType(path);
    if (type === S_IFMT.DIR && depth > 0) return jsonFiles(path, depth - 1);
    return type === S_IFMT.REG && name.endsWith(".json") ? [path] : [];
  });
}

const readJson = <T>(path: string) => JSON.parse(readFile(path) ?? "null") as T;

export function listImages(store: Store): ImageRecord[] {
  return jsonFiles(join(store.root, "images"), 1)
    .map((f) => readJson<ImageRecord>(f))
    .sort((a, b) => a.ref.localeCompare(b.ref));
}

/** Every container directory with its record: running ones, and those kept after they ended. */
export function listContainers(store: Store): ContainerRecord[] {
  const dir = join(store.root, "containers");
  return (listDir(dir) ?? []).flatMap((id) => {
    const file = join(dir, id, "container.json");
    return fileType(file) !== null ? [readJson<ContainerRecord>(file)] : [];
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
  for (const d of listDir(rootfs) ?? []) if (d.startsWith(`${name}.shifted-`)) removeTree(join(rootfs, d));
}
