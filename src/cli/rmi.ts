import { rmSync } from "node:fs";
import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { collect, listContainers, listImages } from "../images/catalog";
import { embeddedRef, isEmbedded } from "../images/embedded";
import { parseRef } from "../images/refs";
import { Store } from "../images/store";
import { log, setDebug } from "../log";
import { close } from "../native/lib";
import { parseOptions, str } from "./argv";
import { storeArgs } from "./common";

const args = { ...storeArgs } as const;

export default defineCommand({
  meta: { name: "rmi", description: "Remove images from the store; refused while a container (running, or kept without --rm) uses one." },
  args: { ...args, image: { type: "positional", required: true, valueHint: "IMAGE...", description: "the images to remove" } },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("rmi", args, rawArgs);
    setDebug(v.debug === true);
    if (!positionals.length) throw new MycfsError("usage: mycfs rmi IMAGE...; see 'mycfs rmi --help'");
    const store = new Store(str(v.root));
    for (const name of positionals) {
      const parsed = parseRef(name);
      const ref = isEmbedded(parsed) ? embeddedRef : parsed;
      const lock = store.lock("store", true)!;
      try {
        const image = store.image(ref);
        if (!image) throw new MycfsError(`no image ${ref.display} in the store ${store.root}; see 'mycfs images'`);
        // Another name for the same content keeps it, as a docker tag does.
        const shared = listImages(store).some((i) => i.ref !== image.ref && i.digest === image.digest);
        const users = shared ? [] : listContainers(store).filter((c) => c.digest === image.digest);
        if (users.length)
          throw new MycfsError(
            `image ${ref.display} is used by ${users.length} container${users.length > 1 ? "s" : ""} (${users.map((c) => c.id.slice(0, 12)).join(", ")}); remove ${users.length > 1 ? "them" : "it"} first (mycfs has no rm command yet: rm -r ${store.container("ID")})`,
          );
        rmSync(store.imageFile(ref));
        collect(store, image.layers);
        log.info(`removed ${ref.display}`);
      } finally {
        close(lock);
      }
    }
  },
});
