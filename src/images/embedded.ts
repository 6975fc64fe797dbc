// The busybox image that build.ts embeds in the executable: unpacked into the store on
// first use, reused after, so `mycfs run` works offline.
import { join } from "node:path";
import tarball from "../../build/busybox.tar.gz" with { type: "file" };
import info from "../../build/busybox.json";
import { fileType } from "../native/lib";
import type { ImageInfo } from "./install";
import type { Store } from "./store";

export const EMBEDDED = info as Omit<ImageInfo, "unpacked">;

export function isEmbeddedName(ref: string): boolean {
  const [name, tag = "latest"] = ref.split(":");
  return name === EMBEDDED.name && (tag === "latest" || tag === EMBEDDED.version);
}

/** Returns the embedded image's root file system directory, unpacking it if needed. */
export async function ensureEmbedded(store: Store): Promise<string> {
  const dir = store.image(EMBEDDED.name);
  const meta = join(dir, "image.json");
  if (fileType(meta) !== null && ((await Bun.file(meta).json()) as ImageInfo).digest === EMBEDDED.digest)
    return join(dir, "rootfs");
  // first use only, so the unpacking code (and node:fs) stays off the start path
  const { installImage } = await import("./install");
  await installImage(store, EMBEDDED, Bun.file(tarball).stream().pipeThrough(new DecompressionStream("gzip")));
  return join(dir, "rootfs");
}
