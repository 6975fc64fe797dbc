import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { interruptible } from "../images/pull";
import { saveImage } from "../images/save";
import { Store } from "../images/store";
import { setDebug } from "../log";
import { isatty } from "../native/lib";
import { parseOptions, str } from "./argv";
import { storeArgs } from "./common";

const args = {
  ...storeArgs,
  output: { type: "string", alias: "o", valueHint: "FILE|-", description: "the archive to write (- or none: standard output, unless it is a terminal)" },
} as const;

export default defineCommand({
  meta: { name: "save", description: "Write an image as an OCI image layout tar archive, for podman load, skopeo or umoci." },
  args: { ...args, image: { type: "positional", required: true, valueHint: "IMAGE", description: "the image to save" } },
  async run({ rawArgs }) {
    // options before the image or after it, as docker takes them: `mycfs save busybox -o b.tar`
    const before = parseOptions("save", args, rawArgs);
    const [image, ...rest] = before.positionals;
    const after = parseOptions("save", args, rest);
    const v = { ...before.values, ...after.values };
    setDebug(v.debug === true);
    if (!image || after.positionals.length) throw new MycfsError("usage: mycfs save [options] IMAGE [-o FILE]; see 'mycfs save --help'");
    const output = str(v.output) ?? "-";
    if (output === "-" && isatty(1)) throw new MycfsError("mycfs save writes a tar archive, not for a terminal: give -o FILE, or redirect standard output");
    await interruptible((signal) => saveImage(new Store(str(v.root)), image, output === "-" ? null : output, signal));
  },
});
