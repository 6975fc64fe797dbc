// `mycfs save`: an image of the store as an OCI image layout in one tar archive
// (image-spec image-layout.md), which `podman load`, `skopeo copy oci-archive:FILE …` and
// umoci (untarred) read, as docker 25+'s `docker load` should (untested: no daemon here).
// Each layer directory is packed (pack.ts), compressed and hashed in one pass into a file
// under the store's tmp/, so that no layer is ever held in memory; the config, manifest
// and index follow from their digests, and the archive is then streamed out. The same
// image always gives the same bytes. Written to a file, it goes to a temporary name
// beside it, renamed once complete: a failed or interrupted save leaves nothing.
import { closeSync, openSync, realpathSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { MycfsError } from "../errors";
import { log } from "../log";
import { close, errnoMessage, fileType, mkdtemp, randomHex, removeTree, S_IFMT, writeBytes } from "../native/lib";
import { hostPlatform } from "./platform";
import { embeddedRef, isEmbedded } from "./embedded";
import { ensureImage } from "./ensure";
import { packLayer } from "./pack";
import { parseRef, type ImageRef } from "./refs";
import type { ImageRecord, Store } from "./store";
import { BLOCK, tarHeader, TarType } from "./tar-header";
import { Tally } from "./tally";

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
};

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface LayerBlob extends Descriptor {
  /** The sha256 of the uncompressed tar: the config's rootfs.diff_ids. */
  diffId: string;
}

/** The store's directory of a layer. */
const layerDir = (store: Store, digest: string) => store.layer(digest);

/** Packs the layer directory `dir` into `file` (created), gzip-compressed, computing the
 * digests of both the tar and the compressed blob as the bytes pass. Compression is most
 * of the time: Bun's CompressionStream (its default level) did a 200 MB layer at 45-55 MB/s
 * to 53%, node:zlib 44 MB/s at level 6 and 76 MB/s at level 1 (but to 60%), gzip -6 34. */
export async function layerBlob(dir: string, file: string, signal: AbortSignal): Promise<LayerBlob> {
  const tar = new Tally(false);
  const blob = new Tally(false);
  const skipped: string[] = [];
  const gzip = new CompressionStream("gzip") as ReadableWritablePair<Uint8Array, Uint8Array>;
  const compressed = blob.pass(tar.pass(packLayer(dir, { onSkip: (name, why) => skipped.push(`${name}: ${why}`) }), signal).pipeThrough(gzip), signal);
  const fd = open(file, "wx", `a layer's blob in ${dirname(file)}`);
  try {
    await writeStream(fd, `a layer's blob in ${dirname(file)}`, compressed);
  } finally {
    closeSync(fd);
  }
  if (skipped.length) log.warn(`${dir}: left out of the layer (${skipped.length}): ${skipped.slice(0, 3).join("; ")}${skipped.length > 3 ? "; …" : ""}`);
  return { mediaType: MEDIA.layer, digest: `sha256:${blob.hex("sha256")}`, size: blob.bytes, diffId: `sha256:${tar.hex("sha256")}` };
}

/** A JSON blob: its bytes (compact, in a fixed key order) and its descriptor. */
function jsonBlob(mediaType: string, value: object): { bytes: Uint8Array; descriptor: Descriptor } {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { bytes, descriptor: { mediaType, digest: `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`, size: bytes.byteLength } };
}

/** The image config (image-spec config.md) of an image with these layers. */
export function imageConfig(record: ImageRecord, layers: LayerBlob[]): object {
  const { os, architecture, variant } = record.platform ?? hostPlatform();
  return {
    // when the image came into the store: the nearest to a creation time a tarball has
    created: record.pulled,
    architecture,
    os,
    ...(variant ? { variant } : {}),
    config: record.config,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  };
}

/** How the archive names the image, as `docker save` does: io.containerd.image.name is
 * the full name, which podman load (Debian 12's 4.3 included) gives the image;
 * org.opencontainers.image.ref.name is the tag, by which umoci and skopeo pick it
 * (DIR:TAG). Without the former, podman would take the tag for the whole name
 * (localhost/latest). A URL's image, or one named by digest alone, has no such name:
 * loaded, it goes by its ID. (busybox and alpine, mycfs's own, are docker.io's names.) */
export function nameAnnotations(ref: ImageRef): Record<string, string> | undefined {
  if (ref.url || !ref.tag) return undefined;
  const repository = ref.registry ? `${ref.registry.host}/${ref.registry.repository}` : `docker.io/library/${ref.name}`;
  return { "io.containerd.image.name": `${repository}:${ref.tag}`, "org.opencontainers.image.ref.name": ref.tag };
}

/** One entry of the archive: a directory, or a file with its bytes or a file of the
 * stage to stream. */
type Member = { name: string; size: number } & ({ dir: true } | { bytes: Uint8Array } | { file: string });

/** The image layout's entries, in the archive's order: what it is first, then the blobs. */
function layout(ref: ImageRef, record: ImageRecord, layers: (LayerBlob & { file: string })[]): Member[] {
  const config = jsonBlob(MEDIA.config, imageConfig(record, layers));
  const manifest = jsonBlob(MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: config.descriptor,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  });
  const index = jsonBlob(MEDIA.index, {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{ ...manifest.descriptor, annotations: nameAnnotations(ref) }],
  });
  const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
  const oci = new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return [
    { name: "oci-layout", size: oci.byteLength, bytes: oci },
    { name: "index.json", size: index.bytes.byteLength, bytes: index.bytes },
    { name: "blobs/", size: 0, dir: true },
    { name: "blobs/sha256/", size: 0, dir: true },
    { name: blob(manifest.descriptor.digest), size: manifest.descriptor.size, bytes: manifest.bytes },
    { name: blob(config.descriptor.digest), size: config.descriptor.size, bytes: config.bytes },
    // two layers may be the same blob: once is enough
    ...layers.filter((l, i) => layers.findIndex((o) => o.digest === l.digest) === i).map((l) => ({ name: blob(l.digest), size: l.size, file: l.file })),
  ];
}

/** The tar archive of the members, every entry root's, mode 0644 (0755), mtime 0. */
async function* archive(members: Member[], signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const utf8 = new TextEncoder();
  for (const m of members) {
    if (signal.aborted) throw signal.reason;
    const dir = "dir" in m;
    yield tarHeader({ name: utf8.encode(m.name), type: dir ? TarType.DIR : TarType.FILE, mode: dir ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 0, size: m.size });
    if ("bytes" in m) yield m.bytes;
    else if ("file" in m) {
      let n = 0;
      for await (const chunk of Bun.file(m.file).stream()) {
        if (signal.aborted) throw signal.reason;
        n += chunk.byteLength;
        yield chunk;
      }
      if (n !== m.size) throw new MycfsError(`${m.file} changed while the image was saved`);
    }
    yield new Uint8Array(-m.size & (BLOCK - 1));
  }
  yield new Uint8Array(2 * BLOCK);
}

/** Writes the stream to fd, each chunk whole before the next is asked for (so that the
 * bytes wait in the stream, not in memory): a plain blocking write(2), as Bun's own
 * writers make a pipe non-blocking and report a full disk apart from the write. */
async function writeStream(fd: number, what: string, stream: AsyncIterable<Uint8Array>) {
  for await (const chunk of stream) {
    const rc = writeBytes(fd, chunk);
    if (rc < 0) throw new MycfsError(`cannot write ${what}: ${errnoMessage(-rc)}`);
  }
}

/** Opens path for writing (`flags`: node's "wx", "w"), as an fd; a failure names `what`. */
function open(path: string, flags: string, what: string): number {
  try {
    return openSync(path, flags, 0o644);
  } catch (e) {
    throw new MycfsError(`cannot create ${what}: ${errnoMessage(-((e as { errno?: number }).errno ?? 0))}`, undefined, e);
  }
}

interface Destination {
  fd: number;
  /** What it is, for messages. */
  what: string;
  /** The archive is complete: closes it and puts it in place. */
  commit(): void;
  /** The save failed: closes it and removes what was written, where it can. */
  discard(): void;
}

/** Where the archive goes: standard output (null); a file, written under a temporary
 * name beside it and renamed when complete; or a device or fifo (-o /dev/null), written
 * as it comes, as renaming over it would replace it. */
function destination(output: string | null): Destination {
  if (output === null) return { fd: 1, what: "standard output", commit() {}, discard() {} };
  const type = fileType(output); // through a symlink
  if (type === S_IFMT.DIR) throw new MycfsError(`-o ${output}: is a directory; give the archive's file name`);
  if (type !== null && type !== S_IFMT.REG) {
    const fd = open(output, "w", output);
    return { fd, what: output, commit: () => closeSync(fd), discard: () => closeSync(fd) };
  }
  // through a symlink, the file it names is the one replaced
  const path = type === null ? output : realpathSync(output);
  const temp = join(dirname(path), `.${basename(path)}.${randomHex(4)}.tmp`);
  // created now, so that a file that cannot be written fails before any work is done
  const fd = open(temp, "wx", output);
  let closed = false;
  const closeOnce = () => {
    if (!closed) closeSync(fd);
    closed = true;
  };
  return {
    fd,
    what: output,
    commit() {
      closeOnce();
      renameSync(temp, path);
    },
    discard() {
      closeOnce();
      rmSync(temp, { force: true });
    },
  };
}

/** Saves the image `name` to `output` (a file; null: standard output). The embedded
 * busybox is installed first if the store lacks it; anything else must be there. */
export async function saveImage(store: Store, name: string, output: string | null, signal: AbortSignal): Promise<ImageRecord> {
  const parsed = parseRef(name);
  const ref = isEmbedded(parsed) ? embeddedRef : parsed;
  const missing = () => new MycfsError(`no image ${ref.display} in the store ${store.root}; see 'mycfs images'`);
  if (!isEmbedded(parsed) && !store.image(ref)) throw missing();
  await ensureImage(store, name, "never", {}, "mycfs save does not pull");
  const out = destination(output);
  let lock: number | undefined;
  let stage: string | undefined;
  try {
    // shared: the image's layers stay while they are read (rmi and pulls wait to remove them)
    lock = store.lock("store", false)!;
    stage = mkdtemp(store.tmp(), "save-");
    const record = store.image(ref);
    if (!record) throw missing();
    const t0 = performance.now();
    const layers: (LayerBlob & { file: string })[] = [];
    for (const [i, digest] of record.layers.entries()) {
      const file = join(stage, `layer-${i}`);
      layers.push({ ...(await layerBlob(layerDir(store, digest), file, signal)), file });
    }
    log.debug(`${ref.display}: ${layers.length} layer${layers.length === 1 ? "" : "s"} packed in ${(performance.now() - t0).toFixed(1)} ms`);
    await writeStream(out.fd, out.what, archive(layout(ref, record, layers), signal));
    if (signal.aborted) throw signal.reason;
    out.commit();
    return record;
  } catch (e) {
    out.discard();
    throw e;
  } finally {
    if (stage) removeTree(stage);
    if (lock !== undefined) close(lock);
  }
}
