// What the VM boots: Debian's kernel (the package linux-image-amd64 points at, or
// linux-image-arm64's, fetched with apt-get download and unpacked into build/vm/, nothing
// installed) and an initramfs holding busybox, mycfs with the shared libraries it loads,
// the probe, the overlay module, a layered image's OCI layout (test/layered.ts),
// /init and the checks. Rebuilt whenever one of its inputs is newer.
// x64 runs dist/mycfs; arm64 runs the release's dist/release/mycfs-linux-arm64 (`npm run
// release`), with Debian's arm64 C library (libc6-arm64-cross) and zlib.
import { $ } from "bun";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { dependency, unpackDeb } from "../../tools/debian";
import { bunPart, MYCFS, PROBE, tempDir } from "../helpers";
import { buildLayered } from "../layered";

export type VmArch = "x64" | "arm64";
const VM = (arch: VmArch) => resolve(arch === "x64" ? "build/vm" : "build/vm-arm64");
const HERE = import.meta.dir;

/** What goes into the VM for each architecture. */
const PARTS = {
  x64: {
    mycfs: MYCFS,
    busybox: resolve("build/busybox-static/bin/busybox"), // fetched by build.ts
    image: resolve("build/busybox.tar.gz"),
    probe: async () => PROBE,
  },
  arm64: {
    mycfs: resolve("dist/release/mycfs-linux-arm64"),
    busybox: resolve("build/release/busybox-arm64/bin/busybox"), // fetched by tools/release.ts
    image: resolve("build/release/linux-arm64/tree/build/busybox.tar.gz"),
    probe: async () => {
      const out = join(VM("arm64"), "probe");
      if (!existsSync(out) || statSync(out).mtimeMs < statSync("test/probe.c").mtimeMs)
        await $`aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -o ${out} test/probe.c`;
      return out;
    },
  },
};

export interface Kernel {
  version: string;
  vmlinuz: string;
  /** The modules directory, /lib/modules/VERSION as the package lays it out. */
  modules: string;
}

/** Debian's current 6.1 kernel (bookworm's linux-image-amd64, or -arm64): its vmlinuz and
 * the overlay module, unpacked once (the package's other modules are not needed). */
export async function debianKernel(arch: VmArch = "x64"): Promise<Kernel> {
  const dir = join(VM(arch), "kernel");
  if (!existsSync(join(dir, "boot"))) {
    const debArch = arch === "x64" ? "amd64" : "arm64";
    const pkg = await dependency(`linux-image-${debArch}`, debArch, /^linux-image-[\w.+-]+$/);
    rmSync(dir, { recursive: true, force: true });
    await unpackDeb(pkg, debArch, dir, ["./boot/vmlinuz-*", "./lib/modules/*/kernel/fs/overlayfs/*"]);
  }
  const vmlinuz = readdirSync(join(dir, "boot")).find((f) => f.startsWith("vmlinuz-"))!;
  const version = vmlinuz.slice("vmlinuz-".length);
  return { version, vmlinuz: join(dir, "boot", vmlinuz), modules: join(dir, "lib/modules", version) };
}

/** The shared libraries a program loads, as ldd resolves them on this host. */
async function libraries(program: string): Promise<string[]> {
  const out = await $`ldd ${program}`.text();
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** The libraries mycfs and libmycfs load, and zlib (dlopen'd), as [host file, path in the
 * VM]: the host's own for x64; for arm64, Debian's cross C library and arm64 zlib (fetched
 * on the first call). */
export async function vmLibraries(arch: VmArch): Promise<[string, string][]> {
  if (arch === "x64") {
    // mycfs's front is static; the Bun part it runs is not
    const bun = join(tempDir("vm-bun"), "mycfs-bun");
    const { offset, size } = bunPart();
    writeFileSync(bun, readFileSync(MYCFS).subarray(offset, offset + size), { mode: 0o755 });
    const libs = new Set([...(await libraries(bun)), ...(await libraries(resolve("build/libmycfs.so")))]);
    rmSync(dirname(bun), { recursive: true, force: true });
    const zlib = /libz\.so\.1 \(libc6,x86-64\) => (\S+)/.exec(await $`ldconfig -p`.text())?.[1];
    if (zlib) libs.add(zlib);
    return [...libs].map((l) => [l, l.slice(1)]);
  }
  const zlib = join(VM(arch), "zlib");
  if (!existsSync(zlib)) await unpackDeb("zlib1g", "arm64", zlib);
  const cross = "/usr/aarch64-linux-gnu/lib";
  return [
    ...["ld-linux-aarch64.so.1", "libc.so.6", "libpthread.so.0", "libdl.so.2", "libm.so.6"].map((l): [string, string] => [join(cross, l), `lib/${l}`]),
    [join(zlib, "lib/aarch64-linux-gnu/libz.so.1"), "lib/libz.so.1"],
  ];
}

/** The initramfs (an uncompressed newc cpio: TCG would spend longer inflating it than
 * the kernel spends copying it), rebuilt when an input changed. */
export async function initramfs(kernel: Kernel, arch: VmArch = "x64"): Promise<string> {
  const out = join(VM(arch), "initramfs.cpio");
  const overlay = join(kernel.modules, "kernel/fs/overlayfs/overlay.ko");
  const scripts = ["init.sh", "checks.sh"].map((f) => join(HERE, f));
  const parts = PARTS[arch];
  const probe = await parts.probe();
  const inputs = [parts.mycfs, probe, parts.busybox, overlay, join(HERE, "../layered.ts"), ...scripts];
  if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs < statSync(out).mtimeMs)) return out;
  const root = tempDir("vm-initramfs");
  try {
    const put = (from: string, to: string, mode?: number) => {
      mkdirSync(join(root, dirname(to)), { recursive: true });
      copyFileSync(from, join(root, to));
      if (mode !== undefined) chmodSync(join(root, to), mode);
    };
    chmodSync(root, 0o755); // an initramfs's "/" as a real one has it (mkdtemp makes 0700): a user namespace's root passes it
    for (const d of ["proc", "sys", "dev", "tmp", "run", "etc", "var/lib", "root"]) mkdirSync(join(root, d), { recursive: true });
    put(parts.busybox, "bin/busybox");
    put(parts.mycfs, "bin/mycfs");
    put(probe, "bin/probe");
    put(overlay, "lib/modules/overlay.ko");
    put(scripts[0]!, "init", 0o755);
    put(scripts[1]!, "checks.sh", 0o755);
    // libmycfs is unpacked from mycfs at run time: its libraries too; zlib is dlopen'd
    for (const [from, to] of await vmLibraries(arch)) put(from, to);
    await Bun.write(join(root, "vm-host-token"), "host-only\n");
    mkdirSync(join(root, "layered"));
    buildLayered(join(root, "layered"), { busybox: parts.image, architecture: arch === "x64" ? undefined : "arm64" });
    for (const f of ["oci.tar", "docker.tar"]) rmSync(join(root, "layered", f)); // the layout is what the check imports
    mkdirSync(VM(arch), { recursive: true });
    await $`find . | cpio -o -H newc --quiet > ${out}.tmp && mv ${out}.tmp ${out}`.cwd(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}
