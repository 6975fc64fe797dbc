// A layer directory of the store as the tar stream of an OCI layer: faithful (files,
// directories, symlinks, hardlinks, fifos, device nodes; modes with setuid bits, owners,
// mtimes to the second, long names, extended attributes) and deterministic (names in
// byte order, nothing from the clock or the host: the same directory gives the same
// bytes). overlayfs's marks become OCI's (image-spec layer.md): a whiteout (a character
// device 0:0) becomes an empty file .wh.NAME, an opaque directory (*.overlay.opaque "y")
// gets a .wh..wh..opq entry; overlayfs's other attributes are its own and never leave.
// The directory is the store's, yet read as if hostile: lstat, readlink, files opened
// with O_NOFOLLOW and checked to be the inode seen. Memory stays bounded: the stream is
// made a chunk at a time, as it is read.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from "node:fs";
import { MycfsError } from "../errors";
import { readXattrs } from "../native/lib";
import { BLOCK, type TarEntry, tarHeader, TarType } from "./tar-header";

/** How much of the stream is passed on at a time. */
const CHUNK = 1 << 20;
const WHITEOUT = Buffer.from(".wh.");
const OPAQUE = Buffer.from(".wh..wh..opq");
/** overlayfs's own attributes: trusted.overlay.*, or user.overlay.* (unprivileged mounts). */
const OVERLAY = /^(trusted|user)\.overlay\./;
/** Marks of an upper layer whose content lies partly in the layers below: a renamed
 * directory (redirect_dir), a file whose data was not copied up (metacopy). */
const PARTIAL = /^(trusted|user)\.overlay\.(redirect|metacopy)$/;
const S_IFMT = 0o170000n;
const S = { DIR: 0o040000n, REG: 0o100000n, LNK: 0o120000n, CHR: 0o020000n, BLK: 0o060000n, FIFO: 0o010000n, SOCK: 0o140000n };
const NS = 1_000_000_000n;

export interface PackOptions {
  /** Told of each entry left out (a socket: tar has no type for it). */
  onSkip?: (name: string, why: string) => void;
}

/** The tar stream of the layer directory `dir`. It fails with a MycfsError naming the
 * entry if the directory cannot be read, changes while it is read, or holds what an OCI
 * layer cannot say (a name that starts with .wh., an overlayfs redirect or metacopy). */
export function packLayer(dir: string, opts: PackOptions = {}): ReadableStream<Uint8Array> {
  const out = new Chunks();
  const steps = entries(Buffer.from(dir), out, opts);
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        while (!out.ready.length && !ended) {
          let step: IteratorResult<void>;
          try {
            step = steps.next();
          } catch (e) {
            throw e instanceof MycfsError ? e : new MycfsError(`cannot read the layer ${dir}: ${(e as Error).message}`, undefined, e);
          }
          if (step.done) {
            out.zeros(2 * BLOCK); // the end of the archive
            out.flush();
            ended = true;
          }
        }
        for (const chunk of out.ready.splice(0)) controller.enqueue(chunk);
        if (ended) controller.close();
      },
      cancel: () => void steps.return(undefined),
    },
    { highWaterMark: 0 },
  );
}

/** The stream's bytes, gathered into chunks of CHUNK bytes. */
class Chunks {
  readonly ready: Uint8Array[] = [];
  // a fresh buffer is zeroed, and nothing is written twice: zeros need no writing
  private buf = new Uint8Array(CHUNK);
  private used = 0;

  put(bytes: Uint8Array) {
    for (let off = 0; off < bytes.byteLength; ) {
      const n = Math.min(CHUNK - this.used, bytes.byteLength - off);
      this.buf.set(bytes.subarray(off, off + n), this.used);
      off += n;
      this.advance(n);
    }
  }
  zeros(count: number) {
    for (let left = count; left > 0; ) {
      const n = Math.min(CHUNK - this.used, left);
      left -= n;
      this.advance(n);
    }
  }
  /** Reads up to `max` bytes of fd straight into the chunk: how many came (0 at its end). */
  read(fd: number, max: number): number {
    const n = readSync(fd, this.buf, this.used, Math.min(max, CHUNK - this.used), null);
    this.advance(n);
    return n;
  }
  flush() {
    if (!this.used) return;
    this.ready.push(this.buf.subarray(0, this.used));
    this.buf = new Uint8Array(CHUNK);
    this.used = 0;
  }
  private advance(n: number) {
    this.used += n;
    if (this.used === CHUNK) this.flush();
  }
}

const byteOrder = (a: Buffer, b: Buffer) => Buffer.compare(a, b);
const display = (name: Uint8Array) => Buffer.from(name).toString();

/** Writes the directory's entries to `out`, depth first, each directory's in byte order;
 * yields whenever a chunk is ready (within a large file too). */
function* entries(root: Buffer, out: Chunks, opts: PackOptions): Generator<void> {
  const path = (rel: Buffer) => (rel.byteLength ? Buffer.concat([root, Buffer.from("/"), rel]) : root);
  /** Directories being walked: their path in the archive ("" for the root) and names. */
  const open: { rel: Buffer; names: Buffer[]; next: number }[] = [];
  /** The first name of each inode with several, for the hardlinks that follow. */
  const links = new Map<string, Buffer>();

  for (let rel: Buffer | null = Buffer.alloc(0); rel; rel = nextEntry(open)) {
    const at = path(rel);
    const st = lstatSync(at, { bigint: true });
    const type = st.mode & S_IFMT;
    const base = rel.subarray(rel.lastIndexOf(0x2f) + 1);
    const dir = rel.subarray(0, rel.byteLength - base.byteLength);
    const attrs = readXattrs(at);
    const partial = attrs.find(([k]) => PARTIAL.test(k));
    if (partial)
      throw new MycfsError(`layer entry '${display(rel)}' has overlayfs's ${partial[0]}: its content lies partly in another layer; it cannot be saved`);
    const meta = {
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: Number(st.mtimeNs / NS - (st.mtimeNs < 0n && st.mtimeNs % NS ? 1n : 0n)),
      size: 0,
    };

    if (type === S.CHR && st.rdev === 0n) {
      // a whiteout: what the layers below have at this name is deleted
      out.put(tarHeader({ ...meta, name: Buffer.concat([dir, WHITEOUT, base]), type: TarType.FILE }));
      yield;
      continue;
    }
    if (base.subarray(0, WHITEOUT.byteLength).equals(WHITEOUT))
      throw new MycfsError(`layer entry '${display(rel)}': OCI layers reserve names that start with .wh. for deletions; it cannot be saved`);
    const xattrs = attrs.filter(([k]) => !OVERLAY.test(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const name = type === S.DIR ? Buffer.concat([rel.byteLength ? rel : Buffer.from("."), Buffer.from("/")]) : rel;

    if (type === S.DIR) {
      out.put(tarHeader({ ...meta, name, type: TarType.DIR, xattrs }));
      const opaque = attrs.some(([k, v]) => k.endsWith(".overlay.opaque") && v.byteLength === 1 && v[0] === 0x79 /* y */);
      // the directory hides what the layers below have in it: its marker comes first
      if (opaque)
        out.put(tarHeader({ ...meta, mode: meta.mode & 0o777, name: Buffer.concat([rel.byteLength ? name : Buffer.alloc(0), OPAQUE]), type: TarType.FILE }));
      open.push({ rel, names: readdirSync(at, { encoding: "buffer" }).sort(byteOrder), next: 0 });
      yield;
      continue;
    }
    if (type === S.SOCK) {
      opts.onSkip?.(display(rel), "a socket (tar has no type for it)");
      continue;
    }
    if (st.nlink > 1n) {
      const inode = `${st.dev}:${st.ino}`;
      const first = links.get(inode);
      if (first) {
        out.put(tarHeader({ ...meta, name, type: TarType.LINK, linkname: first }));
        yield;
        continue;
      }
      links.set(inode, name);
    }
    if (type === S.REG) {
      yield* fileData(at, st, { ...meta, name, size: Number(st.size), type: TarType.FILE, xattrs }, out);
      continue;
    }
    if (type === S.LNK) out.put(tarHeader({ ...meta, name, type: TarType.SYMLINK, linkname: readlinkSync(at, { encoding: "buffer" }), xattrs }));
    else if (type === S.FIFO) out.put(tarHeader({ ...meta, name, type: TarType.FIFO, xattrs }));
    else if (type === S.CHR || type === S.BLK) {
      // glibc's gnu_dev_major and gnu_dev_minor
      const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn));
      const minor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn));
      out.put(tarHeader({ ...meta, name, type: type === S.CHR ? TarType.CHAR : TarType.BLOCK, dev: [major, minor], xattrs }));
    } else throw new MycfsError(`layer entry '${display(rel)}' is of an unknown type (mode ${st.mode.toString(8)})`);
    yield;
  }
}

/** The next entry's path in the archive, the directories done popped; null at the end. */
function nextEntry(open: { rel: Buffer; names: Buffer[]; next: number }[]): Buffer | null {
  for (let top = open.at(-1); top; top = open.at(-1)) {
    const name = top.names[top.next++];
    if (name) return top.rel.byteLength ? Buffer.concat([top.rel, Buffer.from("/"), name]) : name;
    open.pop();
  }
  return null;
}

/** A regular file's header and data, read from the inode lstat saw (a file replaced
 * meanwhile, or a symlink put in its place, is refused) and exactly as long as it said. */
function* fileData(at: Buffer, st: BigIntStats, e: TarEntry, out: Chunks): Generator<void> {
  const changed = () => new MycfsError(`layer entry '${display(e.name)}' changed while it was read; nothing can change a layer of the store`);
  // O_NONBLOCK: were it a fifo now, opening it would not wait for a writer
  const fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const now = fstatSync(fd, { bigint: true });
    if (now.ino !== st.ino || now.dev !== st.dev) throw changed();
    out.put(tarHeader(e));
    for (let left = e.size; left > 0; ) {
      const n = out.read(fd, left);
      if (n === 0) throw changed();
      left -= n;
      if (out.ready.length) yield;
    }
  } finally {
    closeSync(fd);
  }
  out.zeros(-e.size & (BLOCK - 1));
  yield;
}
