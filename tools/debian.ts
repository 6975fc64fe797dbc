// Debian packages for the build and the release tests, fetched with `apt-get download`
// and unpacked into a directory, nothing installed. A package of another architecture
// (arm64's busybox, musl and kernel on an x86_64 host) comes through apt lists of its own
// under build/apt, so the host's apt configuration (`dpkg --add-architecture`) is left
// as it is.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Debian's names for Node's process.arch. */
export const DEB_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

const APT = resolve("build/apt");

/** apt-get's options: none for the host's own architecture; else lists and a cache of
 * their own that know the other architecture too, updated once. */
async function aptOptions(arch: string): Promise<string[]> {
  if (arch === DEB_ARCH[process.arch]) return [];
  const opts = [
    `-oAPT::Architectures::=${DEB_ARCH[process.arch]}`,
    `-oAPT::Architectures::=${arch}`,
    `-oDir::State::Lists=${APT}/lists`,
    `-oDir::Cache=${APT}/cache`,
    "-oDir::State::status=/var/lib/dpkg/status",
  ];
  if (!existsSync(join(APT, "lists", "updated"))) {
    for (const d of ["lists/partial", "cache/archives/partial"]) mkdirSync(join(APT, d), { recursive: true });
    await $`apt-get ${opts} -qq update`.quiet();
    await Bun.write(join(APT, "lists", "updated"), "");
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

/** Downloads Debian's package `name` for `arch` and unpacks it into `dir` (only `members`
 * of it, if given; dpkg-deb keeps the package's own modification times, so what is built
 * from it is the same on every build). */
export async function unpackDeb(name: string, arch: string, dir: string, members: string[] = []): Promise<void> {
  const opts = await aptOptions(arch);
  const tmp = mkdtempSync(join(tmpdir(), "mycfs-deb-"));
  try {
    const pkg = `${name}:${arch}`;
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
