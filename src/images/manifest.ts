// Manifests and indexes (docker's schema 2 manifest and manifest list, OCI's image manifest
// and index), parsed from a registry's hostile bytes into what a pull needs: an image's
// config and layers, or an index's manifests and their platforms. Schema 1 manifests are
// refused, as docker refuses them; so are layers mycfs cannot unpack (foreign and
// non-distributable ones, of Windows images) and configs of things that are no image.
//
//   MANIFEST_ACCEPT                             the Accept header of a manifest request
//   parseManifest(bytes, contentType, name): ImageManifest | ImageIndex
//   selectManifest(index, want, name): Descriptor      the entry docker would choose
import { MycfsError } from "../errors";
import type { Platform } from "./config";
import { formatPlatform, platformRank } from "./platform";
import { DIGEST } from "./source";

export const MEDIA = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  schema1: "application/vnd.docker.distribution.manifest.v1+json",
  schema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

// schema 1 too, last: a registry that has only that sends it, and the refusal says so
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest, MEDIA.schema1Signed, MEDIA.schema1].join(", ");

const PULLABLE = new Set<string>([MEDIA.ociManifest, MEDIA.dockerManifest, MEDIA.ociIndex, MEDIA.dockerList]);
const CONFIGS = new Set(["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"]);

export type Compression = "gzip" | "zstd" | "none";

const LAYERS: Record<string, Compression> = {
  "application/vnd.oci.image.layer.v1.tar": "none",
  "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
  "application/vnd.docker.image.rootfs.diff.tar": "none",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
  "application/vnd.docker.image.rootfs.diff.tar.zstd": "zstd",
};
const FOREIGN = /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff\.tar|oci\.image\.layer\.nondistributable\.v1\.tar)/;

export interface Descriptor {
  mediaType: string;
  /** sha256:<64 hex>. */
  digest: string;
  size: number;
  /** An index's entries have it. */
  platform?: Platform;
}

export interface Layer extends Descriptor {
  compression: Compression;
}

export interface ImageManifest {
  kind: "manifest";
  mediaType: string;
  config: Descriptor;
  /** Lowest first. */
  layers: Layer[];
}

export interface ImageIndex {
  kind: "index";
  mediaType: string;
  manifests: Descriptor[];
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

function descriptor(x: unknown, name: string, what: string): Descriptor {
  const bad = (why: string) => new MycfsError(`the manifest of ${name} is not valid: ${what} ${why}`);
  if (!isObject(x)) throw bad("is not an object");
  const { mediaType, digest, size, platform } = x;
  if (typeof mediaType !== "string") throw bad("has no mediaType");
  if (typeof digest !== "string" || !DIGEST.test(digest)) throw bad(`has the digest '${String(digest)}': mycfs takes sha256: and 64 lower-case hex digits`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad("has no size");
  const d: Descriptor = { mediaType, digest, size };
  if (isObject(platform)) {
    const { os, architecture, variant } = platform;
    if (typeof os !== "string" || typeof architecture !== "string" || (variant !== undefined && typeof variant !== "string"))
      throw bad("has a platform without os and architecture");
    d.platform = { os, architecture, ...(variant && { variant }) };
  }
  return d;
}

function list(x: unknown, name: string, what: string): unknown[] {
  if (!Array.isArray(x)) throw new MycfsError(`the manifest of ${name} is not valid: it has no ${what} list`);
  return x;
}

export function parseManifest(bytes: Uint8Array, contentType: string, name: string): ImageManifest | ImageIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {}
  if (!isObject(doc)) throw new MycfsError(`the manifest of ${name} is not a JSON object`);
  const mediaType = typeof doc.mediaType === "string" ? doc.mediaType : contentType.split(";")[0]!.trim();
  if (doc.schemaVersion === 1 || mediaType === MEDIA.schema1 || mediaType === MEDIA.schema1Signed)
    throw new MycfsError(
      `${name} has a schema 1 manifest (${MEDIA.schema1Signed}), which mycfs does not pull, as docker no longer does: push the image again with a current docker, buildah or skopeo`,
    );
  if (doc.schemaVersion !== 2) throw new MycfsError(`the manifest of ${name} has schemaVersion ${JSON.stringify(doc.schemaVersion)}; mycfs reads version 2`);
  const isIndex = mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || (!doc.config && "manifests" in doc);
  if (isIndex) {
    const manifests = list(doc.manifests, name, "manifests").map((m, i) => descriptor(m, name, `manifests[${i}]`));
    return { kind: "index", mediaType, manifests };
  }
  const config = descriptor(doc.config, name, "config");
  if (!CONFIGS.has(config.mediaType))
    throw new MycfsError(`${name} is not a container image: its config is ${config.mediaType} (an artifact of another kind, perhaps)`);
  const layers = list(doc.layers, name, "layers").map((l, i): Layer => {
    const d = descriptor(l, name, `layers[${i}]`);
    const compression = LAYERS[d.mediaType];
    if (compression) return { ...d, compression };
    if (FOREIGN.test(d.mediaType))
      throw new MycfsError(`${name} has a foreign (non-distributable) layer ${d.digest}, which registries do not serve: such layers are Windows images'`);
    throw new MycfsError(`${name} has a layer of type ${d.mediaType}, which mycfs cannot unpack: it unpacks tar layers, gzip, zstd or uncompressed`);
  });
  return { kind: "manifest", mediaType, config, layers };
}

export function selectManifest(index: ImageIndex, want: Platform, name: string): Descriptor {
  let best: { d: Descriptor; rank: number } | undefined;
  for (const d of index.manifests) {
    // attestations and other artifacts beside the images are no choice
    const rank = d.platform && PULLABLE.has(d.mediaType) ? platformRank(want, d.platform) : null;
    if (rank !== null && (!best || rank < best.rank)) best = { d, rank };
  }
  if (best) return best.d;
  const has = index.manifests.flatMap((d) => (d.platform && d.platform.os !== "unknown" ? [formatPlatform(d.platform)] : []));
  throw new MycfsError(
    `${name} has no image for ${formatPlatform(want)}${has.length ? `: it has ${[...new Set(has)].join(", ")}` : ""}; choose one with --platform`,
  );
}
