// Image manifests and indexes (OCI image-spec; docker's schema 2 has the same shape under
// its own media types) and the image config they name: the platform chosen from an index
// as docker chooses it, and the config's fields mycfs applies.
import { MycfsError } from "../errors";
import type { ImageConfig, Platform } from "./config";
import type { Fetched, ImageSource } from "./source";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerV1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerV1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** What a registry is asked for, the preferred first. */
export const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(", ");

/** Layer types mycfs unpacks: tar, gzip or zstd, docker's and OCI's names. */
const LAYER = /^application\/vnd\.(oci\.image\.layer\.v1\.tar(\+gzip|\+zstd)?|docker\.image\.rootfs\.diff\.tar\.gzip)$/;
const FOREIGN = /nondistributable|foreign/;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Manifest {
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function json(bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (v && typeof v === "object") return v;
  } catch {}
  throw new MycfsError(`${what} is not JSON`);
}

function descriptor(d: unknown, what: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x.digest !== "string" || !DIGEST.test(x.digest) || typeof x.size !== "number")
    throw new MycfsError(`${what}: a descriptor without a sha256 digest and size`);
  return x;
}

/** --platform os/arch[/variant] */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split("/");
  if (!os || !architecture || rest.length || !/^[a-z0-9_]+$/.test(os + architecture + (variant ?? "")))
    throw new MycfsError(`--platform ${text}: expected OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export const platformName = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join("/");

/** docker's matching: os and architecture equal; a variant, when both name one, equal too
 * (arm64's v8 is its only one, so an entry without it matches). */
function matches(want: Platform, have: Platform | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  return !want.variant || !have.variant || want.variant === have.variant;
}

/** The manifest of `reference` for the platform, through an index if it is one. */
export async function resolveManifest(source: ImageSource, reference: string, platform: Platform): Promise<Manifest> {
  let fetched: Fetched = await source.manifest(reference);
  for (let depth = 0; ; depth++) {
    const what = `${source.where}: the manifest ${fetched.digest}`;
    const m = json(fetched.bytes, what);
    const type = (m.mediaType as string | undefined) ?? fetched.mediaType;
    if (type === MEDIA.dockerV1 || type === MEDIA.dockerV1Signed || m.schemaVersion === 1)
      throw new MycfsError(
        `${source.where}: the image has a Docker schema 1 manifest, which is deprecated and unsupported; push it again with a current docker, podman or skopeo`,
      );
    if (Array.isArray(m.manifests) && depth < 2) {
      const entries = m.manifests.map((d) => descriptor(d, what));
      // an index of one image without platforms (an OCI layout of one image) needs no choice
      const chosen = entries.length === 1 && !entries[0]!.platform ? entries[0] : entries.find((e) => matches(platform, e.platform));
      if (!chosen)
        throw new MycfsError(
          `${source.where}: no image for ${platformName(platform)}; it has ${entries.map((e) => (e.platform ? platformName(e.platform) : "?")).join(", ")} (choose one with --platform)`,
        );
      fetched = await source.manifest(chosen.digest);
      continue;
    }
    if (!m.config || !Array.isArray(m.layers)) throw new MycfsError(`${what} is neither an image manifest nor an index (${type})`);
    const layers = m.layers.map((d) => descriptor(d, what));
    for (const l of layers) {
      if (FOREIGN.test(l.mediaType))
        throw new MycfsError(`${source.where}: layer ${l.digest} is a non-distributable (foreign) layer, which mycfs does not fetch`);
      if (!LAYER.test(l.mediaType)) throw new MycfsError(`${source.where}: layer ${l.digest} has the media type ${l.mediaType}, which mycfs does not unpack`);
    }
    return { digest: fetched.digest, config: descriptor(m.config, what), layers };
  }
}

export interface ParsedConfig {
  config: ImageConfig;
  platform: Platform;
  diffIds: string[];
}

const KEYS = ["Entrypoint", "Cmd", "Env", "WorkingDir", "User", "StopSignal", "Labels", "ExposedPorts"] as const;

/** The image config blob, checked against its digest: the fields mycfs applies. */
export function parseImageConfig(bytes: Uint8Array, digest: string): ParsedConfig {
  if (`sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}` !== digest)
    throw new MycfsError(`the image config does not match its digest ${digest}`);
  const c = json(bytes, `the image config ${digest}`) as {
    os?: string;
    architecture?: string;
    variant?: string;
    config?: Record<string, unknown>;
    rootfs?: { diff_ids?: string[] };
  };
  const config: ImageConfig = {};
  for (const k of KEYS) if (c.config?.[k] !== undefined && c.config[k] !== null) (config as Record<string, unknown>)[k] = c.config[k];
  return {
    config,
    platform: { os: c.os ?? "linux", architecture: c.architecture ?? "", ...(c.variant ? { variant: c.variant } : {}) },
    diffIds: c.rootfs?.diff_ids ?? [],
  };
}
