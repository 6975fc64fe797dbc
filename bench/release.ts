// The release files (`npm run release`): each one's size, what it embeds (libmycfs and the
// busybox image, ≤ 2 MB together), and its start: `version` (Bun's start and libmycfs
// loaded) and, on x86_64, a container's start and exit. The musl ones run through musl's
// loader with the test's musl root's libstdc++; the arm64 ones under QEMU 10's user mode, whose
// times are the emulator's (the arm64 VM test prints a start inside an emulated machine).
//   sudo bun bench/release.ts [ROUNDS]     (npm run bench:release builds the files first)
import { $ } from "bun";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { muslRoot } from "../test/release/musl-root";
import { qemuAarch64 } from "../test/release/qemu-user";
import { median, need, privateState, quantile, time } from "./lib";

const rounds = Number(process.argv[2] ?? 20);
await need({ hyperfine: "hyperfine" });
const qemu = await qemuAarch64();
const TARGETS = ["linux-x64", "linux-x64-musl", "linux-arm64", "linux-arm64-musl"];
const file = (t: string) => resolve("dist/release", `mycfs-${t}`);
const built = (t: string) => resolve("build/release", t, "tree/build");

const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-release-"));
privateState(dir);
try {
  const roots = {
    x64: await muslRoot("x64", join(dir, "musl-x64"), resolve("build/busybox-static/bin/busybox")),
    arm64: await muslRoot("arm64", join(dir, "musl-arm64"), resolve("build/release/busybox-arm64/bin/busybox")),
  };
  const argv: Record<string, string[]> = {
    "linux-x64": [file("linux-x64")],
    "linux-x64-musl": ["/lib/ld-musl-x86_64.so.1", "--library-path", join(roots.x64, "usr/lib"), file("linux-x64-musl")],
    "linux-arm64": [qemu, "-L", "/usr/aarch64-linux-gnu", file("linux-arm64")],
    "linux-arm64-musl": [qemu, "-L", roots.arm64, file("linux-arm64-musl")],
  };
  const commands: Record<string, string[]> = {};
  for (const t of TARGETS) commands[`${t} version`] = [...argv[t]!, "version"];
  for (const t of ["linux-x64", "linux-x64-musl"])
    commands[`${t} run busybox true`] = [...argv[t]!, "run", "--rm", "--network", "none", "--root", join(dir, `store-${t}`), "busybox", "true"];
  const times = await time(commands, rounds);
  const mb = (n: number) => (n / 1e6).toFixed(2);
  console.log(`\nRelease files (${new Date().toISOString().slice(0, 10)}, ${(await $`uname -r`.text()).trim()}, ${rounds} runs each after 3 warm-ups):\n`);
  console.log("| file | size MB | libmycfs + image MB | `version` median ms (p90) | `run busybox true` median ms (p90) |");
  console.log("|---|---:|---:|---:|---:|");
  for (const t of TARGETS) {
    const embedded = statSync(join(built(t), "libmycfs.so")).size + statSync(join(built(t), "busybox.tar.gz")).size;
    const cell = (name: string) => {
      const xs = times.get(name);
      return xs ? `${median(xs).toFixed(1)} (${quantile(xs, 0.9).toFixed(1)})` : "—";
    };
    console.log(`| mycfs-${t} | ${mb(statSync(file(t)).size)} | ${mb(embedded)} | ${cell(`${t} version`)} | ${cell(`${t} run busybox true`)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
