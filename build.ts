// Builds dist/mycfs: compiles csrc/ into libmycfs.so, makes the embedded busybox image,
// and bundles both into one executable with `bun build --compile`.
//   bun build.ts          everything
//   bun build.ts lib      libmycfs and the compiled tables only: what the unit tests load
//   MYCFS_BUSYBOX=/path   use this static busybox instead of Debian's busybox-static
import { $ } from "bun";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";

const BUILD = "build";
mkdirSync(BUILD, { recursive: true });
mkdirSync("dist", { recursive: true });

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

const cc = process.env.CC ?? "cc";
const ENTER = join(BUILD, "mycfs-enter");

/** The enter program (csrc/enter/main.c, how `mycfs exec` enters a container): the
 * child's plan walker as a static executable with no C library at all (csrc/enter/libc.c
 * has the few functions it uses), so that it is small and holds nothing of mycfs's.
 * libmycfs embeds it (csrc/enter_image.c). */
async function buildEnter() {
  const sources = [...cFiles(CHILD), ...cFiles("csrc/enter")];
  if (!stale(ENTER, [...sources, "csrc/mycfs.h", "csrc/protocol.h"])) return;
  await $`${cc} -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector -U_FORTIFY_SOURCE -fno-asynchronous-unwind-tables -O2 -std=gnu11 -Wall -Wextra -Werror -Wl,--gc-sections -ffunction-sections -fdata-sections -s -o ${ENTER} ${sources.filter((f) => f.endsWith(".c"))} -lgcc`;
}

async function buildLibrary() {
  const sources = [...cFiles("csrc"), ...cFiles(CHILD)];
  const out = join(BUILD, "libmycfs.so");
  if (!stale(out, [...sources, ENTER])) return;
  const objDir = join(BUILD, "obj");
  mkdirSync(objDir, { recursive: true });
  const cfiles = sources.filter((s) => s.endsWith(".c"));
  const objects = cfiles.map((c) => join(objDir, c.slice(5).replaceAll("/", "-").replace(/\.c$/, ".o")));
  // -Wmissing-prototypes: every function shared between files is declared in mycfs.h
  await Promise.all(
    cfiles.map((c, i) => $`${cc} -c -fPIC -O2 -std=gnu11 -Wall -Wextra -Wmissing-prototypes -Werror -fvisibility=hidden -o ${objects[i]} ${c}`),
  );
  const child = objects.filter((_, i) => cfiles[i]!.startsWith(`${CHILD}/`));
  const own = new Set((await Promise.all(child.map((o) => symbols(o, false)))).flat());
  for (const o of child) {
    const foreign = (await symbols(o, true)).filter((sym) => !own.has(sym) && !PURE_LIBC.test(sym));
    if (foreign.length) throw new Error(`${o}: the child's code calls ${foreign.join(", ")}; use sys() from ${CHILD}/sys.h`);
  }
  // -z now: every symbol bound at load, so the post-clone child never enters the dynamic
  // linker (whose lock another Bun thread may have held at the moment of the clone)
  await $`${cc} -shared -Wl,-z,now -o ${out} ${objects} -lpthread -ldl`;
  console.error(`built ${out}`);
}

/** A static busybox and its license notice: $MYCFS_BUSYBOX, or Debian's busybox-static. */
async function fetchBusybox(): Promise<{ binary: string; copyright: string }> {
  const given = process.env.MYCFS_BUSYBOX;
  if (given) {
    const copyright = join(BUILD, "busybox-copyright");
    if (!existsSync(copyright))
      await Bun.write(copyright, "BusyBox is licensed under the GNU General Public License, version 2.\nSource: https://busybox.net/\n");
    return { binary: given, copyright };
  }
  const dir = join(BUILD, "busybox-static");
  const binary = join(dir, "bin/busybox");
  const copyright = join(dir, "usr/share/doc/busybox-static/copyright");
  if (existsSync(binary)) return { binary, copyright };
  const tmp = mkdtempSync(join(tmpdir(), "mycfs-busybox-"));
  try {
    // apt-get download needs no root, but fresh package lists may need an update first
    let got = await $`apt-get download busybox-static`.cwd(tmp).quiet().nothrow();
    if (got.exitCode !== 0 && process.getuid?.() === 0) {
      await $`apt-get update -qq`.quiet();
      got = await $`apt-get download busybox-static`.cwd(tmp).quiet().nothrow();
    }
    if (got.exitCode !== 0)
      throw new Error(`could not fetch Debian's busybox-static (${got.stderr.toString().trim()}); set MYCFS_BUSYBOX=/path/to/static/busybox`);
    const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"))!;
    await $`dpkg-deb -x ${join(tmp, deb)} ${dir}`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { binary, copyright };
}

const ETC: Record<string, string> = {
  "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
  "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
};

async function buildImage() {
  const out = join(BUILD, "busybox.tar.gz");
  if (existsSync(out) && existsSync(join(BUILD, "busybox.json")) && !stale(out, ["build.ts"])) return;
  const { binary, copyright } = await fetchBusybox();
  const version = (await $`${binary}`.nothrow().quiet()).stdout.toString().match(/BusyBox v([\d.]+)/)?.[1];
  if (!version) throw new Error(`${binary} does not look like busybox`);
  const applets = (await $`${binary} --list-full`.quiet()).stdout.toString().split("\n").filter(Boolean);
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
  await Bun.write(join(BUILD, "busybox.json"), JSON.stringify({ name: "busybox", version, digest, size: gz.byteLength }, null, 2));
  console.error(`built ${out}: busybox ${version}, ${applets.length} applets, ${gz.byteLength} bytes`);
}

/** Docker's default profile for docker's default capabilities, compiled ahead of time. */
async function buildSeccomp() {
  const { compileFor } = await import("./src/seccomp/filter");
  const { DEFAULT_CAPS } = await import("./src/container/caps");
  const bpf = await compileFor("default", DEFAULT_CAPS);
  await Bun.write(join(BUILD, "seccomp-default.json"), JSON.stringify({ bpf: Buffer.from(bpf).toString("base64") }));
}

/** Docker's default device rules as the cgroup v1 writes and the v2 program they become. */
async function buildDeviceRules() {
  const { compileDeviceFilter } = await import("./src/cgroups/device-filter");
  const { DEFAULT_DEVICE_RULES, deviceWrites } = await import("./src/cgroups/devices");
  const bpf = Buffer.from(compileDeviceFilter(DEFAULT_DEVICE_RULES)).toString("base64");
  await Bun.write(join(BUILD, "device-rules-default.json"), JSON.stringify({ writes: deviceWrites(DEFAULT_DEVICE_RULES), bpf }));
}

await buildEnter();
await buildLibrary();
await buildSeccomp();
await buildDeviceRules();
if (process.argv[2] === "lib") process.exit(0);
await buildImage();
// No .env or bunfig.toml from the caller's directory: they are not mycfs's to read (a
// stray MYCFS_STATE there would move every record), and each is a lookup on every start.
// The JIT's tier-up thresholds scaled up until src/jit.ts's normalJit(): a start is
// run-once code (README, "Decisions").
const JIT_POLICY = 100;
// ESM with code splitting: each command's modules are a chunk of their own, loaded (and
// their bytecode read) only when the command runs (README, "Decisions").
await $`${process.execPath} build --compile --no-compile-autoload-dotenv --no-compile-autoload-bunfig --minify --sourcemap=none --bytecode --format=esm --splitting --compile-jit-policy=${JIT_POLICY} src/main.ts --outfile dist/mycfs`.quiet();
console.error("built dist/mycfs");
