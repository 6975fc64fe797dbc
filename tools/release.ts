// `npm run release`: dist/release/mycfs-linux-{x64,arm64}{,-musl} and SHA256SUMS, each
// executable with its own libmycfs, tables and busybox image, built on a Debian x86_64
// host (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, musl-tools, qemu-user-static).
//   bun tools/release.ts            all four targets
//   bun tools/release.ts --check    build all four again elsewhere and compare, byte for byte
//
// Bun's executable for each target is the @oven/bun-linux-* package of the Bun in
// package.json, from the npm registry (`npm pack` checks its integrity); `bun build
// --compile --compile-executable-path` puts the program into it. libmycfs is compiled
// for the target's C library: glibc with Debian's gcc (cross for arm64), musl with
// musl-gcc on x86_64 and, on arm64, the aarch64 gcc with the specs and files of Debian's
// musl-dev:arm64 (what musl-gcc does on an arm64 Debian). A library compiled against
// glibc's headers would not do under musl: it calls glibc-only symbols (strerrorname_np)
// and glibc's structures' layouts.
import { $ } from "bun";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildTarget, compile, debianBusybox, type Target } from "../build";
import pkg from "../package.json";
import { unpackDeb } from "./debian";

interface Release extends Target {
  /** `bun build --compile --target` */
  bunTarget: string;
  /** The npm package holding Bun's executable for the target. */
  bunPackage: string;
}

const BUN_VERSION = pkg.devDependencies.bun;
const ARCH = { x64: { gnu: "x86_64-linux-gnu", deb: "amd64", musl: "x86_64" }, arm64: { gnu: "aarch64-linux-gnu", deb: "arm64", musl: "aarch64" } };

/** Headers after the compiler's own: zlib's (gunzip.c; the library is dlopen'd at run
 * time) and, for musl, the kernel's of the target's architecture (Debian's musl has none). */
function includes(root: string, arch: "x64" | "arm64", musl: boolean): string {
  const dir = resolve(root, `include-${arch}${musl ? "-musl" : ""}`);
  if (existsSync(dir)) return dir;
  mkdirSync(dir, { recursive: true });
  const kernel = arch === "x64" ? "/usr/include" : "/usr/aarch64-linux-gnu/include";
  const asm = arch === "x64" ? "/usr/include/x86_64-linux-gnu/asm" : "/usr/aarch64-linux-gnu/include/asm";
  const links: Record<string, string> = { "zlib.h": "/usr/include/zlib.h", "zconf.h": "/usr/include/zconf.h" };
  if (musl) Object.assign(links, { linux: `${kernel}/linux`, "asm-generic": `${kernel}/asm-generic`, asm });
  for (const [name, to] of Object.entries(links)) symlinkSync(to, join(dir, name));
  return dir;
}

/** musl for arm64: Debian's musl-dev:arm64 and musl:arm64 unpacked, and its musl-gcc.specs
 * pointed at them; the aarch64 gcc with these specs is an arm64 musl-gcc. */
async function arm64MuslSpecs(root: string): Promise<string> {
  const dir = resolve(root, "musl-arm64");
  const specs = join(dir, "musl-gcc.specs");
  if (existsSync(specs)) return specs;
  await unpackDeb("musl-dev", "arm64", dir);
  await unpackDeb("musl", "arm64", dir);
  const text = readFileSync(join(dir, "usr/lib/aarch64-linux-musl/musl-gcc.specs"), "utf8")
    .replaceAll("/usr/include/aarch64-linux-musl", join(dir, "usr/include/aarch64-linux-musl"))
    .replaceAll("/usr/lib/aarch64-linux-musl", join(dir, "usr/lib/aarch64-linux-musl"))
    .replace("*link_libgcc:\n", `*link_libgcc:\n-L${join(dir, "lib/aarch64-linux-musl")} `);
  writeFileSync(specs, text);
  return specs;
}

async function targets(root: string): Promise<Release[]> {
  const all: Release[] = [];
  for (const arch of ["x64", "arm64"] as const)
    for (const libc of ["glibc", "musl"] as const) {
      const a = ARCH[arch];
      const name = `linux-${arch}${libc === "musl" ? "-musl" : ""}`;
      const gcc = `${a.gnu}-gcc`;
      const cc = libc === "glibc" ? [gcc] : arch === "x64" ? ["musl-gcc"] : [gcc, "-specs", await arm64MuslSpecs(root)];
      all.push({
        name,
        arch,
        libc,
        dir: join(root, name, "tree", "build"),
        cc,
        enterCc: [gcc],
        include: includes(root, arch, libc === "musl"),
        emulator: arch === "x64" ? [] : ["qemu-aarch64-static"],
        busybox: () => debianBusybox(a.deb, arch === "x64" ? "build/busybox-static" : join(root, "busybox-arm64")),
        bunTarget: `bun-linux-${arch}${libc === "musl" ? "-musl" : ""}`,
        bunPackage: `@oven/bun-linux-${arch === "x64" ? "x64" : "aarch64"}${libc === "musl" ? "-musl" : ""}`,
      });
    }
  return all;
}

/** Bun's executable for a target: its npm package, fetched once with `npm pack` and held to
 * the integrity package-lock.json records for it (bun's optional dependencies, one per
 * platform). */
async function bunFor(t: Release): Promise<string> {
  const dir = resolve("build/release-bun", `${t.bunPackage.replace("@oven/", "")}-${BUN_VERSION}`);
  const bin = join(dir, "package/bin/bun");
  if (existsSync(bin)) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await $`npm pack --silent ${`${t.bunPackage}@${BUN_VERSION}`}`.cwd(dir).quiet();
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  const locked = (JSON.parse(readFileSync("package-lock.json", "utf8")).packages as Record<string, { version: string; integrity: string }>)[
    `node_modules/${t.bunPackage}`
  ];
  const integrity = `sha512-${new Bun.CryptoHasher("sha512").update(readFileSync(join(dir, tgz))).digest("base64")}`;
  if (locked?.version !== BUN_VERSION || locked.integrity !== integrity)
    throw new Error(`${t.bunPackage}@${BUN_VERSION}: ${integrity} is not what package-lock.json records (${locked?.version} ${locked?.integrity})`);
  await $`tar -xzf ${tgz}`.cwd(dir);
  rmSync(join(dir, tgz));
  return bin;
}

/** The tree `bun build` bundles for a target: the sources as they are, the target's build/. */
function stageSources(t: Release) {
  const tree = resolve(t.dir, "..");
  rmSync(join(tree, "src"), { recursive: true, force: true });
  cpSync("src", join(tree, "src"), { recursive: true });
  for (const f of ["package.json", "tsconfig.json"]) cpSync(f, join(tree, f));
  if (!existsSync(join(tree, "node_modules"))) symlinkSync(resolve("node_modules"), join(tree, "node_modules"));
}

/** Builds every target into `out`; returns the files' names. */
export async function release(root: string, out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const names: string[] = [];
  for (const t of await targets(root)) {
    const t0 = performance.now();
    await buildTarget(t, true);
    stageSources(t);
    const file = `mycfs-${t.name}`;
    await compile({ cwd: resolve(t.dir, ".."), outfile: join(out, file), bunTarget: t.bunTarget, bun: await bunFor(t) });
    const embedded = statSync(join(t.dir, "libmycfs.so")).size + statSync(join(t.dir, "busybox.tar.gz")).size;
    console.error(
      `built ${join(out, file)}: ${statSync(join(out, file)).size} bytes, libmycfs and image ${embedded} bytes, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    names.push(file);
  }
  const sums = await Promise.all(
    names.map(async (f) => `${new Bun.CryptoHasher("sha256").update(await Bun.file(join(out, f)).bytes()).digest("hex")}  ${f}\n`),
  );
  writeFileSync(join(out, "SHA256SUMS"), sums.join(""));
  return [...names, "SHA256SUMS"];
}

if (import.meta.main) {
  const files = await release("build/release", "dist/release");
  if (process.argv[2] === "--check") {
    // everything again from nothing, in other directories: the same bytes, or the names of those that differ
    rmSync("build/release-check", { recursive: true, force: true });
    await release("build/release-check", "dist/release-check");
    const differ = files.filter((f) => !Buffer.from(readFileSync(join("dist/release", f))).equals(readFileSync(join("dist/release-check", f))));
    if (differ.length) {
      console.error(`not reproducible: ${differ.join(", ")} differ between dist/release and dist/release-check`);
      process.exit(1);
    }
    console.error(`reproducible: ${files.length} files identical in dist/release and dist/release-check`);
    rmSync("dist/release-check", { recursive: true, force: true });
  }
}
