// From a reference to what a pull stores, as docker resolves it: the manifest it names, or
// through an index the one for the platform; the image's config read, checked and parsed;
// and its layers. The layers themselves are the caller's to fetch (source.blob). The source
// is a registry or an image archive (source.ts).
//
//   resolveImage(source, reference, { platform? }): Promise<ResolvedImage>
//     reference: a tag or a digest; platform: --platform (default: this machine's, and a
//     single-platform image for another is then only warned about, as docker does)
import { MycfsError } from "../errors";
import type { ImageConfig, Platform } from "./config";
import { log } from "../log";
import type { ImageSource } from "./source";
import { parseImageConfig } from "./image-config";
import { type Descriptor, type ImageManifest, parseManifest, selectManifest } from "./manifest";
import { formatPlatform, hostPlatform, normalizePlatform, platformRank } from "./platform";
import { DIGEST } from "./source";

export interface ResolvedImage {
  /** What the reference names: the index's digest, or the manifest's (docker's "Digest:"). */
  digest: string;
  /** The image manifest's digest: the platform's own. */
  manifestDigest: string;
  manifest: ImageManifest;
  /** The config blob as the registry sent it (verified against manifest.config.digest). */
  configBytes: Uint8Array;
  config: ImageConfig;
  platform: Platform;
  /** The layers' digests uncompressed, lowest first, one per manifest.layers entry. */
  diffIds: string[];
}

/** Indexes of indexes are allowed this deep. */
const MAX_DEPTH = 4;
const MAX_CONFIG = 8 << 20;

export async function resolveImage(source: ImageSource, reference: string, opts: { platform?: Platform } = {}): Promise<ResolvedImage> {
  const want = normalizePlatform(opts.platform ?? hostPlatform());
  let name = `${source.name}${DIGEST.test(reference) ? "@" : ":"}${reference}`;
  let fetched = await source.manifest(reference);
  const digest = fetched.digest;
  let parsed = parseManifest(fetched.bytes, fetched.mediaType, name);
  for (let depth = 1; parsed.kind === "index"; depth++) {
    if (depth > MAX_DEPTH) throw new MycfsError(`${name}: indexes nested deeper than ${MAX_DEPTH}`);
    const chosen: Descriptor = selectManifest(parsed, want, name);
    log.debug(`${name}: ${formatPlatform(chosen.platform!)} is ${chosen.digest}`);
    name = `${source.name}@${chosen.digest}`;
    fetched = await source.manifest(chosen.digest);
    parsed = parseManifest(fetched.bytes, fetched.mediaType, name);
  }
  const manifest = parsed;
  const configBytes = await source.blobBytes(manifest.config, MAX_CONFIG);
  const { config, platform, diffIds } = parseImageConfig(configBytes, name);
  if (diffIds.length !== manifest.layers.length)
    throw new MycfsError(`the image config of ${name} names ${diffIds.length} layers, its manifest ${manifest.layers.length}`);
  if (platformRank(want, platform) === null) {
    const why = `${name} is an image for ${formatPlatform(platform)}, not ${formatPlatform(want)}`;
    if (opts.platform) throw new MycfsError(why);
    log.warn(`${why} (this machine's): it may not run here`);
  }
  return { digest, manifestDigest: fetched.digest, manifest, configBytes, config, platform, diffIds };
}
