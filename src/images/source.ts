// Where an image's manifests and blobs come from: a registry (src/registry/client.ts), an
// OCI image layout (a directory, or in a tar), or a `docker save` archive. All give the same
// things, so one routine (fetch-image.ts, through resolve.ts) stores an image from any.

/** A content address: what manifests name blobs by. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A manifest or index as it came, with its media type and digest. */
export interface Fetched {
  bytes: Uint8Array;
  /** As the source labelled it (a registry's Content-Type), for parseManifest. */
  mediaType: string;
  /** sha256:HEX of bytes. */
  digest: string;
}

export interface Blob {
  body: ReadableStream<Uint8Array>;
  /** Its size, once known. */
  total(): number | undefined;
  /** The local file body reads, if it is one (a gzip file is then inflated by a thread
   * that reads it itself). */
  file?: string;
}

export interface ImageSource {
  /** For messages: a registry's host and repository, or a path. */
  readonly name: string;
  /** The manifest or index of a tag, or of a digest. */
  manifest(reference: string): Promise<Fetched>;
  /** A blob; its bytes are checked against the digest by whoever reads them. */
  blob(d: { digest: string; size: number }): Blob;
  /** A small blob (a config) whole, refused past `max` bytes. */
  blobBytes(d: { digest: string; size: number }, max: number): Promise<Uint8Array>;
}
