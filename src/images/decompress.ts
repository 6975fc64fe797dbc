// An archive's compression, told by its first bytes (never by its name), undone as a
// stream. gzip and zstd are Bun's own (native zlib and zstd); xz is xz-embedded compiled
// to WebAssembly (xz-decompress), loaded only for xz input: Bun has no xz, and a child
// `xz` would make the single executable depend on a host package (see the README).
import { MycfsError } from "../errors";

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
  const whole = new ReadableStream<Uint8Array>({
    start: (c) => void (head.byteLength && c.enqueue(head)),
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  const kind = compression(head);
  if (kind === "gzip" || kind === "zstd") return whole.pipeThrough(new DecompressionStream(kind));
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
