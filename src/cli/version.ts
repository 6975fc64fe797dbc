// `mycfs version` and `mycfs --version`: which binary this is, for a bug report. The
// build's own description (version, commit, target) is written by build.ts; Bun's and
// libmycfs's are asked of them as they run.
import { defineCommand } from "citty";
import info from "../../build/build-info.json";
import { MycfsError } from "../errors";
import { libraryBuild, libraryPath } from "../native/lib";
import { parseOptions } from "./argv";

export interface VersionInfo {
  version: string;
  /** The source's commit, "-dirty" when built from a tree that differed from it. */
  commit: string;
  /** The release target: linux-x64, linux-arm64-musl, …. */
  target: string;
  bun: string;
  /** Compiler, C library and architecture libmycfs was built for, and its digest. */
  libmycfs: { build: string; sha256: string };
}

export async function versionInfo(): Promise<VersionInfo> {
  const lib = await Bun.file(libraryPath).bytes();
  return {
    version: info.version,
    commit: info.commit,
    target: info.target,
    bun: `${Bun.version} (${Bun.revision.slice(0, 12)})`,
    libmycfs: { build: libraryBuild(), sha256: new Bun.CryptoHasher("sha256").update(lib).digest("hex") },
  };
}

/** One line, as `--version` prints it. */
export const versionLine = (v: VersionInfo) =>
  `mycfs ${v.version} (commit ${v.commit.slice(0, 12)}${v.commit.endsWith("-dirty") ? "-dirty" : ""}, ${v.target}, bun ${Bun.version}, libmycfs ${v.libmycfs.build})`;

const args = { format: { type: "string", valueHint: "json", description: "json: one JSON object" } } as const;

export default defineCommand({
  meta: { name: "version", description: "Show the version, commit, target, Bun's version and libmycfs's build of this mycfs." },
  args,
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("version", args, rawArgs);
    if (positionals.length) throw new MycfsError("usage: mycfs version [--format json]; see 'mycfs version --help'");
    if (v.format !== undefined && v.format !== "json") throw new MycfsError(`--format ${v.format}: unknown format; use --format json`);
    const info = await versionInfo();
    if (v.format === "json") return void console.log(JSON.stringify(info));
    console.log(
      [
        `version:  ${info.version}`,
        `commit:   ${info.commit}`,
        `target:   ${info.target}`,
        `bun:      ${info.bun}`,
        `libmycfs: ${info.libmycfs.build}`,
        `          sha256:${info.libmycfs.sha256}`,
      ].join("\n"),
    );
  },
});
