// Puts layers and images into the store. A layer is unpacked into a staging directory on
// the store's file system while its digest is computed, checked, then renamed into
// layers/; an image's record is written once all its layers are there. So the store never
// holds a half-written layer or an image missing one, whatever interrupts it.
// (libmycfs's file calls, not node:fs, which takes 3 ms to load: a small image's unpacking
// takes 90.)
import { dirname, join } from "../paths";
import { MycfsError } from "../errors";
import { normalJit } from "../jit";
import { log } from "../log";
import { close, fileType, mkdir, mkdtemp, removeTree, rename, replaceFile } from "../native/lib";
import { collect } from "./catalog";
import { decompressed, gunzippedFile } from "./decompress";
import type { ImageRef } from "./refs";
import { ensureDir, type ImageRecord, type Store } from "./store";
import { Tally } from "./tally";
import { type Unpacked, unpackTar } from "./unpack";

export interface LayerInput {
  /** What the messages call it: the image, and the layer's digest when it has several. */
  what: string;
  /** Where it comes from: a URL, a file, "stdin", "embedded". */
  source: string;
  /** The archive's bytes; opened only if needed. */
  archive: () => ReadableStream<Uint8Array>;
  /** The local file `archive` reads, if it is one: a gzip file is then inflated and
   * hashed by a thread that reads the file itself, and `archive` is not opened. */
  file?: string;
  /** Digests the archive must have (hex). */
  expect?: { sha256?: string; sha512?: string };
  /** Create device nodes found in the archive (else they are left out, with a warning). */
  devices?: boolean;
  /** A layer of an image manifest, whose OCI whiteouts become overlayfs's; a plain
   * root file system tarball has none. */
  whiteouts?: boolean;
  signal: AbortSignal;
  onBytes?: (total: number) => void;
}

export interface InstalledLayer {
  /** sha256 of the archive as it came. */
  digest: string;
  /** Bytes of file data unpacked, and entries. */
  size: number;
  entries: number;
}

/** Keys that mark a directory opaque: overlayfs mounted by root reads trusted.*, one
 * mounted with userxattr (in a user namespace) user.*; without root only user.* is ours. */
const opaqueKeys = () =>
  process.geteuid?.() === 0 ? { opaque: ["trusted.overlay.opaque"], alsoOpaque: ["user.overlay.opaque"] } : { opaque: ["user.overlay.opaque"], alsoOpaque: [] };

/** Unpacks one archive into layers/, named by its sha256 (kept if that layer is there). */
export async function installLayer(store: Store, x: LayerInput): Promise<InstalledLayer> {
  normalJit();
  const t0 = performance.now();
  const stage = mkdtemp(store.tmp(), "unpack-");
  try {
    const dir = join(stage, "layer");
    mkdir(dir, 0o755);
    const tally = new Tally(x.expect?.sha512 !== undefined, x.onBytes);
    let unpacked: Unpacked;
    try {
      // (the gunzip thread computes a sha256 only: a sha512 to check takes the stream)
      const fromFile = x.file && x.expect?.sha512 === undefined ? await gunzippedFile(x.file, x.signal) : null;
      unpacked = await unpackTar(fromFile?.tar ?? (await decompressed(tally.pass(x.archive(), x.signal))), dir, {
        devices: x.devices === true,
        chown: process.geteuid?.() === 0,
        layer: x.whiteouts ? opaqueKeys() : undefined,
      });
      if (fromFile) tally.adopt(Bun.file(x.file!).size, fromFile.thread.sha256());
    } catch (e) {
      if (x.signal.aborted) throw x.signal.reason;
      throw e instanceof MycfsError ? new MycfsError(`${x.what}: ${e.message}; nothing was stored`, e.exitCode, e) : e;
    }
    for (const algorithm of ["sha256", "sha512"] as const) {
      const want = x.expect?.[algorithm]?.toLowerCase();
      if (want && want !== tally.hex(algorithm))
        throw new MycfsError(`${x.what}: digest mismatch: ${x.source} has ${algorithm} ${tally.hex(algorithm)}, expected ${want}; nothing was stored`);
    }
    // without root every file is the caller's, which is root in a rootless container
    if (unpacked.remapped) log.warn(`${x.what}: ${unpacked.remapped} entries belong to users other than root; without root they are unpacked as yours`);
    if (unpacked.skipped.length)
      log.warn(
        `${x.what}: left out of the image (${unpacked.skipped.length}): ${unpacked.skipped.slice(0, 3).join("; ")}${unpacked.skipped.length > 3 ? "; …" : ""}`,
      );
    // interrupted while the last entries went in: still nothing stored. A signal is seen at
    // the event loop's next turn, which the unpacking may not have needed to take.
    await new Promise((resolve) => setImmediate(resolve));
    if (x.signal.aborted) throw x.signal.reason;
    const digest = `sha256:${tally.hex("sha256")}`;
    const lock = store.lock("store", true)!;
    try {
      const dest = store.layer(digest);
      if (fileType(dest) === null) {
        ensureDir(dirname(dest));
        rename(dir, dest);
      }
    } finally {
      close(lock);
    }
    log.debug(`${x.what}: ${tally.bytes} bytes, ${unpacked.entries} entries unpacked in ${(performance.now() - t0).toFixed(1)} ms`);
    return { digest, size: unpacked.bytes, entries: unpacked.entries };
  } finally {
    removeTree(stage); // libmycfs's: it also opens up directories unpacked with mode 0
  }
}

/** Writes the image's record, under the store's lock, once every layer it names is there,
 * and removes the layers of the image it replaces that nothing uses any more. */
export function publishImage(store: Store, ref: ImageRef, record: ImageRecord) {
  const lock = store.lock("store", true)!;
  try {
    const missing = record.layers.find((l) => fileType(store.layer(l)) === null);
    if (missing) throw new MycfsError(`${ref.display}: layer ${missing} was removed while it was pulled (by mycfs rmi?); pull it again`);
    const before = store.image(ref);
    const file = store.imageFile(ref);
    ensureDir(dirname(file));
    replaceFile(file, `${JSON.stringify(record, null, 2)}\n`, 0o644);
    if (before) collect(store, before.layers);
  } finally {
    close(lock);
  }
}

/** Removes layers that a failed pull stored, unless an image or container uses them. */
export function discardLayers(store: Store, layers: string[]) {
  const lock = store.lock("store", true)!;
  try {
    collect(store, layers);
  } finally {
    close(lock);
  }
}

export interface Install extends Omit<LayerInput, "what" | "whiteouts"> {
  ref: ImageRef;
  version: string;
}

/** A root file system tarball as an image of one layer, without a config. */
export async function installImage(store: Store, x: Install): Promise<ImageRecord> {
  const layer = await installLayer(store, { ...x, what: x.ref.display });
  const record: ImageRecord = {
    ref: x.ref.display,
    version: x.version,
    source: x.source,
    digest: layer.digest,
    layers: [layer.digest],
    config: {},
    size: layer.size,
    entries: layer.entries,
    pulled: new Date().toISOString(),
  };
  publishImage(store, x.ref, record);
  return record;
}
