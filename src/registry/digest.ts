// Content addressing: a blob's bytes must hash to the digest that named it. A blob is
// checked while it streams, and its stream ends with an error instead of its end when the
// bytes are not the ones named, so that no consumer takes them for complete.
//
//   sha256(bytes): string                          "sha256:<64 hex>"
//   verified(body, { digest, size }, what): ReadableStream<Uint8Array>
import { MycfsError } from "../errors";

export const sha256 = (bytes: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;

export function verified(body: ReadableStream<Uint8Array>, expect: { digest: string; size: number }, what: string): ReadableStream<Uint8Array> {
  const hasher = new Bun.CryptoHasher("sha256");
  const reader = body.getReader();
  let size = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) {
          const digest = `sha256:${hasher.digest("hex")}`;
          if (size !== expect.size) return controller.error(new MycfsError(`${what} ended after ${size} of its ${expect.size} bytes`));
          if (digest !== expect.digest) return controller.error(new MycfsError(`digest mismatch: ${what} has ${digest}, expected ${expect.digest}`));
          return controller.close();
        }
        size += value.byteLength;
        // more than the manifest said: wrong, and perhaps endless
        if (size > expect.size) {
          await reader.cancel();
          return controller.error(new MycfsError(`${what} is larger than the ${expect.size} bytes its manifest gives`));
        }
        hasher.update(value);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
