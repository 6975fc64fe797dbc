// The image store: where unpacked images and per-container directories live.
//   {root}/images/{name}/rootfs   an image's root file system, never written by containers
//   {root}/images/{name}/image.json
//   {root}/containers/{id}/       a container's overlay upper, work and mount point
//   {root}/tmp/                   staging, renamed into place when complete
import { fileType, mkdir } from "../native/lib";
import { join, resolve } from "node:path";
import { MycfsError } from "../errors";

export const DEFAULT_ROOT = "/var/lib/mycfs";

export class Store {
  readonly root: string;
  constructor(root?: string) {
    this.root = resolve(root || process.env.MYCFS_ROOT || DEFAULT_ROOT);
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
    for (const dir of [this.root, join(this.root, "tmp")]) if (fileType(dir) === null) mkdir(dir, 0o700);
    return join(this.root, "tmp");
  }
}
