// Bodies a registry sends that mycfs keeps in memory (manifests, configs, tokens, error
// messages) read up to a limit: a hostile server's endless body costs it nothing.
//
//   readBody(body, max): Promise<Uint8Array | null>     null: longer than max (cancelled)

export async function readBody(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) {
      await body.cancel().catch(() => {});
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
