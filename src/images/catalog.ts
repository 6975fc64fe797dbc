// What the store holds: image records and container records, read from disk, and the
// removal of root file systems that nothing uses any more. Not on the start path.
import { join } from "../paths";
import { fileType, listDir, readFile, removeTree, S_IFMT } from "../native/lib";
import type { ContainerRecord, ImageRecord, Store } from "./store";

/** Image records lie below images/ as deep as their names go (registry/repository/tag). */
function jsonFiles(dir: string): string[] {
  return (listDir(dir) ?? []).flatMap((name) => {
    const path = join(dir, name);
    const type = fileType(path);
    if (type === S_IFMT.DIR) return jsonFiles(path);
    return type === S_IFMT.REG && name.endsWith(".json") ? [path] : [];
  });
}

const readJson = <T>(path: string) => JSON.parse(readFile(path) ?? "null") as T;

export function listImages(store: Store): ImageRecord[] {
  return jsonFiles(join(store.root, "images"))
    .map((f) => readJson<ImageRecord>(f))
    .filter((r) => r.layers) // (records of mycfs before layers: see Store.image)
    .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0)); // not localeCompare: ICU's collator takes ms to load
}

/** Every container directory with its record: running ones, and those kept after they ended. */
export function listContainers(store: Store): ContainerRecord[] {
  const dir = join(store.root, "containers");
  return (listDir(dir) ?? []).flatMap((id) => {
    const file = join(dir, id, "container.json");
    return fileType(file) !== null ? [readJson<ContainerRecord>(file)] : [];
  });
}

/** Removes those of `layers` that no image names and no container stacks. Call it
 * holding the store's exclusive lock. */
export function collect(store: Store, layers: string[]) {
  const used = new Set([...listImages(store), ...listContainers(store)].flatMap((r) => r.layers ?? []));
  for (const digest of layers) {
    if (used.has(digest)) continue;
    removeTree(store.layer(digest));
    // and the copies made for user namespaces without id-mapped mounts (container/idmap.ts)
    const parent = join(store.root, "layers");
    const name = digest.replace(/^sha256:/, "");
    for (const d of listDir(parent) ?? []) if (d.startsWith(`${name}.shifted-`)) removeTree(join(parent, d));
  }
}
