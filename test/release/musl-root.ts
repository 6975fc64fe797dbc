// An Alpine-like root for the musl release files: musl's dynamic loader (Debian's musl,
// the same 1.2 as Alpine's), a libstdc++.so.6 for musl (which Bun's musl build needs,
// as Alpine's `apk add libstdc++` gives it), busybox, and nothing of glibc. Debian has no
// libstdc++ for musl: it is linked here from GCC's own libstdc++.a, with the few glibc
// functions that calls given by musl-compat.c. No zlib: mycfs inflates the embedded image
// with DecompressionStream where libz.so.1 cannot be loaded.
import { $ } from "bun";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

export const GNU = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" } as const;
const MUSL = { x64: "x86_64", arm64: "aarch64" } as const;
const HERE = import.meta.dir;

/** The musl C compiler for `arch`: musl-gcc, or the aarch64 gcc with the specs that
 * `npm run release` made from Debian's musl-dev:arm64. */
export function muslCc(arch: "x64" | "arm64"): string[] {
  return arch === "x64" ? ["musl-gcc"] : [`${GNU.arm64}-gcc`, "-specs", resolve("build/release/musl-arm64/musl-gcc.specs")];
}

/** musl's loader (its C library) for `arch`. */
const loader = (arch: "x64" | "arm64") =>
  arch === "x64" ? "/usr/lib/x86_64-linux-musl/libc.so" : resolve("build/release/musl-arm64/lib/aarch64-linux-musl/libc.so");

/** Bun's executable of the release's musl target (its undefined C++ symbols are what the
 * libstdc++ must hold). */
function bunMusl(arch: "x64" | "arm64"): string {
  const dir = readdirSync("build/release-bun").find((d) => d.startsWith(`bun-linux-${arch === "x64" ? "x64" : "aarch64"}-musl-`));
  if (!dir) throw new Error("no Bun for musl in build/release-bun: run `npm run release` first");
  return resolve("build/release-bun", dir, "package/bin/bun");
}

/** libstdc++.so.6 for musl on `arch`, built once into build/release/. */
async function libstdcxx(arch: "x64" | "arm64"): Promise<string> {
  const out = resolve(`build/release/musl-libstdc++-${arch}.so.6`);
  const compat = join(HERE, "musl-compat.c");
  if (existsSync(out) && statSync(out).mtimeMs > statSync(compat).mtimeMs) return out;
  const bun = bunMusl(arch);
  const wanted = (await $`nm -D ${bun}`.text())
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 2 && /^[UwvV]$/.test(f[0]!))
    .map((f) => `-Wl,-u,${f[1]}`);
  // the type_info vtables Bun's code refers to without naming them in its dynamic symbols
  const typeinfo = ["class", "si_class", "vmi_class"].map((k) => `-Wl,-u,_ZTVN10__cxxabiv1${k.length + 12}__${k}_type_infoE`);
  const archive = (await $`${GNU[arch]}-gcc -print-file-name=libstdc++.a`.text()).trim();
  await $`${muslCc(arch)} -O2 -fPIC -shared -o ${out} -Wl,-soname,libstdc++.so.6 ${compat} ${wanted} ${typeinfo} -Wl,-u,__dynamic_cast ${archive} -lgcc_eh`;
  return out;
}

/** The root, in `dir`: /lib/ld-musl-ARCH.so.1, /usr/lib/libstdc++.so.6, busybox with its
 * applets, /etc/os-release; `busybox`: a static busybox of the architecture. */
export async function muslRoot(arch: "x64" | "arm64", dir: string, busybox: string): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  for (const d of ["bin", "lib", "usr/lib", "etc", "tmp", "proc", "sys", "dev", "root", "var/lib", "run"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "tmp"), 0o1777);
  copyFileSync(loader(arch), join(dir, `lib/ld-musl-${MUSL[arch]}.so.1`));
  symlinkSync(`ld-musl-${MUSL[arch]}.so.1`, join(dir, `lib/libc.musl-${MUSL[arch]}.so.1`));
  copyFileSync(await libstdcxx(arch), join(dir, "usr/lib/libstdc++.so.6"));
  copyFileSync(busybox, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  for (const applet of ["sh", "cat", "ls", "echo", "true", "uname"]) symlinkSync("busybox", join(dir, "bin", applet));
  await Bun.write(join(dir, "etc/os-release"), `NAME="musl test root"\nID=musl-test\nPRETTY_NAME="musl ${MUSL[arch]} test root (mycfs)"\n`);
  await Bun.write(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await Bun.write(join(dir, "etc/group"), "root:x:0:\n");
  return dir;
}
