// `mycfs run ... true` against runc, crun, bwrap and plain unshare, in one run, on the
// same busybox root file system: sequential container starts (hyperfine), medians and ratios.
//   sudo bun bench/run.ts [ROUNDS]     (npm run bench builds dist/mycfs first)
// Targets (issue "The single binary…"): mycfs ≤ 0.5× runc and ≤ 1.0× crun.
import { $ } from "bun";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchCgroup, busyboxBundle, inPrivateMountNamespace, MYCFS, mycfsRun, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 50);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ runc: "runc", crun: "crun", bwrap: "bubblewrap", unshare: "util-linux", hyperfine: "hyperfine" });

if (await inPrivateMountNamespace()) {
  const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-"));
  privateState(dir);
  const cgroupParent = await benchCgroup();
  try {
    const rootfs = await busyboxBundle(dir, (spec) => {
      spec.linux.cgroupsPath = `${cgroupParent.replace("/sys/fs/cgroup", "")}/runc`;
    });
    const store = join(dir, "store");
    const ociState = join(dir, "oci-state");
    const times = await time(
      {
        "mycfs run --rootfs": mycfsRun("--rootfs", rootfs, "true"),
        "mycfs run busybox (overlay)": mycfsRun("--root", store, "busybox", "true"),
        "runc run": ["runc", "--root", ociState, "run", "-b", dir, "mycfs-bench-runc"],
        "crun run": ["crun", "--root", ociState, "--cgroup-manager=disabled", "run", "-b", dir, "mycfs-bench-crun"],
        "bwrap --unshare-all": ["bwrap", "--unshare-all", "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev", "true"],
        "unshare -fpmiun": ["unshare", "-fpmiun", "true"],
      },
      rounds,
    );
    console.log(
      `\nContainer start to exit, \`true\` in a busybox root, ${rounds} sequential runs each after 3 warm-ups, the commands taking turns in batches of 5 (${new Date().toISOString().slice(0, 10)}, ${(await $`uname -r`.text()).trim()}):\n`,
    );
    console.log(table(times, "mycfs run --rootfs"));
  } finally {
    await $`rmdir ${cgroupParent}`.quiet().nothrow();
    rmSync(dir, { recursive: true, force: true });
  }
}
