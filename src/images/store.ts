// The store: images by name, their layers (each unpacked once, by digest, and shared),
// and per-container directories. This file is on `mycfs run`'s start path: libmycfs
// calls only, no node:fs.
//   {root}/images/{key}.json          an image: its digest, layers, config, source, when pulled
//   {root}/layers/{sha256 hex}/       one unpacked layer, read-only, shared by every image and container using it
//   {root}/containers/{id}/           a container: container.json, its overlay upper, work and mount point
//   {root}/locks/                     flock files: the store's, and one per image being pulled
//   {root}/tmp/                       staging, renamed into place when complete
import { dirname, join, resolve } from "../paths";
import { MycfsError } from "../errors";
import { fileType, lock, mkdir, readFile } from "../native/lib";
import type { ImageConfig, Platform } from "./config";
import type { ImageRef } from "./refs";

export const DEFAULT_ROOT = "/var/lib/mycfs";

/** Root's store is the system's; anyone else's lives in their XDG data directory. */
export function defaultRoot(): string {
  if (process.getuid?.() === 0) return DEFAULT_ROOT;
  return `${process.env.XDG_DATA_HOME || `${process.env.HOME}/.local/share`}/mycfs`;
}

/** mkdir -p, private; a directory another process makes meanwhile is fine. */
export function ensureDir(path: string) {
  if (fileType(path) !== null) return;
  ensureDir(dirname(path));
  mkdir(path, 0o700, true);
}

export interface ImageRecord {
  /** As the user names it: alpine:3.22, busybox:latest, https://…/rootfs.tar.gz */
  ref: string;
  version: string;
  /** Where it came from: a URL, a file, "stdin", "embedded". */
  source: string;
  /** The image's identity: its manifest's digest (a registry or an image archive), or the
   * sha256 of a plain tarball as fetched. */
  digest: string;
  /** Digests of its layers, the lowest first, each naming a directory of layers/. */
  layers: string[];
  /** What its author set: entrypoint, command, environment, user… ({} for a plain tarball). */
  config: ImageConfig;
  platform?: Platform;
  /** Bytes of file data unpacked (a tarball), or of its layers as fetched (a manifest's). */
  size: number;
  /** Entries unpacked (a tarball). */
  entries?: number;
  pulled: string;
}

/** What a container records about itself, so that rmi knows which images are in use. */
export interface ContainerRecord {
  id: string;
  image: string;
  digest: string;
  /** The image's layers it stacks, kept while it is. */
  layers: string[];
  created: string;
}

export class Store {
  readonly root: string;
  constructor(root?: string) {
    this.root = resolve(root || process.env.MYCFS_ROOT || defaultRoot());
    // overlayfs takes its layers as a comma- and colon-separated option string
    if (/[,:]/.test(this.root)) throw new MycfsError(`--root ${this.root}: the store path cannot contain ',' or ':'; choose another directory`);
  }
  imageFile(ref: ImageRef) {
    return join(this.root, "images", `${ref.key}.json`);
  }
  layer(digest: string) {
    return join(this.root, "layers", digest.replace(/^sha256:/, ""));
  }
  /** Whether every layer of the image is unpacked in the store. */
  hasLayers(image: ImageRecord): boolean {
    return image.layers.every((d) => fileType(this.layer(d)) !== null);
  }
  /** The image's layer directories, the top one first, as overlayfs stacks them. */
  layerDirs(image: ImageRecord): string[] {
    return image.layers.map((d) => this.layer(d)).reverse();
  }
  container(id: string) {
    return join(this.root, "containers", id);
  }
  /** A directory of the store, created (private to its owner) if missing. */
  dir(...parts: string[]): string {
    const path = join(this.root, ...parts);
    ensureDir(path);
    return path;
  }
  /** A staging directory on the store's file system, so that rename() can publish it. */
  tmp() {
    return this.dir("tmp");
  }

  /** The image's record, read through libmycfs: an asynchronous read costs a turn of the
   * event loop and a thread's, on `mycfs run`'s start path. */
  image(ref: ImageRef): ImageRecord | null {
    const text = readFile(this.imageFile(ref));
    const record = text === null ? null : (JSON.parse(text) as ImageRecord);
    // a record of mycfs before layers (its root file system in rootfs/): pulled again
    return record?.layers ? record : null;
  }

  /** Takes a lock under locks/: an fd to close() to release it, or null if `wait` is
   * false and another process holds it. Locks are flock()s, dropped by the kernel when
   * their holder dies, so no stale lock can outlive a killed mycfs. */
  lock(name: string, exclusive: boolean, wait = true): number | null {
    return lock(join(this.dir("locks"), `${name}.lock`), exclusive, wait);
  }
}
