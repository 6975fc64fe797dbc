// The archive's bytes counted and hashed as they stream past, so that its digest is
// checked in the same pass that unpacks it, without reading it twice.

export class Tally {
  bytes = 0;
  private readonly hashers: Partial<Record<"sha256" | "sha512", Bun.CryptoHasher>>;
  constructor(
    sha512: boolean,
    private readonly onBytes?: (total: number) => void,
  ) {
    this.hashers = { sha256: new Bun.CryptoHasher("sha256"), ...(sha512 ? { sha512: new Bun.CryptoHasher("sha512") } : {}) };
  }

  /** input, unchanged, tallied; aborting `signal` errors the stream even while it waits
   * (the input is cancelled, which ends the read under way). A pull of the input's own
   * reader, not pipeThrough: the piping machinery costs more per chunk than hashing it.
   * (Not a race of each read with one promise of the abort: every race left a reaction on
   * that promise, holding its chunk, and a pull held the whole download in memory.) */
  pass(input: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
    const reader = input.getReader();
    const abort = () => void reader.cancel(signal.reason).catch(() => {});
    signal.addEventListener("abort", abort, { once: true });
    const stop = () => signal.removeEventListener("abort", abort);
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (signal.aborted) abort();
          const { value, done } = await reader.read();
          if (signal.aborted) throw signal.reason;
          if (done) {
            stop();
            return controller.close();
          }
          this.add(value);
          controller.enqueue(value);
        },
        cancel: (reason) => {
          stop();
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  private add(chunk: Uint8Array) {
    this.bytes += chunk.byteLength;
    for (const h of Object.values(this.hashers)) h.update(chunk);
    this.onBytes?.(this.bytes);
  }

  /** What another hashed, sha256 only: the gunzip thread, reading the file itself. */
  adopt(bytes: number, sha256: string) {
    this.bytes = bytes;
    this.digests.sha256 = sha256;
  }

  private readonly digests: Partial<Record<"sha256" | "sha512", string>> = {};
  /** The digest of everything passed (asked once the stream has ended). */
  hex(algorithm: "sha256" | "sha512"): string | undefined {
    // digest() finishes (and resets) the hasher: keep what it said
    return (this.digests[algorithm] ??= this.hashers[algorithm]?.digest("hex"));
  }
}
