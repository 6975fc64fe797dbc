// `mycfs run ... true` against runc, crun, bwrap and plain unshare, in one run, on the
// same busybox root file system: sequential container starts (hyperfine), medians and ratios.
//   sudo bun bench/run.ts [ROUNDS]     (npm run bench builds dist/mycfs first)
// Targets (issue "The single binary…"): mycfs ≤ 0.5× runc and ≤ 1.0× crun.
import { $ } from "bun";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageRootfs, inPrivateMountNamespace, MYCFS, need, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 50);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ runc: "runc", crun: "crun", bwrap: "bubblewrap", unshare: "util-linux", hyperfine: "hyperfine" });

if (await inPrivateMountNamespace()) {
  const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-"));
  const cgroupParent = `/sys/fs/cgroup/mycfs-bench-${process.pid}`;
  try {
    // The shared root file system: the embedded busybox image, unpacked by mycfs itself.
    const store = join(dir, "store");
    await $`${MYCFS} run --rm --root ${store} busybox true`;
    const rootfs = await imageRootfs(store);
    // One OCI bundle for runc and crun: `runc spec`, not a terminal, `true`, no writes.
    await $`runc spec`.cwd(dir);
    const spec = await Bun.file(join(dir, "config.json")).json();
    spec.root = { path: rootfs, readonly: true };
    spec.process.terminal = false;
    spec.process.args = ["true"];
    spec.linux.cgroupsPath = cgroupParent.replace("/sys/fs/cgroup", "") + "/runc";
    writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
    const ociState = join(dir, "oci-state");
    const times = await time({
      "mycfs run --rootfs": [MYCFS, "run", "--rootfs", rootfs, "true"],
      "mycfs run busybox (overlay)": [MYCFS, "run", "--rm", "--root", store, "busybox", "true"],
      "runc run": ["runc", "--root", ociState, "run", "-b", dir, "mycfs-bench-runc"],
      "crun run": ["crun", "--root", ociState, "--cgroup-manager=disabled", "run", "-b", dir, "mycfs-bench-crun"],
      "bwrap --unshare-all": ["bwrap", "--unshare-all", "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev", "true"],
      "unshare -fpmiun": ["unshare", "-fpmiun", "true"],
    }, rounds);
    console.log(`\nContainer start to exit, \`true\` in a busybox root, ${rounds} sequential runs each after 3 warm-ups (${new Date().toISOString().slice(0, 10)}, ${(await $`uname -r`.text()).trim()}):\n`);
    console.log(table(times, "mycfs run --rootfs"));
  } finally {
    await $`rmdir ${cgroupParent}`.quiet().nothrow();
    rmSync(dir, { recursive: true, force: true });
  }
}
