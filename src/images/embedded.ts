// The busybox image that build.ts embeds in the executable: one image of the store like
// any other, installed from the executable itself on first use, so `mycfs run` works offline.
import tarball from "../../build/busybox.tar.gz" with { type: "file" };
import info from "../../build/busybox.json";
import { parseRef, type ImageRef } from "./refs";
import type { ImageRecord, Store } from "./store";

export const EMBEDDED = info as { name: string; version: string; digest: string; size: number };
export const embeddedRef = parseRef(EMBEDDED.name);

/** busybox, busybox:latest, or busybox:{its version}. */
export function isEmbedded(ref: ImageRef): boolean {
  return !ref.registry && ref.name === EMBEDDED.name && (ref.tag === "latest" || ref.tag === EMBEDDED.version);
}

export async function installEmbedded(store: Store, signal: AbortSignal): Promise<ImageRecord> {
  // first use only, so the unpacking code (and node:fs) stays off the start path
  const { installImage } = await import("./install");
  return installImage(store, {
    ref: embeddedRef,
    version: EMBEDDED.version,
    source: "embedded",
    archive: () => Bun.file(tarball).stream(),
    expect: { sha256: EMBEDDED.digest.replace(/^sha256:/, "") },
    signal,
  });
}
