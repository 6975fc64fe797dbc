// Storing an image from a source of manifests and blobs (source.ts): the manifest for the
// platform, the config, then the layers, three at a time as docker fetches them, each
// unpacked as it streams and stored once by its digest. Layers the store already has are
// not fetched again, so a pull of a known image fetches its manifest and config only.
import { log } from "../log";
import { fileType } from "../native/lib";
import type { Platform } from "./config";
import { discardLayers, installLayer, publishImage } from "./install";
import { ProgressBoard, rate, size } from "./progress";
import { formatPlatform } from "./platform";
import type { ImageRef } from "./refs";
import { resolveImage } from "./resolve";
import type { ImageSource } from "./source";
import type { ImageRecord, Store } from "./store";

/** Layers fetched at once (docker's max-concurrent-downloads). */
const CONCURRENT = 3;

export interface FetchOptions {
  /** --platform; the host's by default. */
  platform?: Platform;
  devices?: boolean;
  signal: AbortSignal;
}

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

/** Runs `fn` on each item, at most `n` at a time; the first failure stops the rest. */
async function eachLimited<T>(items: T[], n: number, signal: AbortSignal, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export async function fetchImage(store: Store, ref: ImageRef, source: ImageSource, reference: string, o: FetchOptions): Promise<ImageRecord> {
  const t0 = performance.now();
  const image = await resolveImage(source, reference, { platform: o.platform });
  const { manifest } = image;
  const have = store.image(ref);
  // (the same digest of an index names another platform's layers)
  const layers = manifest.layers.map((l) => l.digest);
  if (have?.digest === image.digest && `${have.layers}` === `${layers}` && store.hasLayers(have)) {
    log.info(`${ref.display} is up to date (${image.digest})`);
    return have;
  }
  const board = new ProgressBoard();
  // a failed pull takes its own new layers away again (the store keeps none nothing uses)
  const fetched: string[] = [];
  let bytes = 0;
  const abort = new AbortController();
  const signal = AbortSignal.any([o.signal, abort.signal]);
  try {
    await eachLimited(manifest.layers, CONCURRENT, signal, async (layer) => {
      const line = board.add(`${short(layer.digest)}: waiting`);
      if (fileType(store.layer(layer.digest)) !== null) return board.set(line, `${short(layer.digest)}: already stored`, true);
      const since = performance.now();
      const blob = source.blob(layer);
      try {
        await installLayer(store, {
          what: `${ref.display} layer ${layer.digest}`,
          source: source.name,
          archive: () => blob.body,
          file: blob.file,
          expect: { sha256: layer.digest.replace(/^sha256:/, "") },
          devices: o.devices,
          whiteouts: true,
          signal,
          onBytes: (n) => board.set(line, `${short(layer.digest)}: ${rate(n, blob.total() ?? layer.size, since)}`),
        });
      } catch (e) {
        abort.abort(e);
        throw e;
      }
      fetched.push(layer.digest);
      bytes += layer.size;
      board.set(line, `${short(layer.digest)}: ${size(layer.size)} in ${((performance.now() - since) / 1000).toFixed(1)} s`, true);
    });
    const record: ImageRecord = {
      ref: ref.display,
      version: image.config.Labels?.["org.opencontainers.image.version"] ?? "",
      source: source.name,
      digest: image.digest,
      layers,
      config: image.config,
      platform: image.platform,
      size: manifest.layers.reduce((n, l) => n + l.size, 0),
      pulled: new Date().toISOString(),
    };
    publishImage(store, ref, record);
    const secs = (performance.now() - t0) / 1000;
    log.info(
      `${ref.display} (${formatPlatform(image.platform)}): ${manifest.layers.length} layers, ${size(bytes)} fetched in ${secs.toFixed(1)} s, ${image.digest}`,
    );
    return record;
  } catch (e) {
    discardLayers(store, fetched);
    throw e;
  }
}
