// The busybox image that build.ts embeds in the executable: unpacked into the store on
// first use, reused after, so `mycfs run` works offline.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import tarball from "../../build/busybox.tar.gz" with { type: "file" };
import info from "../../build/busybox.json";
import { log } from "../log";
import type { Store } from "./store";

export const EMBEDDED = info as { name: string; version: string; digest: string; size: number };

export function isEmbeddedName(ref: string): boolean {
  const [name, tag = "latest"] = ref.split(":");
  return name === EMBEDDED.name && (tag === "latest" || tag === EMBEDDED.version);
}

interface ImageJson { name: string; version: string; digest: string; size: number; unpacked: string }

/** Returns the embedded image's root file system directory, unpacking it if needed. */
export async function ensureEmbedded(store: Store): Promise<string> {
  const dir = store.image(EMBEDDED.name);
  const meta = join(dir, "image.json");
  if (existsSync(meta)) {
    const have = (await Bun.file(meta).json()) as ImageJson;
    if (have.digest === EMBEDDED.digest) return join(dir, "rootfs");
  }
  const t0 = performance.now();
  const stage = mkdtempSync(join(store.tmp(), `${EMBEDDED.name}-`));
  try {
    const archive = Bun.file(tarball).stream().pipeThrough(new DecompressionStream("gzip"));
    const { unpackTar } = await import("./unpack"); // only on first use: not on the start path
    const n = await unpackTar(archive, join(stage, "rootfs"));
    const json: ImageJson = { ...EMBEDDED, unpacked: new Date().toISOString() };
    writeFileSync(join(stage, "image.json"), `${JSON.stringify(json, null, 2)}\n`);
    // Publish atomically; an older copy (from another mycfs version) is replaced.
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    try {
      renameSync(stage, dir);
    } catch (e) {
      // Another mycfs published the same image first: theirs is as good as ours.
      if (!existsSync(meta)) throw e;
    }
    log.debug(`unpacked the embedded ${EMBEDDED.name} image (${n} entries) in ${(performance.now() - t0).toFixed(1)} ms`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return join(dir, "rootfs");
}
