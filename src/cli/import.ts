import { defineCommand } from "citty";
import { resolve } from "../paths";
import { MycfsError } from "../errors";
import { installImage } from "../images/install";
import { interruptible, lockImage } from "../images/pull";
import { parseRef } from "../images/refs";
import { Store } from "../images/store";
import { setDebug } from "../log";
import { close, fileType, S_IFMT } from "../native/lib";
import { parseOptions, str } from "./argv";
import { pullArgs, storeArgs } from "./common";

const args = { ...storeArgs, devices: pullArgs.devices } as const;

export default defineCommand({
  meta: { name: "import", description: "Add a root file system tarball (tar, gzip, xz or zstd) to the store as an image. Prints its digest." },
  args: {
    ...args,
    file: {
      type: "positional",
      required: true,
      valueHint: "FILE|-",
      description: "the tarball, or - for standard input (docker export c | mycfs import - name)",
    },
    name: { type: "positional", required: true, valueHint: "NAME[:TAG]", description: "the image's name" },
  },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("import", args, rawArgs);
    setDebug(v.debug === true);
    const [file, name, ...extra] = positionals;
    if (!file || !name || extra.length) throw new MycfsError("usage: mycfs import [options] FILE|- NAME[:TAG]; see 'mycfs import --help'");
    const ref = parseRef(name);
    if (ref.url) throw new MycfsError(`import names an image NAME[:TAG]; to fetch ${name}, use 'mycfs pull ${name}'`);
    if (file !== "-" && fileType(file) !== S_IFMT.REG) throw new MycfsError(`${file}: no such file; give a tarball, or - for standard input`);
    const store = new Store(str(v.root));
    const record = await interruptible(async (signal) => {
      const lock = await lockImage(store, ref);
      try {
        return await installImage(store, {
          ref,
          version: "",
          source: file === "-" ? "stdin" : resolve(file),
          devices: v.devices === true,
          signal,
          archive: () => (file === "-" ? Bun.stdin.stream() : Bun.file(file).stream()),
          file: file === "-" ? undefined : file,
        });
      } finally {
        close(lock);
      }
    });
    console.log(record.digest);
  },
});
