// Where an image's manifests and blobs come from: a registry (src/registry/), an OCI image
// layout (a directory, or one unpacked from a tar), or a `docker save` archive. All give the
// same things, so one routine (fetch-image.ts) stores an image from any of them.

/** A manifest or index as it came, with its media type and digest. */
export interface Fetched {
  bytes: Uint8Array;
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
  where: string;
  /** The manifest or index of a tag, or of a digest. */
  manifest(reference: string): Promise<Fetched>;
  /** A blob by digest; a source checks it against the digest where it cannot be trusted. */
  blob(digest: string): Blob;
}
