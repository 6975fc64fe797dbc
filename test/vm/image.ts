// What the VM boots: Debian's kernel (the package linux-image-amd64 points at, fetched with
// apt-get download and unpacked into build/vm/, nothing installed) and an initramfs holding
// busybox, dist/mycfs with the shared libraries it loads, the probe, the overlay module, a
// layered image's OCI layout (test/layered.ts),
// /init and the checks. Rebuilt whenever one of its inputs is newer.
import { $ } from "bun";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { MYCFS, PROBE, tempDir } from "../helpers";
import { buildLayered } from "../layered";

const VM = resolve("build/vm");
const BUSYBOX = resolve("build/busybox-static/bin/busybox"); // fetched by build.ts
const HERE = import.meta.dir;

export interface Kernel {
  version: string;
  vmlinuz: string;
  /** The modules directory, /lib/modules/VERSION as the package lays it out. */
  modules: string;
}

/** Debian's current 6.1 kernel (bookworm's linux-image-amd64): its vmlinuz and the overlay
 * module, unpacked once (the package's other modules are not needed). */
export async function debianKernel(): Promise<Kernel> {
  const dir = join(VM, "kernel");
  if (!existsSync(join(dir, "boot"))) {
    const deps = await $`apt-cache depends linux-image-amd64`.text();
    const pkg = /Depends: (linux-image-[\w.+-]+)/.exec(deps)?.[1];
    if (!pkg) throw new Error(`apt-cache knows no kernel for linux-image-amd64 (run apt-get update):\n${deps}`);
    const tmp = tempDir("vm-kernel");
    try {
      await $`apt-get download ${pkg}`.cwd(tmp).quiet();
      const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"))!;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await $`dpkg-deb --fsys-tarfile ${join(tmp, deb)} | tar -x -C ${dir} --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/fs/overlayfs/*'`;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
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

/** The initramfs (an uncompressed newc cpio: TCG would spend longer inflating it than
 * the kernel spends copying it), rebuilt when an input changed. */
export async function initramfs(kernel: Kernel): Promise<string> {
  const out = join(VM, "initramfs.cpio");
  const overlay = join(kernel.modules, "kernel/fs/overlayfs/overlay.ko");
  const scripts = ["init.sh", "checks.sh"].map((f) => join(HERE, f));
  const inputs = [MYCFS, PROBE, BUSYBOX, overlay, join(HERE, "../layered.ts"), ...scripts];
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
    put(BUSYBOX, "bin/busybox");
    put(MYCFS, "bin/mycfs");
    put(PROBE, "bin/probe");
    put(overlay, "lib/modules/overlay.ko");
    put(scripts[0]!, "init", 0o755);
    put(scripts[1]!, "checks.sh", 0o755);
    // libmycfs is unpacked from mycfs at run time: its libraries too; zlib is dlopen'd
    const libmycfs = resolve("build/libmycfs.so");
    const libs = new Set([...(await libraries(MYCFS)), ...(await libraries(libmycfs))]);
    const zlib = /libz\.so\.1 \(libc6,x86-64\) => (\S+)/.exec(await $`ldconfig -p`.text())?.[1];
    if (zlib) libs.add(zlib);
    for (const lib of libs) put(lib, lib.slice(1));
    await Bun.write(join(root, "vm-host-token"), "host-only\n");
    mkdirSync(join(root, "layered"));
    buildLayered(join(root, "layered"));
    for (const f of ["oci.tar", "docker.tar"]) rmSync(join(root, "layered", f)); // the layout is what the check imports
    mkdirSync(VM, { recursive: true });
    await $`find . | cpio -o -H newc --quiet > ${out}.tmp && mv ${out}.tmp ${out}`.cwd(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}
