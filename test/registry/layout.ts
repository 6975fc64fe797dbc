// OCI image layouts (image-spec image-layout.md) written from a description in TypeScript,
// byte for byte the same on every run: layers as lists of tar entries (files, directories,
// links, whiteouts), each gzip, zstd or uncompressed; an image config; a manifest; and for
// several platforms an index. pushLayout copies one to a registry with skopeo.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar, type TarHeader } from "modern-tar";
import type { ImageConfig, Platform } from "../../src/images/config";
import { withoutSystemCache } from "../helpers";

type Owner = { mode?: number; uid?: number; gid?: number };
export type Entry =
  | ({ file: string; content?: string | Uint8Array } & Owner)
  | ({ dir: string } & Owner)
  | { symlink: string; target: string }
  | { hardlink: string; target: string }
  /** Removes `whiteout` of the layers below: an empty DIR/.wh.NAME. */
  | { whiteout: string }
  /** Hides what the layers below have in directory `opaque`: DIR/.wh..wh..opq. */
  | { opaque: string };

export type Compression = "gzip" | "zstd" | "none";

export interface LayerSpec {
  entries: Entry[];
  compression?: Compression;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: ImageConfig;
  /** Default linux/amd64. */
  platform?: Platform;
}

export interface BuiltLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
  tar: Uint8Array<ArrayBuffer>;
}

export interface BuiltImage {
  digest: string;
  manifest: Uint8Array;
  config: { digest: string; bytes: Uint8Array };
  layers: BuiltLayer[];
  platform: Platform;
}

export interface Layout {
  /** What index.json names: the index, or the one manifest. */
  digest: string;
  images: BuiltImage[];
}

const MTIME = new Date("2026-01-01T00:00:00Z");
const LAYER_TYPE: Record<Compression, string> = {
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  none: "application/vnd.oci.image.layer.v1.tar",
};
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

export const sha256 = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

function header(e: Entry): { header: TarHeader; body?: string | Uint8Array } {
  const base = { mtime: MTIME, size: 0 };
  if ("file" in e) {
    const body = e.content ?? "";
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    return { header: { ...base, name: e.file, size, type: "file", mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0 }, body };
  }
  if ("dir" in e) return { header: { ...base, name: `${e.dir}/`, type: "directory", mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0 } };
  if ("symlink" in e) return { header: { ...base, name: e.symlink, type: "symlink", linkname: e.target, mode: 0o777 } };
  if ("hardlink" in e) return { header: { ...base, name: e.hardlink, type: "link", linkname: e.target, mode: 0o644 } };
  const [path, name] = "whiteout" in e ? [e.whiteout, null] : [e.opaque, ".wh..wh..opq"];
  const slash = path.lastIndexOf("/");
  const wh = name ? `${path}/${name}` : `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
  return { header: { ...base, name: wh, type: "file", mode: 0o644 } };
}

function compress(tar: Uint8Array<ArrayBuffer>, how: Compression): Uint8Array {
  if (how === "gzip") return Bun.gzipSync(tar);
  if (how === "zstd") return Bun.zstdCompressSync(tar);
  return tar;
}

function blob(dir: string, data: Uint8Array | string): { digest: string; size: number } {
  const digest = sha256(data);
  writeFileSync(join(dir, "blobs/sha256", digest.slice(7)), data);
  return { digest, size: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength };
}

async function image(dir: string, spec: ImageSpec): Promise<BuiltImage> {
  const platform = spec.platform ?? { os: "linux", architecture: "amd64" };
  const layers: BuiltLayer[] = [];
  for (const l of spec.layers) {
    const tar = await packTar(l.entries.map(header));
    const how = l.compression ?? "gzip";
    layers.push({ ...blob(dir, compress(tar, how)), diffId: sha256(tar), mediaType: LAYER_TYPE[how], tar });
  }
  const configBytes = new TextEncoder().encode(
    JSON.stringify({
      created: MTIME.toISOString(),
      ...platform,
      config: spec.config ?? {},
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      // skopeo needs a history entry a layer to convert to schema 1
      history: layers.map((_, i) => ({ created: MTIME.toISOString(), created_by: `layer ${i}` })),
    }),
  );
  const config = blob(dir, configBytes);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { digest: blob(dir, manifest).digest, manifest, config: { digest: config.digest, bytes: configBytes }, layers, platform };
}

export async function buildLayout(dir: string, spec: ImageSpec | { index: ImageSpec[] }): Promise<Layout> {
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const images: BuiltImage[] = [];
  for (const s of "index" in spec ? spec.index : [spec]) images.push(await image(dir, s));
  let top = { mediaType: OCI_MANIFEST, digest: images[0]!.digest, size: images[0]!.manifest.byteLength };
  if ("index" in spec) {
    const manifests = images.map((i) => ({ mediaType: OCI_MANIFEST, digest: i.digest, size: i.manifest.byteLength, platform: i.platform }));
    top = { mediaType: OCI_INDEX, ...blob(dir, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })) };
  }
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [top] }));
  return { digest: top.digest, images };
}

export interface PushOptions {
  /** user:password. */
  creds?: string;
  /** The registry's CA (its directory is skopeo's --dest-cert-dir); without it, TLS is
   * not verified and plain http is allowed. */
  caFile?: string;
  /** skopeo's --format: v2s2 (docker's media types), v2s1 (schema 1); default: as laid out. */
  format?: "v2s2" | "v2s1";
}

/** `skopeo copy --all oci:DIR docker://REF`; run asynchronously, as the token server that
 * skopeo may ask lives in this process. */
export async function pushLayout(dir: string, ref: string, opts: PushOptions = {}) {
  const argv = ["skopeo", "copy", "--quiet", "--all"];
  // as laid out, byte for byte (uncompressed layers stay so), unless converted
  argv.push(...(opts.format ? ["--format", opts.format] : ["--preserve-digests"]));
  argv.push(opts.caFile ? `--dest-cert-dir=${join(opts.caFile, "..")}` : "--dest-tls-verify=false");
  argv.push(...(opts.creds ? ["--dest-creds", opts.creds] : ["--dest-no-creds"]), `oci:${dir}`, `docker://${ref}`);
  const p = Bun.spawn(withoutSystemCache(argv), { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed: ${err}`);
}
