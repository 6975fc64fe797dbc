import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { listImages } from "../images/catalog";
import { formatPlatform } from "../images/platform";
import { size } from "../images/progress";
import { Store } from "../images/store";
import { parseOptions, str } from "./argv";
import { storeArgs } from "./common";

const args = { ...storeArgs, digests: { type: "boolean", description: "show whole digests" } } as const;

export default defineCommand({
  meta: { name: "images", description: "List the images in the store: name, version, platform, layers, size, digest, when pulled." },
  args,
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("images", args, rawArgs);
    if (positionals.length) throw new MycfsError("mycfs images takes no arguments; see 'mycfs images --help'");
    const rows = listImages(new Store(str(v.root))).map((i) => [
      i.ref,
      i.version || "-",
      i.platform ? formatPlatform(i.platform) : "-",
      String(i.layers.length),
      size(i.size),
      v.digests ? i.digest : i.digest.slice(0, 19),
      i.pulled.slice(0, 19).replace("T", " "),
    ]);
    const table = [["NAME", "VERSION", "PLATFORM", "LAYERS", "SIZE", "DIGEST", "PULLED (UTC)"], ...rows];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
    for (const r of table)
      console.log(
        r
          .map((cell, c) => (c === 3 || c === 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
          .join("  ")
          .trimEnd(),
      );
  },
});
