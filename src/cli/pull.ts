import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { pullImage } from "../images/pull";
import { parseRef } from "../images/refs";
import { Store } from "../images/store";
import { setDebug } from "../log";
import { parseOptions, str } from "./argv";
import { pullArgs, pullOptions, storeArgs } from "./common";

const args = { ...storeArgs, ...pullArgs } as const;

export default defineCommand({
  meta: {
    name: "pull",
    description:
      "Fetch an image into the store: [REGISTRY/]NAME[:TAG|@DIGEST] from a registry (docker.io by default), alpine[:3.NN|:edge] from Alpine's mirrors, or an http(s):// tarball URL. Prints its digest.",
  },
  args: { ...args, image: { type: "positional", required: true, valueHint: "IMAGE", description: "what to pull" } },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("pull", args, rawArgs);
    setDebug(v.debug === true);
    const [image, ...extra] = positionals;
    if (!image || extra.length) throw new MycfsError("usage: mycfs pull [options] IMAGE; see 'mycfs pull --help'");
    const ref = parseRef(image);
    const opts = pullOptions(v);
    if (opts.sha256 && !ref.url) throw new MycfsError(`--sha256 pins a URL's archive; ${ref.display} is checked against its own index`);
    const record = await pullImage(new Store(str(v.root)), ref, opts);
    console.log(record.digest);
  },
});
