// Image archives as sources of manifests and blobs (source.ts): an OCI image layout, as a
// directory or in an uncompressed tar (what `skopeo copy … oci-archive:`, `mycfs save` and
// docker 25+ `docker save` write), and the older `docker save` format (manifest.json naming
// a config and uncompressed layer tars). Every blob is checked against its digest by the
// code that reads it (fetch-image.ts): a manifest here, a layer as it is unpacked.
import { MycfsError } from "../errors";
import { join } from "../paths";
import { fileType, S_IFMT } from "../native/lib";
import { type Blob, DIGEST, type Fetched, type ImageSource } from "./source";
import { type Member, tarIndex } from "./tar-index";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** Names an image archive's members have. */
const ARCHIVE_MEMBER = /^(\.\/)?(oci-layout|index\.json|manifest\.json|repositories|blobs(\/|$)|[0-9a-f]{64}(\.json|\.tar|\/|$))/;

const sha256 = (bytes: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;

/** The files of an archive: a directory's, or the members of a tar. */
interface Files {
  has(name: string): boolean;
  size(name: string): number;
  blob(name: string): Blob;
}

function dirFiles(dir: string): Files {
  return {
    has: (name) => fileType(join(dir, name)) === S_IFMT.REG,
    size: (name) => Bun.file(join(dir, name)).size,
    blob: (name) => {
      const file = join(dir, name);
      return { body: Bun.file(file).stream(), total: () => Bun.file(file).size, file };
    },
  };
}

function tarFiles(tar: string, members: Map<string, Member>): Files {
  return {
    has: (name) => members.has(name),
    size: (name) => members.get(name)?.size ?? 0,
    blob: (name) => {
      const m = members.get(name)!;
      return {
        body: Bun.file(tar)
          .slice(m.offset, m.offset + m.size)
          .stream(),
        total: () => m.size,
      };
    },
  };
}

const read = (files: Files, name: string, what: string, max = Number.MAX_SAFE_INTEGER) => {
  if (!files.has(name)) throw new MycfsError(`${what}: ${name} is missing from the archive`);
  if (files.size(name) > max) throw new MycfsError(`${what}: ${name} is larger than ${max} bytes`);
  return new Response(files.blob(name).body).bytes();
};

export interface ArchiveSource extends ImageSource {
  /** The names the archive gives its images (a layout's ref.name annotations, docker's RepoTags). */
  names: string[];
}

/** An OCI layout: index.json lists the images, blobs/sha256/HEX holds everything. The tag
 * picks an image by its org.opencontainers.image.ref.name; one image needs none. */
async function layoutSource(files: Files, where: string): Promise<ArchiveSource> {
  const index = JSON.parse(new TextDecoder().decode(await read(files, "index.json", where))) as {
    manifests?: { digest: string; mediaType: string; annotations?: Record<string, string> }[];
  };
  const entries = index.manifests ?? [];
  const blobName = (digest: string) => {
    if (!DIGEST.test(digest)) throw new MycfsError(`${where}: '${digest}' is not a sha256 digest`);
    return `blobs/sha256/${digest.slice(7)}`;
  };
  const byDigest = async (digest: string, mediaType?: string): Promise<Fetched> => {
    const bytes = await read(files, blobName(digest), where);
    if (sha256(bytes) !== digest) throw new MycfsError(`${where}: blob ${digest} does not match its digest; the archive is corrupt`);
    return { bytes, digest, mediaType: mediaType ?? (JSON.parse(new TextDecoder().decode(bytes)).mediaType as string) ?? OCI_MANIFEST };
  };
  const refName = (e: (typeof entries)[number]) => e.annotations?.["org.opencontainers.image.ref.name"];
  return {
    name: where,
    names: entries.map((e) => e.annotations?.["io.containerd.image.name"] ?? refName(e)).filter((n): n is string => !!n),
    async manifest(reference) {
      if (DIGEST.test(reference)) return byDigest(reference);
      const named = entries.filter((e) => refName(e) === reference || e.annotations?.["io.containerd.image.name"]?.endsWith(`:${reference}`));
      const chosen = named.length ? named : entries;
      if (chosen.length === 1) return byDigest(chosen[0]!.digest, chosen[0]!.mediaType);
      if (!named.length && entries.length > 1) {
        // several manifests of one image, one per platform: the index itself chooses
        const bytes = await read(files, "index.json", where);
        return { bytes, mediaType: OCI_INDEX, digest: sha256(bytes) };
      }
      throw new MycfsError(`${where}: ${chosen.length ? `several images are named '${reference}'` : "the archive holds no image"}`);
    },
    blob: (d) => files.blob(blobName(d.digest)),
    blobBytes: (d, max) => read(files, blobName(d.digest), where, max),
  };
}

/** docker save's own format: manifest.json names each image's config file, RepoTags and
 * its layers, uncompressed tars whose digests are the config's diff_ids. The manifest
 * made here for it is an OCI one naming those files by their digests. */
async function dockerSource(files: Files, where: string): Promise<ArchiveSource> {
  const list = JSON.parse(new TextDecoder().decode(await read(files, "manifest.json", where))) as { Config: string; RepoTags?: string[]; Layers: string[] }[];
  const byDigest = new Map<string, string>();
  const manifests = await Promise.all(
    list.map(async (m) => {
      const config = await read(files, m.Config, where);
      const diffIds = (JSON.parse(new TextDecoder().decode(config)) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
      if (diffIds.length !== m.Layers.length) throw new MycfsError(`${where}: ${m.Config} lists ${diffIds.length} layers, manifest.json ${m.Layers.length}`);
      const configDigest = sha256(config);
      byDigest.set(configDigest, m.Config);
      for (const [i, name] of m.Layers.entries()) byDigest.set(diffIds[i]!, name);
      const manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.byteLength },
        layers: m.Layers.map((name, i) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: diffIds[i]!, size: files.size(name) })),
      };
      const bytes = new TextEncoder().encode(JSON.stringify(manifest));
      return { tags: m.RepoTags ?? [], fetched: { bytes, mediaType: OCI_MANIFEST, digest: sha256(bytes) } };
    }),
  );
  const member = (digest: string) => {
    const name = byDigest.get(digest);
    if (!name) throw new MycfsError(`${where}: the archive has no blob ${digest}`);
    return name;
  };
  return {
    name: where,
    names: manifests.flatMap((m) => m.tags),
    async manifest(reference) {
      const chosen = manifests.length === 1 ? manifests : manifests.filter((m) => m.tags.some((t) => t === reference || t.endsWith(`:${reference}`)));
      if (chosen.length !== 1)
        throw new MycfsError(`${where}: ${chosen.length ? `several images are tagged '${reference}'` : `no image tagged '${reference}'`}`);
      return chosen[0]!.fetched;
    },
    blob: (d) => files.blob(member(d.digest)),
    blobBytes: (d, max) => read(files, member(d.digest), where, max),
  };
}

/** The image archive at `path` (a directory or an uncompressed tar), or null if it is none
 * (a root file system tarball, say). */
export async function archiveSource(path: string): Promise<ArchiveSource | null> {
  const type = fileType(path);
  let files: Files;
  if (type === S_IFMT.DIR) files = dirFiles(path);
  else if (type === S_IFMT.REG) {
    // an image archive is a plain tar ("ustar" at 257 of its first header) whose first
    // member is one of an archive's (a root file system's starts with bin/, etc/…)
    const head = await Bun.file(path).slice(0, 512).bytes();
    const first = new TextDecoder().decode(head.subarray(0, 100)).replace(/\0.*$/s, "");
    if (new TextDecoder().decode(head.subarray(257, 262)) !== "ustar" || !ARCHIVE_MEMBER.test(first)) return null;
    const members = await tarIndex(path);
    files = tarFiles(path, members);
  } else return null;
  if (files.has("oci-layout") && files.has("index.json")) return layoutSource(files, path);
  if (files.has("manifest.json")) return dockerSource(files, path);
  return null;
}
