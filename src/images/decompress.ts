// An archive's compression, told by its first bytes (never by its name), undone as a
// stream. gzip is inflated on a thread of libmycfs's with the host's zlib, beside the
// unpacker as gzip runs beside `tar -xz` (Bun's DecompressionStream would run on the
// unpacker's own thread), or by Bun where the host has no zlib; zstd is Bun's own; xz is
// xz-embedded compiled to WebAssembly (xz-decompress), loaded only for xz input: Bun has
// no xz, and a child `xz` would make the single executable depend on a host package.
import { MycfsError } from "../errors";
import { close, errnoMessage, fileHead, gunzipThread, type GunzipThread } from "../native/lib";
import { E } from "../errno";

const MAGIC: [name: string, bytes: number[]][] = [
  ["gzip", [0x1f, 0x8b]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["bzip2", [0x42, 0x5a, 0x68]],
];

export function compression(head: Uint8Array): string | null {
  return MAGIC.find(([, m]) => m.every((b, i) => head[i] === b))?.[0] ?? null;
}

/** The archive as tar bytes, whatever compression it came in. */
export async function decompressed(input: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = input.getReader();
  let head = new Uint8Array(0);
  while (head.byteLength < 6) {
    const { value, done } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(head.byteLength + value.byteLength);
    joined.set(head);
    joined.set(value, head.byteLength);
    head = joined;
  }
  // the bytes read so far, then the rest, unchanged
  const whole = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (head.byteLength && c.enqueue(head)),
      async pull(c) {
        const { value, done } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  const kind = compression(head);
  const thread = kind === "gzip" ? gunzipThread() : null;
  if (thread) return throughThread(whole, thread);
  if (kind === "gzip" || kind === "zstd") return whole.pipeThrough(new DecompressionStream(kind) as ReadableWritablePair<Uint8Array, Uint8Array>);
  if (kind === "xz") {
    const { XzReadableStream } = await import("xz-decompress");
    return new XzReadableStream(whole);
  }
  if (kind) {
    await reader.cancel();
    throw new MycfsError(`${kind} archives are not supported; recompress it with gzip, xz or zstd`);
  }
  return whole;
}

/** A local gzip file as tar bytes, from a gunzip thread that reads the file itself (so
 * that it never waits for this thread to pass the bytes on) and computes its sha256; null
 * if the file is no gzip or the host has no zlib. Aborting `signal` ends the stream early. */
export async function gunzippedFile(path: string, signal: AbortSignal): Promise<{ tar: ReadableStream<Uint8Array>; thread: GunzipThread } | null> {
  if (compression(fileHead(path, 2)) !== "gzip") return null;
  const thread = gunzipThread(path);
  return thread && { tar: throughThread(null, thread, signal), thread };
}

/** The gunzip thread's output; its input fed from `input` as it comes, unless the thread
 * reads a file itself. The input's own errors (a download cut off, a digest that does not
 * match) come first, then the thread's verdict on the gzip stream, once all of it has
 * come out. */
function throughThread(input: ReadableStream<Uint8Array> | null, g: GunzipThread, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const source = input?.getReader();
  let inputError: unknown;
  const fed =
    source &&
    (async () => {
      const sink = Bun.file(g.input).writer();
      try {
        for (;;) {
          const { value, done } = await source.read();
          if (done) break;
          await sink.write(value);
          await sink.flush(); // to the thread now, not when the sink's buffer fills
        }
      } catch (e) {
        inputError = e;
      }
      try {
        await sink.end();
      } catch {} // the thread stopped reading: it failed, or the unpacker gave up
      close(g.input); // after the sink is done with it: the thread reads the end of the stream
    })();
  const output = Bun.file(g.output).stream().getReader();
  let released = false;
  const release = () => {
    if (released) return 0;
    released = true;
    close(g.output);
    return g.status();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        // interrupted: the unpacker's read fails at once (and it then lets the output go)
        signal?.addEventListener("abort", () => c.error(signal.reason), { once: true });
      },
      async pull(c) {
        const { value, done } = await output.read();
        if (!done) return c.enqueue(value);
        await fed;
        const status = release();
        if (inputError) c.error(inputError);
        else if (status === -E.EPIPE) c.error(new MycfsError("the gzip stream ends in the middle (truncated)"));
        else if (status < 0) c.error(new MycfsError(`the archive is not valid gzip (${errnoMessage(-status)})`));
        else c.close();
      },
      async cancel(reason) {
        // the unpacker gave up: stop reading the thread's output (it then stops writing) and
        // the input (a download stops)
        await output.cancel(reason).catch(() => {});
        await source?.cancel(reason).catch(() => {});
        await fed;
        release();
      },
    },
    { highWaterMark: 0 },
  );
}
