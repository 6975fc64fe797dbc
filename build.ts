// Builds dist/mycfs: compiles csrc/ into libmycfs.so, makes the embedded busybox image,
// and bundles both into one executable with `bun build --compile`.
//   bun build.ts          everything
//   bun build.ts lib      libmycfs and the compiled tables only: what the unit tests load
//   MYCFS_BUSYBOX=/path   use this static busybox instead of Debian's busybox-static
// The release build (tools/release.ts) runs the same steps for each target of a release.
import { $ } from "bun";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import pkg from "./package.json";
import { DEB_ARCH, unpackDeb } from "./tools/debian";

/** What one executable is built for: the host (`bun build.ts`), or a release target. */
export interface Target {
  /** linux-x64, linux-arm64-musl, …: the release file's suffix and what `mycfs version` says. */
  name: string;
  arch: "x64" | "arm64";
  libc: "glibc" | "musl";
  /** Where its libmycfs, image and tables are built. */
  dir: string;
  /** The compiler (and its options) for libmycfs. */
  cc: string[];
  /** The compiler for the enter program, which uses no C library. */
  enterCc: string[];
  /** Headers found after the compiler's own: zlib's, and the kernel's for a musl compiler. */
  include?: string;
  /** How a static program of the target's runs here: itself, or under qemu-user. */
  emulator: string[];
  /** A static busybox of the target's architecture and its license notice. */
  busybox: () => Promise<{ binary: string; copyright: string }>;
}

function stale(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return true;
  const t = statSync(out).mtimeMs;
  return inputs.some((f) => statSync(f).mtimeMs > t);
}

/** The files whose code the cloned child runs: csrc/child/. It may share mycfs's memory
 * (csrc/api.c), so they may call no C library function that keeps state, errno included:
 * only these. */
const CHILD = "csrc/child";
const cFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.[ch]$/.test(f))
    .map((f) => join(dir, f));
const PURE_LIBC = /^(memcpy|memmove|memset|memchr|memcmp|strlen|strchr|strchrnul|strrchr|strcmp|__stack_chk_fail|__\w+_chk)$/;

/** Symbols that `nm` lists for an object file: its undefined ones, or its defined ones. */
async function symbols(obj: string, undefinedOnly: boolean): Promise<string[]> {
  const out = await $`nm --format=posix ${undefinedOnly ? "--undefined-only" : "--defined-only"} ${obj}`.text();
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[0]!);
}

/** The enter program (csrc/enter/main.c, how `mycfs exec` enters a container): the
 * child's plan walker as a static executable with no C library at all (csrc/enter/libc.c
 * has the few functions it uses), so that it is small and holds nothing of mycfs's.
 * libmycfs embeds it (csrc/enter_image.c). */
const FREESTANDING = [
  ...["-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie", "-fno-stack-protector", "-U_FORTIFY_SOURCE", "-fno-asynchronous-unwind-tables"],
  ...["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wl,--gc-sections", "-ffunction-sections", "-fdata-sections", "-s"],
];
async function buildEnter(t: Target) {
  const ENTER = join(t.dir, "mycfs-enter");
  const sources = [...cFiles(CHILD), ...cFiles("csrc/enter")];
  if (!stale(ENTER, [...sources, "csrc/mycfs.h", "csrc/protocol.h"])) return;
  await $`${t.enterCc} ${FREESTANDING} -o ${ENTER} ${sources.filter((f) => f.endsWith(".c"))} -lgcc`;
}

/** The front (csrc/front/main.c), dist/mycfs's first part: runc's start and delete
 * without Bun (the lifecycle code libmycfs has too), else the Bun part it carries. Built as
 * the enter program is, without a C library. */
const FRONT_SOURCES = [...cFiles("csrc/front"), "csrc/enter/libc.c", "csrc/oci_lifecycle.c"];
async function buildFront(t: Target) {
  const FRONT = join(t.dir, "mycfs-front");
  if (!stale(FRONT, [...FRONT_SOURCES, "csrc/mycfs.h", "csrc/protocol.h", `${CHILD}/sys.h`])) return;
  await $`${t.enterCc} ${FREESTANDING} -o ${FRONT} ${FRONT_SOURCES.filter((f) => f.endsWith(".c"))} -lgcc`;
}

async function buildLibrary(t: Target) {
  const sources = [...cFiles("csrc"), ...cFiles(CHILD)];
  const out = join(t.dir, "libmycfs.so");
  const ENTER = join(t.dir, "mycfs-enter");
  if (!stale(out, [...sources, ENTER])) return;
  const objDir = join(t.dir, "obj");
  // -Wa,-I: where enter_image.c's .incbin finds this target's enter program
  const include = [...(t.include ? ["-idirafter", t.include] : []), `-Wa,-I${t.dir}`];
  mkdirSync(objDir, { recursive: true });
  const cfiles = sources.filter((s) => s.endsWith(".c"));
  const objects = cfiles.map((c) => join(objDir, c.slice(5).replaceAll("/", "-").replace(/\.c$/, ".o")));
  // -Wmissing-prototypes: every function shared between files is declared in mycfs.h
  await Promise.all(
    cfiles.map((c, i) => $`${t.cc} ${include} -c -fPIC -O2 -std=gnu11 -Wall -Wextra -Wmissing-prototypes -Werror -fvisibility=hidden -o ${objects[i]} ${c}`),
  );
  const child = objects.filter((_, i) => cfiles[i]!.startsWith(`${CHILD}/`));
  const own = new Set((await Promise.all(child.map((o) => symbols(o, false)))).flat());
  for (const o of child) {
    const foreign = (await symbols(o, true)).filter((sym) => !own.has(sym) && !PURE_LIBC.test(sym));
    if (foreign.length) throw new Error(`${o}: the child's code calls ${foreign.join(", ")}; use sys() from ${CHILD}/sys.h`);
  }
  // -z now: every symbol bound at load, so the post-clone child never enters the dynamic
  // linker (whose lock another Bun thread may have held at the moment of the clone)
  await $`${t.cc} -shared -Wl,-z,now -o ${out} ${objects} -lpthread -ldl`;
  console.error(`built ${out}`);
}

/** $MYCFS_BUSYBOX, a static busybox of the host's, with a license notice. */
async function givenBusybox(binary: string): Promise<{ binary: string; copyright: string }> {
  const copyright = join("build", "busybox-copyright");
  if (!existsSync(copyright))
    await Bun.write(copyright, "BusyBox is licensed under the GNU General Public License, version 2.\nSource: https://busybox.net/\n");
  return { binary, copyright };
}

/** Debian's busybox-static for `arch` (a Debian architecture), unpacked into `dir`, and
 * its license notice. */
export async function debianBusybox(arch: string, dir: string): Promise<{ binary: string; copyright: string }> {
  const binary = join(dir, "bin/busybox");
  const copyright = join(dir, "usr/share/doc/busybox-static/copyright");
  if (existsSync(binary)) return { binary, copyright };
  await unpackDeb("busybox-static", arch, dir).catch((e) => {
    throw new Error(`${e.message}; set MYCFS_BUSYBOX=/path/to/static/busybox`);
  });
  return { binary, copyright };
}

const ETC: Record<string, string> = {
  "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
  "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
};

async function buildImage(t: Target) {
  const out = join(t.dir, "busybox.tar.gz");
  if (existsSync(out) && existsSync(join(t.dir, "busybox.json")) && !stale(out, ["build.ts"])) return;
  const { binary, copyright } = await t.busybox();
  const version = (await $`${t.emulator} ${binary}`.nothrow().quiet()).stdout.toString().match(/BusyBox v([\d.]+)/)?.[1];
  if (!version) throw new Error(`${binary} does not look like busybox`);
  const applets = (await $`${t.emulator} ${binary} --list-full`.quiet()).stdout.toString().split("\n").filter(Boolean);
  const mtime = new Date(statSync(binary).mtimeMs);
  const dir = (name: string, mode = 0o755): TarEntry => ({ header: { name: `${name}/`, type: "directory", size: 0, mode, mtime } });
  const file = (name: string, body: Uint8Array | string, mode = 0o644): TarEntry => {
    const data = typeof body === "string" ? new TextEncoder().encode(body) : body;
    return { header: { name, type: "file", size: data.byteLength, mode, mtime }, body: data };
  };
  const entries: TarEntry[] = [
    ...[
      "bin",
      "sbin",
      "mnt",
      "usr",
      "usr/bin",
      "usr/sbin",
      "usr/share",
      "usr/share/doc",
      "usr/share/doc/busybox",
      "etc",
      "root",
      "home",
      "proc",
      "sys",
      "dev",
      "run",
      "var",
      "var/log",
    ].map((d) => dir(d, d === "root" ? 0o700 : 0o755)),
    dir("tmp", 0o1777),
    file("bin/busybox", readFileSync(binary), 0o755),
    ...applets
      .filter((a) => a.includes("/") && a !== "bin/busybox") // not linuxrc, an initrd's entry
      .map((a): TarEntry => ({ header: { name: a, type: "symlink", linkname: "/bin/busybox", size: 0, mtime } })),
    ...Object.entries(ETC).map(([name, body]) => file(name, body)),
    file(
      "etc/os-release",
      `NAME="mycfs busybox"\nID=busybox\nVERSION_ID=${version}\nPRETTY_NAME="BusyBox ${version} (mycfs embedded image)"\nHOME_URL="https://busybox.net/"\n`,
    ),
    file("usr/share/doc/busybox/copyright", readFileSync(copyright)),
  ];
  const gz = Bun.gzipSync(await packTar(entries), { level: 9 });
  await Bun.write(out, gz);
  const digest = `sha256:${createHash("sha256").update(gz).digest("hex")}`;
  await Bun.write(join(t.dir, "busybox.json"), JSON.stringify({ name: "busybox", version, digest, size: gz.byteLength }, null, 2));
  console.error(`built ${out}: busybox ${version}, ${applets.length} applets, ${gz.byteLength} bytes`);
}

/** Docker's default profile for docker's default capabilities, compiled ahead of time
 * for the target's architecture. */
async function buildSeccomp(t: Target) {
  const { compileFor } = await import("./src/seccomp/filter");
  const { DEFAULT_CAPS } = await import("./src/container/caps");
  const bpf = await compileFor("default", DEFAULT_CAPS, t.arch === "x64" ? "x86_64" : "aarch64");
  await Bun.write(join(t.dir, "seccomp-default.json"), JSON.stringify({ bpf: Buffer.from(bpf).toString("base64") }));
}

/** Docker's default device rules as the cgroup v1 writes and the v2 program they become. */
async function buildDeviceRules(t: Target) {
  const { compileDeviceFilter } = await import("./src/cgroups/device-filter");
  const { DEFAULT_DEVICE_RULES, deviceWrites } = await import("./src/cgroups/devices");
  const bpf = Buffer.from(compileDeviceFilter(DEFAULT_DEVICE_RULES)).toString("base64");
  await Bun.write(join(t.dir, "device-rules-default.json"), JSON.stringify({ writes: deviceWrites(DEFAULT_DEVICE_RULES), bpf }));
}

/** The source's commit for `mycfs version`: HEAD's full hash, "-dirty" if a
 * tracked file differs from it; "unknown" outside a git checkout. */
async function commit(): Promise<string> {
  const head = await $`git rev-parse HEAD`.quiet().nothrow();
  if (head.exitCode !== 0) return "unknown";
  const dirty = (await $`git status --porcelain --untracked-files=no`.quiet().nothrow()).stdout.toString().trim() !== "";
  return `${head.stdout.toString().trim()}${dirty ? "-dirty" : ""}`;
}

/** What `mycfs version` says of the build (src/cli/version.ts), rewritten only when it changed. */
async function buildInfo(t: Target) {
  const out = join(t.dir, "build-info.json");
  const text = JSON.stringify({ version: pkg.version, commit: await commit(), target: t.name }, null, 2);
  if (!existsSync(out) || readFileSync(out, "utf8") !== text) await Bun.write(out, text);
}

/** libmycfs, the compiled tables and the build's description; with `image`, the embedded
 * busybox image too. */
export async function buildTarget(t: Target, image: boolean) {
  mkdirSync(t.dir, { recursive: true });
  await buildEnter(t);
  await buildFront(t);
  await buildLibrary(t);
  await buildSeccomp(t);
  await buildDeviceRules(t);
  await buildInfo(t);
  if (image) await buildImage(t);
}

// No .env or bunfig.toml from the caller's directory: they are not mycfs's to read (a
// stray MYCFS_STATE there would move every record), and each is a lookup on every start.
// The JIT's tier-up thresholds scaled up until src/jit.ts's normalJit(): a start is
// run-once code (README, "Decisions").
const JIT_POLICY = 100;

/** The one executable: the target's front (buildFront), then `bun build --compile` of
 * src/main.ts in `cwd` (a tree whose build/ holds the target's files); `bun`: another
 * target's Bun executable to build with. */
export async function compile(o: { cwd: string; outfile: string; bunTarget?: string; bun?: string }) {
  const cross = o.bunTarget ? [`--target=${o.bunTarget}`, `--compile-executable-path=${o.bun}`] : [];
  const bunPart = resolve(`${o.outfile}.bun`);
  // ESM with code splitting: each command's modules are a chunk of their own, loaded (and
  // their bytecode read) only when the command runs (README, "Decisions").
  await $`${process.execPath} build --compile ${cross} --no-compile-autoload-dotenv --no-compile-autoload-bunfig --minify --sourcemap=none --bytecode --format=esm --splitting --compile-jit-policy=${JIT_POLICY} src/main.ts --outfile ${bunPart}`
    .cwd(o.cwd)
    .quiet();
  const front = readFileSync(join(o.cwd, "build", "mycfs-front"));
  const bun = readFileSync(bunPart);
  rmSync(bunPart);
  await Bun.write(o.outfile, withFront(front, bun));
  chmodSync(o.outfile, 0o755);
}

/** The front, padded to a page; the Bun executable; the trailer csrc/front/runtime.c reads. */
export function withFront(front: Uint8Array, bun: Uint8Array): Uint8Array {
  const offset = Math.ceil(front.byteLength / 4096) * 4096;
  const trailer = new Uint8Array(56);
  const view = new DataView(trailer.buffer);
  trailer.set(new TextEncoder().encode("MYCFSRT1"));
  view.setBigUint64(8, BigInt(offset), true);
  view.setBigUint64(16, BigInt(bun.byteLength), true);
  trailer.set(createHash("sha256").update(bun).digest(), 24);
  const out = new Uint8Array(offset + bun.byteLength + trailer.byteLength);
  out.set(front);
  out.set(bun, offset);
  out.set(trailer, offset + bun.byteLength);
  return out;
}

/** This machine: the host's compiler and C library (glibc), build/ and dist/mycfs. */
export const HOST: Target = {
  name: `linux-${process.arch}`,
  arch: process.arch as "x64" | "arm64",
  libc: "glibc",
  dir: "build",
  cc: [process.env.CC ?? "cc"],
  enterCc: [process.env.CC ?? "cc"],
  emulator: [],
  busybox: () =>
    process.env.MYCFS_BUSYBOX ? givenBusybox(process.env.MYCFS_BUSYBOX) : debianBusybox(DEB_ARCH[process.arch]!, join("build", "busybox-static")),
};

if (import.meta.main) {
  mkdirSync("dist", { recursive: true });
  await buildTarget(HOST, process.argv[2] !== "lib");
  if (process.argv[2] !== "lib") {
    await compile({ cwd: ".", outfile: "dist/mycfs" });
    console.error("built dist/mycfs");
  }
}
