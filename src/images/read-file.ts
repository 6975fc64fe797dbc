// One small file of an image as its containers will see it, read without mounting anything:
// from the directories of its layers, top down, merged as overlayfs merges them. A name an
// upper layer deleted is a whiteout there (a character device 0:0); a directory whose lower
// contents are hidden is marked opaque; a directory merges with the same-named directories
// below it, down to an opaque one, and anything else hides all that is below. Symlinks are
// followed here, in the merged view, each name looked up in each layer by libmycfs inside
// that layer's directory (openat2 RESOLVE_IN_ROOT, no symlink followed): an image's links
// lead nowhere but into the image. A running container's root is the one-layer case.
// Image files are hostile: only a regular file is read, and only up to `max` bytes.
import { MycfsError } from "../errors";
import { close, type LayerEntry, layerEntry, openPathDir } from "../native/lib";

const TYPE = 0o170000;
const DIR = 0o040000;
const REG = 0o100000;
const LINK = 0o120000;
const CHR = 0o020000;
/** The kernel's limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

const isWhiteout = (e: LayerEntry) => (e.mode & TYPE) === CHR && e.major === 0 && e.minor === 0;

/** The merged view's entry at a path whose parents are directories in every layer of
 * `layers`: the topmost layer's entry (and that layer), and for a directory the layers whose
 * directories make it up. null where nothing is, or a whiteout deleted it. */
interface Merged {
  entry: LayerEntry;
  layer: number;
  dirs: number[];
}

function lookup(layers: number[], path: string): Merged | null {
  let top: Merged | null = null;
  for (const fd of layers) {
    const e = layerEntry(fd, path);
    if (e === null) continue;
    const dir = (e.mode & TYPE) === DIR;
    if (top === null) {
      if (isWhiteout(e)) return null;
      top = { entry: e, layer: fd, dirs: dir ? [fd] : [] };
    } else if (dir) top.dirs.push(fd);
    else break; // a whiteout or another file hides the directories below
    if (!dir || e.opaque) break;
  }
  return top;
}

/** The text of the file at `path` in the layers (directory fds, the top one first), or null
 * if there is none; `what` names it in errors (the image's /etc/passwd). */
export function readLayered(layers: number[], path: string, max: number, what: string): string | null {
  const todo = path.split("/").filter(Boolean);
  const done: { name: string; dirs: number[] }[] = [];
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "." || name === "..") {
      if (name === "..") done.pop(); // the root's parent is the root
      continue;
    }
    const here = `/${[...done.map((d) => d.name), name].join("/")}`;
    const m = lookup(done.at(-1)?.dirs ?? layers, here);
    if (m === null) return null;
    const type = m.entry.mode & TYPE;
    if (type === LINK) {
      if (++links > MAX_LINKS) throw new MycfsError(`${what}: more than ${MAX_LINKS} symbolic links on the way; it cannot be read`);
      const target = new TextDecoder().decode(m.entry.data);
      if (target.startsWith("/")) done.length = 0;
      todo.unshift(...target.split("/").filter(Boolean));
    } else if (todo.length > 0) {
      if (type !== DIR) return null; // a file where a directory would be: nothing there
      done.push({ name, dirs: m.dirs });
    } else {
      const file = type === REG && m.entry.size <= max ? layerEntry(m.layer, here, Math.max(1, m.entry.size)) : m.entry;
      if (file === null || (file.mode & TYPE) !== REG) throw new MycfsError(`${what} is not a regular file; it cannot be read`);
      if (file.size > max) throw new MycfsError(`${what} is larger than ${max} bytes; it cannot be read`);
      return new TextDecoder().decode(file.data);
    }
  }
  throw new MycfsError(`${what} is a directory, not a file`);
}

/** f with the layer directories (the top one first, as Store.layerDirs gives them and
 * readLayered takes them) open. */
export function withLayers<T>(dirs: string[], f: (fds: number[]) => T): T {
  const fds: number[] = [];
  try {
    for (const d of dirs) fds.push(openPathDir(d));
    return f(fds);
  } finally {
    fds.forEach(close);
  }
}
