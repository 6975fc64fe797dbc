// Pulling an image: where it comes from (a registry, the embedded busybox, an Alpine
// mirror's index, a URL), one pull at a time per image (a lock), downloaded with progress,
// and installed while its digest is checked. Ctrl-C leaves nothing behind.
import { MycfsError } from "../errors";
import { log } from "../log";
import { close } from "../native/lib";
import { alpineIndexUrl, alpineRelease, DEFAULT_MIRROR, type Release } from "./alpine";
import { download, fetchText, type DownloadOptions } from "./download";
import { EMBEDDED, embeddedRef, installEmbedded, isEmbedded } from "./embedded";
import { installImage } from "./install";
import { progress, size } from "./progress";
import { fetchImage } from "./fetch-image";
import type { Platform } from "./config";
import type { ImageRef } from "./refs";
import type { ImageRecord, Store } from "./store";

export interface PullOptions {
  /** Alpine mirror (default $MYCFS_MIRROR, else Alpine's CDN). */
  mirror?: string;
  /** The sha256 a URL's archive must have. */
  sha256?: string;
  /** Seconds without data before a download attempt is given up. */
  timeout?: number;
  devices?: boolean;
  /** A registry's image for this platform (--platform; default the host's). */
  platform?: Platform;
  /** --insecure-registry, --registry-ca */
  insecure?: boolean;
  caFile?: string;
}

const RETRIES = 3;
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/** Runs fn with a signal that SIGINT, SIGTERM or SIGHUP abort, so that it can clean up
 * and fail with 128+N rather than die half-way. */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const stop = (sig: keyof typeof SIGNALS) => ctl.abort(new MycfsError(`interrupted by ${sig}; nothing was stored`, 128 + SIGNALS[sig]));
  for (const s of Object.keys(SIGNALS)) process.on(s, stop);
  try {
    return await fn(ctl.signal);
  } finally {
    for (const s of Object.keys(SIGNALS)) process.off(s, stop);
  }
}

/** An exclusive lock for one image, so that concurrent pulls of it take turns. */
export async function lockImage(store: Store, ref: ImageRef): Promise<number> {
  const name = `image-${ref.key.replaceAll("/", "@")}`;
  let fd = store.lock(name, true, false);
  if (fd === null) log.info(`waiting for another mycfs that is pulling ${ref.display}`);
  while (fd === null) {
    await Bun.sleep(100);
    fd = store.lock(name, true, false);
  }
  return fd;
}

async function locate(ref: ImageRef, opts: PullOptions, dl: DownloadOptions): Promise<Release> {
  if (ref.url) return { url: ref.url, version: "", sha256: opts.sha256 };
  if (ref.name === "alpine") {
    const mirror = opts.mirror || process.env.MYCFS_MIRROR || DEFAULT_MIRROR;
    if (!URL.canParse(mirror)) throw new MycfsError(`mirror '${mirror}' is not a URL (--mirror, $MYCFS_MIRROR)`);
    const index = alpineIndexUrl(mirror, ref);
    return alpineRelease(index, await fetchText(index, dl));
  }
  throw new MycfsError(
    `unknown image '${ref.display.replace(/:latest$/, "")}': ${embeddedRef.name} is the embedded ${embeddedRef.name}:${EMBEDDED.version}; for another tag of docker.io's, name it docker.io/library/${ref.display}`,
  );
}

export async function pullImage(store: Store, ref: ImageRef, opts: PullOptions): Promise<ImageRecord> {
  return interruptible(async (signal) => {
    const lock = await lockImage(store, ref);
    try {
      if (isEmbedded(ref)) return await installEmbedded(store, signal);
      if (ref.registry) {
        const { Registry } = await import("../registry/client");
        const registry = new Registry(
          { registry: ref.registry.host, repository: ref.registry.repository },
          { insecure: opts.insecure, caFile: opts.caFile, timeout: opts.timeout && opts.timeout * 1000, signal },
        );
        log.info(`pulling ${ref.display} from ${registry.name}`);
        return await fetchImage(store, ref, registry, ref.digest ?? ref.tag, { platform: opts.platform, devices: opts.devices, signal });
      }
      const dl: DownloadOptions = { timeout: (opts.timeout ?? 30) * 1000, retries: RETRIES, signal };
      const release = await locate(ref, opts, dl);
      const have = store.image(ref);
      if (have && release.sha256 && have.digest === `sha256:${release.sha256}` && store.hasLayers(have)) {
        log.info(`${ref.display} is up to date${have.version ? ` (${have.version})` : ""}`);
        return have;
      }
      log.info(`pulling ${ref.display}${release.version ? ` ${release.version}` : ""} from ${release.url}`);
      const t0 = performance.now();
      const d = download(release.url, dl);
      const bar = progress(ref.display, d.total);
      let bytes = 0;
      let record: ImageRecord;
      try {
        record = await installImage(store, {
          ref,
          version: release.version,
          source: release.url,
          archive: () => d.body,
          expect: { sha256: release.sha256, sha512: release.sha512 },
          devices: opts.devices,
          signal,
          onBytes: (n) => bar.update((bytes = n)),
        });
      } finally {
        bar.end();
      }
      const secs = (performance.now() - t0) / 1000;
      log.info(`pulled ${ref.display}${record.version ? ` ${record.version}` : ""}: ${size(bytes)} in ${secs.toFixed(1)} s, ${record.digest}`);
      if (ref.url && !release.sha256) log.info(`to pin this image next time: --sha256 ${record.digest.slice(7)}`);
      return record;
    } finally {
      close(lock);
    }
  });
}
