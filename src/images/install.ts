// Puts an image into the store: unpacked into a staging directory on the store's file
// system, then renamed into place, so the store never holds a half-written image.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { log } from "../log";
import type { Store } from "./store";
import { unpackTar } from "./unpack";

export interface ImageInfo {
  name: string;
  version: string;
  digest: string;
  size: number;
  unpacked: string;
}

export async function installImage(store: Store, info: Omit<ImageInfo, "unpacked">, archive: ReadableStream<Uint8Array>) {
  const dir = store.image(info.name);
  const t0 = performance.now();
  const stage = mkdtempSync(join(store.tmp(), `${info.name}-`));
  try {
    const n = await unpackTar(archive, join(stage, "rootfs"));
    const json: ImageInfo = { ...info, unpacked: new Date().toISOString() };
    writeFileSync(join(stage, "image.json"), `${JSON.stringify(json, null, 2)}\n`);
    // An older copy (from another mycfs version) is replaced.
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    try {
      renameSync(stage, dir);
    } catch (e) {
      // Another mycfs published the same image first: theirs is as good as ours.
      if (!existsSync(join(dir, "image.json"))) throw e;
    }
    log.debug(`unpacked ${info.name} ${info.version} (${n} entries) in ${(performance.now() - t0).toFixed(1)} ms`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
