// The image store: where unpacked images and per-container directories live.
//   {root}/images/{name}/rootfs   an image's root file system, never written by containers
//   {root}/images/{name}/image.json
//   {root}/containers/{id}/       a container's overlay upper, work and mount point
//   {root}/tmp/                   staging, renamed into place when complete
import { fileType, mkdir } from "../native/lib";
import { dirname, join, resolve } from "node:path";
import { MycfsError } from "../errors";

export const DEFAULT_ROOT = "/var/lib/mycfs";

/** Root's store is the system's; anyone else's lives in their XDG data directory. */
export function defaultRoot(): string {
  if (process.getuid?.() === 0) return DEFAULT_ROOT;
  return `${process.env.XDG_DATA_HOME || `${process.env.HOME}/.local/share`}/mycfs`;
}

/** mkdir -p, private. */
export function ensureDir(path: string) {
  if (fileType(path) !== null) return;
  ensureDir(dirname(path));
  mkdir(path, 0o700);
}

export class Store {
  readonly root: string;
  constructor(root?: string) {
    this.root = resolve(root || process.env.MYCFS_ROOT || defaultRoot());
    // overlayfs takes its layers as a comma- and colon-separated option string
    if (/[,:]/.test(this.root))
      throw new MycfsError(`--root ${this.root}: the store path cannot contain ',' or ':'; choose another directory`);
  }
  image(name: string) {
    return join(this.root, "images", name);
  }
  container(id: string) {
    return join(this.root, "containers", id);
  }
  /** A staging directory on the store's file system, so that rename() can publish it. */
  tmp() {
    ensureDir(join(this.root, "tmp"));
    return join(this.root, "tmp");
  }
}
