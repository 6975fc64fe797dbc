import { defineCommand } from "citty";
import { resolve } from "../paths";
import { MycfsError } from "../errors";
import { archiveSource } from "../images/archive-source";
import { fetchImage } from "../images/fetch-image";
import { installImage } from "../images/install";
import { parsePlatform } from "../images/platform";
import { interruptible, lockImage } from "../images/pull";
import { parseRef } from "../images/refs";
import { Store } from "../images/store";
import { setDebug } from "../log";
import { close, fileType, S_IFMT } from "../native/lib";
import { parseOptions, str } from "./argv";
import { pullArgs, storeArgs } from "./common";

const args = {
  ...storeArgs,
  devices: pullArgs.devices,
  platform: { type: "string", valueHint: "OS/ARCH[/VARIANT]", description: "the platform to take from an archive of several (default the host's)" },
} as const;

export default defineCommand({
  meta: {
    name: "import",
    description:
      "Add an image to the store: a root file system tarball (tar, gzip, xz or zstd), a `docker save` archive, or an OCI image layout (a directory or a tar). Prints its digest.",
  },
  args: {
    ...args,
    file: {
      type: "positional",
      required: true,
      valueHint: "FILE|-",
      description: "the tarball, archive or layout, or - for a tarball on standard input (docker export c | mycfs import - name)",
    },
    name: { type: "positional", required: false, valueHint: "NAME[:TAG]", description: "the image's name (an archive's own by default)" },
  },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("import", args, rawArgs);
    setDebug(v.debug === true);
    const [file, name, ...extra] = positionals;
    if (!file || extra.length) throw new MycfsError("usage: mycfs import [options] FILE|DIR|- [NAME[:TAG]]; see 'mycfs import --help'");
    const type = file === "-" ? null : fileType(file);
    if (file !== "-" && type !== S_IFMT.REG && type !== S_IFMT.DIR)
      throw new MycfsError(`${file}: no such file; give a tarball, an image archive or layout, or - for standard input`);
    const archive = file === "-" ? null : await archiveSource(resolve(file));
    if (type === S_IFMT.DIR && !archive)
      throw new MycfsError(`${file}: a directory that is no OCI image layout (oci-layout, index.json); to run a root file system directory, use --rootfs`);
    const named = name ?? (archive?.names.length === 1 ? archive.names[0] : undefined);
    if (!named)
      throw new MycfsError(
        archive?.names.length ? `${file} holds several images (${archive.names.join(", ")}); name the one to import` : `${file}: give the image a NAME[:TAG]`,
      );
    const ref = parseRef(named);
    if (ref.url) throw new MycfsError(`import names an image NAME[:TAG]; to fetch ${named}, use 'mycfs pull ${named}'`);
    const platform = str(v.platform);
    const store = new Store(str(v.root));
    const record = await interruptible(async (signal) => {
      const lock = await lockImage(store, ref);
      try {
        if (archive)
          return await fetchImage(store, ref, archive, ref.tag, {
            platform: platform ? parsePlatform(platform) : undefined,
            devices: v.devices === true,
            signal,
          });
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
