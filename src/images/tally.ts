// The archive's bytes counted and hashed as they stream past, so that its digest is
// checked in the same pass that unpacks it, without reading it twice.

export class Tally {
  bytes = 0;
  private readonly hashers: Partial<Record<"sha256" | "sha512", Bun.CryptoHasher>>;
  constructor(sha512: boolean, private readonly onBytes?: (total: number) => void) {
    this.hashers = { sha256: new Bun.CryptoHasher("sha256"), ...(sha512 ? { sha512: new Bun.CryptoHasher("sha512") } : {}) };
  }

  /** input, unchanged, tallied; aborting `signal` errors the stream even while it waits.
   * A pull of the input's own reader, not pipeThrough: the piping machinery costs more
   * per chunk than hashing it. */
  pass(input: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
    const reader = input.getReader();
    const aborted = new Promise<never>((_, reject) => {
      const abort = () => {
        reject(signal.reason);
        reader.cancel(signal.reason).catch(() => {});
      };
      if (signal.aborted) abort();
      else signal.addEventListener("abort", abort, { once: true });
    });
    aborted.catch(() => {}); // seen by the pull that races it
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const { value, done } = await Promise.race([reader.read(), aborted]);
        if (done) return controller.close();
        this.bytes += value.byteLength;
        for (const h of Object.values(this.hashers)) h.update(value);
        this.onBytes?.(this.bytes);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  private readonly digests: Partial<Record<"sha256" | "sha512", string>> = {};
  /** The digest of everything passed (asked once the stream has ended). */
  hex(algorithm: "sha256" | "sha512"): string | undefined {
    // digest() finishes (and resets) the hasher: keep what it said
    return (this.digests[algorithm] ??= this.hashers[algorithm]?.digest("hex"));
  }
}
