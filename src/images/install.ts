// Puts an image into the store: the archive is unpacked into a staging directory on the
// store's file system while its digest is computed, checked, then renamed into place,
// so the store never holds a half-written image, whatever interrupts it.
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

export interface Install {
  ref: ImageRef;
  version: string;
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
  signal: AbortSignal;
  onBytes?: (total: number) => void;
}

export async function installImage(store: Store, x: Install): Promise<ImageRecord> {
  normalJit();
  const t0 = performance.now();
  const stage = mkdtemp(store.tmp(), "unpack-");
  try {
    const rootfs = join(stage, "rootfs");
    mkdir(rootfs, 0o755);
    const tally = new Tally(x.expect?.sha512 !== undefined, x.onBytes);
    let unpacked: Unpacked;
    try {
      // (the gunzip thread computes a sha256 only: a sha512 to check takes the stream)
      const fromFile = x.file && x.expect?.sha512 === undefined ? await gunzippedFile(x.file, x.signal) : null;
      unpacked = await unpackTar(fromFile?.tar ?? (await decompressed(tally.pass(x.archive(), x.signal))), rootfs, {
        devices: x.devices === true,
        chown: process.geteuid?.() === 0,
      });
      if (fromFile) tally.adopt(Bun.file(x.file!).size, fromFile.thread.sha256());
    } catch (e) {
      if (x.signal.aborted) throw x.signal.reason;
      throw e instanceof MycfsError ? new MycfsError(`${x.ref.display}: ${e.message}; nothing was stored`, e.exitCode) : e;
    }
    for (const algorithm of ["sha256", "sha512"] as const) {
      const want = x.expect?.[algorithm]?.toLowerCase();
      if (want && want !== tally.hex(algorithm))
        throw new MycfsError(`${x.ref.display}: digest mismatch: ${x.source} has ${algorithm} ${tally.hex(algorithm)}, expected ${want}; nothing was stored`);
    }
    // without root every file is the caller's, which is root in a rootless container
    if (unpacked.remapped) log.warn(`${x.ref.display}: ${unpacked.remapped} entries belong to users other than root; without root they are unpacked as yours`);
    if (unpacked.skipped.length)
      log.warn(
        `${x.ref.display}: left out of the image (${unpacked.skipped.length}): ${unpacked.skipped.slice(0, 3).join("; ")}${unpacked.skipped.length > 3 ? "; …" : ""}`,
      );
    const digest = `sha256:${tally.hex("sha256")}`;
    const record: ImageRecord = {
      ref: x.ref.display,
      version: x.version,
      source: x.source,
      digest,
      layers: [digest],
      config: {},
      size: unpacked.bytes,
      entries: unpacked.entries,
      pulled: new Date().toISOString(),
    };
    // interrupted while the last entries went in: still nothing stored. A signal is seen at
    // the event loop's next turn, which the unpacking may not have needed to take.
    await new Promise((resolve) => setImmediate(resolve));
    if (x.signal.aborted) throw x.signal.reason;
    await publish(store, x.ref, record, stage);
    log.debug(`${x.ref.display}: ${tally.bytes} bytes, ${unpacked.entries} entries unpacked in ${(performance.now() - t0).toFixed(1)} ms`);
    return record;
  } finally {
    removeTree(stage); // libmycfs's: it also opens up directories unpacked with mode 0
  }
}

/** Renames the staged root file system into rootfs/ (unless the same content is there
 * already), then the record into images/, under the store's lock, and removes the root
 * file system the record named before if nothing uses it any more. */
async function publish(store: Store, ref: ImageRef, record: ImageRecord, stage: string) {
  const lock = store.lock("store", true)!;
  try {
    const dest = store.rootfs(record.digest);
    if (fileType(dest) === null) {
      ensureDir(dirname(dest));
      rename(join(stage, "rootfs"), dest);
    }
    const before = store.image(ref);
    const file = store.imageFile(ref);
    ensureDir(dirname(file));
    replaceFile(file, `${JSON.stringify(record, null, 2)}\n`, 0o644);
    if (before && before.digest !== record.digest) collect(store, before.digest);
  } finally {
    close(lock);
  }
}
