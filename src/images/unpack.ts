// Streams a tar archive into an image's root directory, faithfully and safely.
// Faithful: files, directories, symlinks, hardlinks, fifos and (when allowed) device
// nodes; modes with setuid bits, owners, mtimes, long names (ustar prefix, PAX, GNU) and
// extended attributes. Safe: names are checked here (no absolute path, no ".."), and
// libmycfs creates every entry relative to its parent's fd, resolved by openat2 without
// following any symlink (csrc/unpack.c): nothing in the archive can reach the host.
// Memory stays bounded: each chunk goes from the stream straight into its file.
import type { TarHeader } from "modern-tar";
// modern-tar's synchronous unpacker (its web decoder wraps it in a stream per entry).
// Driving it directly shows where each header block lies in the stream, and so the
// fields its header object leaves out: device numbers, the raw type flag, and xattr
// values as bytes. The path is pinned by the exact version in package.json.
// It runs unstrict: its strict mode sums every header block in JavaScript, which cost more
// than a small archive's whole unpack, so libmycfs checks the header blocks instead (each
// entry's, below) and the end-of-archive blocks are checked here.
// @ts-expect-error: an internal chunk of modern-tar, without types; Unpacker (below) is what is used of it
import { n as createUnpacker } from "../../node_modules/modern-tar/dist/packer-By1HVV7Z.js";
import { MycfsError } from "../errors";
import { close, entry, EntryKind, errnoMessage, writeBytes } from "../native/lib";
import { E } from "../errno";

interface Unpacker {
  write(chunk: Uint8Array): void;
  end(): void;
  finish(): void;
  readHeader(): (TarHeader & { pax?: Record<string, string> }) | null | undefined;
  streamBody(callback: (chunk: Uint8Array) => boolean): number;
  skipEntry(): boolean;
  skipPadding(): boolean;
  isEntryActive(): boolean;
  isBodyComplete(): boolean;
  available(): number;
}

export interface UnpackOptions {
  /** Create block and character devices (else they are skipped, with a warning). */
  devices: boolean;
  /** Give entries the archive's owners (root only). */
  chown: boolean;
  /** An image layer: its OCI whiteouts become overlayfs's. `.wh.NAME` becomes a 0:0
   * character device NAME, `DIR/.wh..wh..opq` marks DIR opaque with the `opaque` xattr
   * keys (trusted.overlay.opaque for overlayfs mounted by root; user.overlay.opaque for one
   * mounted with userxattr, in a user namespace), and with the `alsoOpaque` ones where the
   * file system takes them (tmpfs has user.* xattrs only since Linux 6.6). */
  layer?: { opaque: string[]; alsoOpaque: string[] };
}

export interface Unpacked {
  entries: number;
  /** Bytes of file data written. */
  bytes: number;
  /** Entries left out, each with its reason: device nodes, xattrs that cannot or must not be set. */
  skipped: string[];
  /** Entries owned by someone other than root that, without chown, became the caller's. */
  remapped: number;
}

/** OCI's whiteout prefix; `.wh..wh.` names are metadata (aufs's), `.wh..wh..opq` one of them. */
const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
const Y = new TextEncoder().encode("y");

const S_IFCHR = 0o020000,
  S_IFBLK = 0o060000,
  S_IFIFO = 0o010000;
// ustar type flags mycfs unpacks: file ("0", NUL, "7" contiguous), link, symlink, char,
// block, directory, fifo. Others (GNU sparse "S", volume labels...) would be misread.
const KNOWN_TYPES = new Set([0, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37]);
/** Free space is checked before writing an entry larger than this. */
const CHECK_SPACE_ABOVE = 16 << 20;

/** A name that needs no cleaning: no empty, "." or ".." component, not absolute. */
const PLAIN = /^(?!\.\.?(?:\/|$))[^/\0]+(?:\/(?!\.\.?(?:\/|$))[^/\0]+)*\/?$/;

/** The entry's path relative to the root, or null for the root itself. Refuses any way out. */
export function entryPath(name: string): string | null {
  // most names are plain once tar's "./" is off (one test, where splitting costs
  // microseconds an entry)
  const plain = name.startsWith("./") ? name.slice(2) : name;
  if (PLAIN.test(plain)) return plain.endsWith("/") ? plain.slice(0, -1) : plain;
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (name.startsWith("/") || parts.includes("..") || name.includes("\0"))
    throw new MycfsError(`archive entry '${name}' points outside the image (an absolute path or '..'); refusing to unpack it`);
  return parts.length ? parts.join("/") : null;
}

/** The bytes of the stream between two offsets, kept from the chunks that carried them. */
class RawWindow {
  private chunks: { start: number; data: Uint8Array }[] = [];
  end = 0;
  push(data: Uint8Array) {
    this.chunks.push({ start: this.end, data });
    this.end += data.byteLength;
  }
  /** Forgets everything before offset. */
  drop(offset: number) {
    let n = 0;
    while (n < this.chunks.length && this.chunks[n]!.start + this.chunks[n]!.data.byteLength <= offset) n++;
    if (n) this.chunks.splice(0, n);
  }
  /** The bytes from..to: a view where one chunk holds them all (most headers), else a copy. */
  slice(from: number, to: number): Uint8Array {
    const one = this.chunks.find((c) => c.start <= from && to <= c.start + c.data.byteLength);
    if (one) return one.data.subarray(from - one.start, to - one.start);
    const out = new Uint8Array(to - from);
    for (const { start, data } of this.chunks) {
      const a = Math.max(from, start),
        b = Math.min(to, start + data.byteLength);
      if (a < b) out.set(data.subarray(a - start, b - start), a - from);
    }
    return out;
  }
}

function octal(field: Uint8Array): number {
  let v = 0;
  for (const c of field) {
    if (c === 0 || c === 0x20) continue;
    if (c < 0x30 || c > 0x37) throw new MycfsError("a tar header holds an invalid number");
    v = v * 8 + c - 0x30;
  }
  return v;
}

/** SCHILY.xattr.* records of the PAX headers in `meta` (header blocks and bodies), as bytes:
 * modern-tar decodes record values as text, which mangles binary ones (security.capability). */
function paxXattrs(meta: Uint8Array): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  const text = new TextDecoder();
  for (let off = 0; off + 512 <= meta.byteLength; ) {
    const size = octal(meta.subarray(off + 124, off + 136));
    const body = meta.subarray(off + 512, off + 512 + size);
    if (meta[off + 156] === 0x78 /* x */)
      for (let r = 0; r < body.byteLength; ) {
        const space = body.indexOf(0x20, r);
        const len = Number(text.decode(body.subarray(r, space)));
        if (space < 0 || !(len > 0)) break;
        const record = body.subarray(space + 1, r + len - 1);
        const eq = record.indexOf(0x3d);
        const key = text.decode(record.subarray(0, eq));
        if (eq > 0 && key.startsWith("SCHILY.xattr.")) out.push([key.slice(13), record.slice(eq + 1)]);
        r += len;
      }
    off += 512 + size + (-size & 511);
  }
  return out;
}

export async function unpackTar(tar: ReadableStream<Uint8Array>, dest: string, opts: UnpackOptions): Promise<Unpacked> {
  const root = entry.openRoot(dest);
  if (root < 0) throw new MycfsError(`cannot open ${dest}: ${errnoMessage(-root)}`);
  const unpacker = createUnpacker({ strict: false }) as Unpacker;
  const raw = new RawWindow();
  const dirs: { path: string; uid: number; gid: number; mode: number; mtime: number }[] = [];
  const result: Unpacked = { entries: 0, bytes: 0, skipped: [], remapped: 0 };
  let headerStart = 0; // where the current entry's first (meta) header began
  // asserted, not annotated: TypeScript would take it for null ever after, as the
  // callbacks that set it are not followed
  let file = null as { fd: number; name: string; path: string; h: TarHeader; xattrs: [string, Uint8Array][] } | null;
  let eof = false;

  const failed = (name: string, rc: number, what = "cannot create it"): MycfsError => {
    const why =
      -rc === E.ELOOP
        ? "it lies below a symlink, or a symlink stands where a directory should be; refusing to write through it"
        : -rc === E.ENOSPC
          ? "no space left on the store's file system"
          : -rc === E.ENAMETOOLONG
            ? "its name is too long"
            : `${what}: ${errnoMessage(-rc)}`;
    return new MycfsError(`archive entry '${name}': ${why}`);
  };
  const owner = (h: TarHeader) => (opts.chown ? [h.uid ?? 0, h.gid ?? 0] : [-1, -1]) as [number, number];
  const seconds = (h: TarHeader) => (h.mtime?.getTime() ?? 0) / 1000;

  const setXattrs = (name: string, path: string, xattrs: [string, Uint8Array][]) => {
    for (const [key, value] of xattrs) {
      // overlayfs reads trusted.overlay.* (user.overlay.* with userxattr) as its own
      // instructions (opaque, redirect, metacopy): never from an image
      const own = /^(trusted|user)\.overlay\./.test(key);
      const rc = own ? 0 : entry.xattr(root, path || ".", key, value);
      const why = own
        ? "overlayfs's own; never taken from an image"
        : rc === -E.ELOOP
          ? "not set on a symlink"
          : rc < 0
            ? `cannot set it: ${errnoMessage(-rc)}`
            : undefined;
      if (why) result.skipped.push(`${name}: extended attribute ${key} (${why})`);
    }
  };

  /** The file's fd, opened on first need: a file whose data comes whole never needs one. */
  const fileFd = (f: NonNullable<typeof file>) => {
    if (f.fd < 0) {
      f.fd = entry.file(root, f.path);
      if (f.fd < 0) throw failed(f.name, f.fd);
    }
    return f.fd;
  };

  const finishFile = () => {
    const f = file!;
    file = null;
    const rc = entry.fileDone(fileFd(f), ...owner(f.h), f.h.mode ?? 0o644, seconds(f.h));
    if (rc < 0) throw failed(f.name, rc, "cannot finish it");
    setXattrs(f.name, f.path, f.xattrs);
  };

  /** An OCI whiteout entry made overlayfs's; false if the entry is no whiteout. */
  const whiteout = (name: string, path: string | null, uid: number, gid: number): boolean => {
    const slash = path?.lastIndexOf("/") ?? -1;
    const base = path?.slice(slash + 1) ?? "";
    if (!opts.layer || !base.startsWith(WHITEOUT)) return false;
    const dir = slash < 0 ? "." : path!.slice(0, slash);
    if (base === OPAQUE) {
      if (dir !== "." && !dirs.some((d) => d.path === dir)) {
        // a marker without its directory's own entry: the directory as tar would make it
        const rc = entry.make(root, dir, EntryKind.DIR, 0o755, [0, 0], "", uid, gid, 0);
        if (rc < 0) throw failed(name, rc);
        dirs.push({ path: dir, uid, gid, mode: 0o755, mtime: 0 });
      }
      for (const key of opts.layer.opaque) {
        const rc = entry.xattr(root, dir, key, Y);
        if (rc < 0) throw failed(name, rc, `cannot mark ${dir} opaque (${key})`);
      }
      for (const key of opts.layer.alsoOpaque) {
        const rc = entry.xattr(root, dir, key, Y);
        if (rc === -E.EOPNOTSUPP)
          result.skipped.push(`${name}: ${key} (the store's file system has no such xattrs: in a user namespace the lower layers show through ${dir})`);
        else if (rc < 0) throw failed(name, rc, `cannot mark ${dir} opaque (${key})`);
      }
    } else if (!base.startsWith(`${WHITEOUT}${WHITEOUT}`)) {
      const hidden = base.slice(WHITEOUT.length);
      if (hidden === "" || hidden === "." || hidden === "..") throw new MycfsError(`archive entry '${name}' is a whiteout of no file`);
      // a 0:0 character device is overlayfs's whiteout; unprivileged users may make one (5.8)
      const rc = entry.make(root, dir === "." ? hidden : `${dir}/${hidden}`, EntryKind.NODE, S_IFCHR, [0, 0], "", uid, gid, 0);
      if (rc < 0) throw failed(name, rc);
    }
    return true;
  };

  const begin = (h: TarHeader & { pax?: Record<string, string> }) => {
    const start = consumed() - 512; // this entry's ustar header block
    const headers = raw.slice(headerStart, start + 512);
    const name = h.name;
    if (!entry.headersOk(headers)) throw new MycfsError(`archive entry '${name}': a damaged tar header (checksum or number); the archive is corrupt`);
    const block = headers.subarray(headers.byteLength - 512);
    const meta = headers.subarray(0, headers.byteLength - 512);
    if (!KNOWN_TYPES.has(block[156]!) || h.pax?.["GNU.sparse.major"] !== undefined || h.pax?.["GNU.sparse.size"] !== undefined)
      throw new MycfsError(`archive entry '${name}' has a type mycfs does not unpack (tar type '${String.fromCharCode(block[156]!)}', or a sparse file)`);
    const path = entryPath(name);
    const xattrs = h.pax && Object.keys(h.pax).some((k) => k.startsWith("SCHILY.xattr.")) ? paxXattrs(meta) : [];
    const [uid, gid] = owner(h);
    const mode = h.mode ?? 0o644;
    const mtime = seconds(h);
    result.entries++;
    if (whiteout(name, path, uid, gid)) return;
    if (!opts.chown && (h.uid || h.gid)) result.remapped++;
    if (h.type === "directory") {
      if (path !== null) {
        const rc = entry.make(root, path, EntryKind.DIR, mode, [0, 0], "", uid, gid, mtime);
        if (rc < 0) throw failed(name, rc);
      }
      dirs.push({ path: path ?? ".", uid, gid, mode, mtime });
      setXattrs(name, path ?? ".", xattrs);
      return;
    }
    if (path === null) throw new MycfsError(`archive entry '${name}' would replace the image's root directory with a ${h.type}`);
    if (h.type === "file") {
      if (!Number.isSafeInteger(h.size) || h.size < 0) throw new MycfsError(`archive entry '${name}' has an invalid size`);
      if (h.size > CHECK_SPACE_ABOVE && h.size > entry.freeBytes(root))
        throw new MycfsError(`archive entry '${name}' claims ${h.size} bytes, more than the store's file system has free; refusing to unpack it`);
      file = { fd: -1, name, path, h, xattrs };
      result.bytes += h.size;
      return;
    }
    let rc: number;
    if (h.type === "symlink") rc = entry.make(root, path, EntryKind.SYMLINK, 0, [0, 0], h.linkname ?? "", uid, gid, mtime);
    else if (h.type === "link") {
      const target = entryPath(h.linkname ?? "");
      if (target === null) throw new MycfsError(`archive entry '${name}' hardlinks to the image's root directory`);
      rc = entry.make(root, path, EntryKind.HARDLINK, 0, [0, 0], target, -1, -1, 0);
      if (rc === -E.ENOENT) throw new MycfsError(`archive entry '${name}' hardlinks to '${h.linkname}', which is not in the archive before it`);
    } else if (h.type === "fifo") rc = entry.make(root, path, EntryKind.NODE, S_IFIFO | (mode & 0o7777), [0, 0], "", uid, gid, mtime);
    else {
      const dev: [number, number] = [octal(block.subarray(329, 337)), octal(block.subarray(337, 345))];
      if (!opts.devices) {
        result.skipped.push(`${name}: ${h.type} ${dev.join(":")} (device nodes need --devices)`);
        return;
      }
      const type = h.type === "block-device" ? S_IFBLK : S_IFCHR;
      rc = entry.make(root, path, EntryKind.NODE, type | (mode & 0o7777), dev, "", uid, gid, mtime);
    }
    if (rc < 0) throw failed(name, rc);
    setXattrs(name, path, xattrs);
  };

  const consumed = () => raw.end - unpacker.available();
  /** Takes in everything the unpacker has buffered; returns when it needs more input.
   * The raw window keeps only what the current entry's headers may still need. */
  const drain = () => {
    for (;;) {
      if (unpacker.isEntryActive()) {
        if (file) {
          const f = file;
          let rc = 0;
          if (f.fd < 0 && unpacker.available() >= f.h.size) {
            // all of its data is here (most files): in one piece, one call does it all
            const parts: Uint8Array[] = [];
            unpacker.streamBody((chunk) => parts.push(chunk) > 0);
            if (parts.length <= 1) {
              file = null;
              rc = entry.wholeFile(root, f.path, parts[0] ?? new Uint8Array(0), ...owner(f.h), f.h.mode ?? 0o644, seconds(f.h));
              if (rc < 0) throw failed(f.name, rc);
              setXattrs(f.name, f.path, f.xattrs);
            } else for (const part of parts) if ((rc = writeBytes(fileFd(f), part)) < 0) break;
          } else unpacker.streamBody((chunk) => (rc = writeBytes(fileFd(f), chunk)) >= 0);
          if (rc < 0) throw failed(f.name, rc, "cannot write it");
          raw.drop(consumed());
          if (file) {
            if (!unpacker.isBodyComplete()) return;
            finishFile();
          }
        }
        if (!unpacker.skipEntry()) return;
        headerStart = consumed();
        raw.drop(headerStart);
        continue;
      }
      const h = unpacker.readHeader();
      if (h === null) return;
      if (h === undefined) {
        // the end: unstrict, modern-tar also ends where the data does; an archive ends
        // with two zero blocks
        if (raw.end < headerStart + 1024 || raw.slice(headerStart, headerStart + 1024).some((b) => b !== 0)) return;
        return void (eof = true);
      }
      begin(h);
      raw.drop(consumed());
    }
  };

  // Read ahead while this thread writes: the next chunk is asked for before this one is
  // unpacked, so its read (or decompression, or download) overlaps the writes of this one.
  // (A read-ahead stream between the two would cost more per chunk than it saves.)
  const reader = tar.getReader();
  let next = reader.read();
  try {
    for (;;) {
      const { value, done } = await next;
      if (!done) next = reader.read();
      if (done) unpacker.end();
      else if (!eof) raw.push(value);
      if (!done) unpacker.write(value);
      drain();
      if (done) break;
    }
    if (!eof) throw new MycfsError("the archive ends in the middle (truncated)");
    unpacker.finish();
    // Last, deepest first: writing into a directory changes its mtime, and its mode may
    // forbid the writes below it.
    for (const d of dirs.reverse()) {
      const rc = entry.dirDone(root, d.path, d.uid, d.gid, d.mode, d.mtime);
      if (rc < 0) throw failed(d.path, rc, "cannot set its mode and time");
    }
    return result;
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    if (e instanceof MycfsError) throw e;
    throw new MycfsError(`the archive is corrupt or not a tar archive (${(e as Error)?.message ?? e})`);
  } finally {
    if (file && file.fd >= 0) close(file.fd);
    entry.closeRoot(root);
  }
}
