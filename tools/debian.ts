// Debian packages for the build and the release tests, fetched with `apt-get download`
// and unpacked into a directory, nothing installed. A package of another architecture
// (arm64's busybox, musl and kernel on an x86_64 host), or from the release's backports
// (a newer QEMU), comes through apt lists of its own under build/apt, so the host's apt
// configuration (`dpkg --add-architecture`, its sources) is left as it is.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Debian's names for Node's process.arch. */
export const DEB_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

const APT = resolve("build/apt");

/** The host's main Debian archive and release, as apt-cache policy lists them. */
async function mainArchive(): Promise<{ uri: string; release: string }> {
  const policy = await $`apt-cache policy`.text();
  const m = /^\s*\d+ (\S+) (\w+)\/main \w+ Packages$/m.exec(
    policy
      .split("\n")
      .filter((l) => !/-(security|updates|backports)\//.test(l))
      .join("\n"),
  );
  if (!m) throw new Error(`apt-cache policy names no main archive (run apt-get update):\n${policy}`);
  return { uri: m[1]!, release: m[2]! };
}

/** apt-get's options: none for the host's own architecture and sources; else lists and a
 * cache of their own that know the other architecture, or the backports of the host's
 * release, updated once. */
async function aptOptions(arch: string, backports = false): Promise<string[]> {
  if (arch === DEB_ARCH[process.arch] && !backports) return [];
  const dir = join(APT, backports ? "backports" : "multiarch");
  const opts = [
    `-oAPT::Architectures::=${DEB_ARCH[process.arch]}`,
    `-oAPT::Architectures::=${arch}`,
    `-oDir::State::Lists=${dir}/lists`,
    `-oDir::Cache=${dir}/cache`,
    "-oDir::State::status=/var/lib/dpkg/status",
  ];
  if (backports) opts.push(`-oDir::Etc::SourceList=${dir}/sources.list`, `-oDir::Etc::SourceParts=${dir}/none`);
  if (!existsSync(join(dir, "lists", "updated"))) {
    for (const d of ["lists/partial", "cache/archives/partial"]) mkdirSync(join(dir, d), { recursive: true });
    if (backports) {
      const { uri, release } = await mainArchive();
      await Bun.write(join(dir, "sources.list"), `deb ${uri} ${release}-backports main\n`);
    }
    await $`apt-get ${opts} -qq update`.quiet();
    await Bun.write(join(dir, "lists", "updated"), "");
  }
  return opts;
}

/** The package apt-cache says `name` (a metapackage such as linux-image-arm64) depends on
 * first, matching `pattern`. */
export async function dependency(name: string, arch: string, pattern: RegExp): Promise<string> {
  const opts = await aptOptions(arch);
  const out = await $`apt-cache ${opts} depends ${`${name}:${arch}`}`.nothrow().text();
  const found = [...out.matchAll(/Depends: ([\w.+:-]+)/g)].map((m) => m[1]!.replace(/:\w+$/, "")).find((p) => pattern.test(p));
  if (!found) throw new Error(`apt-cache knows no ${pattern} for ${name}:${arch} (run apt-get update):\n${out}`);
  return found;
}

/** Downloads Debian's package `name` for `arch` (from the backports of the host's release,
 * if asked) and unpacks it into `dir` (only `members` of it, if given; dpkg-deb keeps the
 * package's own modification times, so what is built from it is the same on every build). */
export async function unpackDeb(name: string, arch: string, dir: string, members: string[] = [], o: { backports?: boolean } = {}): Promise<void> {
  const opts = await aptOptions(arch, o.backports);
  const tmp = mkdtempSync(join(tmpdir(), "mycfs-deb-"));
  try {
    const pkg = `${name}:${arch}${o.backports ? `/${(await mainArchive()).release}-backports` : ""}`;
    // apt-get download needs no root, but fresh package lists may need an update first
    let got = await $`apt-get ${opts} download ${pkg}`.cwd(tmp).quiet().nothrow();
    if (got.exitCode !== 0 && process.getuid?.() === 0) {
      await $`apt-get ${opts} update -qq`.quiet();
      got = await $`apt-get ${opts} download ${pkg}`.cwd(tmp).quiet().nothrow();
    }
    if (got.exitCode !== 0) throw new Error(`could not fetch Debian's ${pkg}: ${got.stderr.toString().trim()}`);
    const deb = join(tmp, readdirSync(tmp).find((f) => f.endsWith(".deb"))!);
    mkdirSync(dir, { recursive: true });
    if (members.length) await $`dpkg-deb --fsys-tarfile ${deb} | tar -x -C ${dir} --wildcards ${members}`;
    else await $`dpkg-deb -x ${deb} ${dir}`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
