// qemu-aarch64 for the arm64 release files: the user mode emulator of QEMU 10 from the
// backports of the host's Debian release (fetched and unpacked, not installed). Debian
// 12's own QEMU 7.2 has no openat2 in user mode (ENOSYS), with which mycfs resolves every
// path in a root file system: under it, no --dry-run, no import, no container.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEB_ARCH, unpackDeb } from "../../tools/debian";

const DIR = resolve("build/qemu-user");
export const QEMU_AARCH64 = join(DIR, "usr/bin/qemu-aarch64");

/** The emulator's path, fetched on the first call (test/vm/kernel.ts calls it before the
 * suite's network namespace). */
export async function qemuAarch64(): Promise<string> {
  if (!existsSync(QEMU_AARCH64)) await unpackDeb("qemu-user", DEB_ARCH[process.arch]!, DIR, ["./usr/bin/qemu-aarch64"], { backports: true });
  return QEMU_AARCH64;
}
