// The archive's bytes counted and hashed as they stream past, so that its digest is
// checked in the same pass that unpacks it, without reading it twice.

const FILE_CHUNK = 1 << 20;

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
        this.add(value);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /** A local file tallied, a chunk at a time: Bun's file stream would read all of it
   * ahead into memory while this thread is busy unpacking. */
  async file(path: string, signal: AbortSignal): Promise<void> {
    const file = Bun.file(path);
    for (let at = 0; at < file.size; at += FILE_CHUNK) {
      if (signal.aborted) throw signal.reason;
      this.add(await file.slice(at, at + FILE_CHUNK).bytes());
    }
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
