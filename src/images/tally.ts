// The archive's bytes counted and hashed as they stream past, so that its digest is
// checked in the same pass that unpacks it, without reading it twice.

export class Tally {
  bytes = 0;
  private readonly hashers: Partial<Record<"sha256" | "sha512", Bun.CryptoHasher>>;
  constructor(sha512: boolean, private readonly onBytes?: (total: number) => void) {
    this.hashers = { sha256: new Bun.CryptoHasher("sha256"), ...(sha512 ? { sha512: new Bun.CryptoHasher("sha512") } : {}) };
  }

  /** input, unchanged, tallied; aborting `signal` errors the stream even while it waits. */
  pass(input: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
    return input.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        this.bytes += chunk.byteLength;
        for (const h of Object.values(this.hashers)) h.update(chunk);
        this.onBytes?.(this.bytes);
        controller.enqueue(chunk);
      },
    }), { signal });
  }

  private readonly digests: Partial<Record<"sha256" | "sha512", string>> = {};
  /** The digest of everything passed (asked once the stream has ended). */
  hex(algorithm: "sha256" | "sha512"): string | undefined {
    // digest() finishes (and resets) the hasher: keep what it said
    return (this.digests[algorithm] ??= this.hashers[algorithm]?.digest("hex"));
  }
}
