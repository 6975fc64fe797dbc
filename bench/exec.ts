// `mycfs exec ID true` against `runc exec` on an equivalent running container: the same
// busybox root file system, `sleep` as the first process of each, sequential execs of
// `true` (hyperfine), medians and ratios; `nsenter` into the same container is the floor.
//   sudo bun bench/exec.ts [ROUNDS]     (npm run bench:exec builds dist/mycfs first)
// Target (issue "Containers that outlive the command line"): mycfs exec ≤ 0.5× runc exec.
import { $ } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchCgroup, busyboxBundle, inPrivateMountNamespace, MYCFS, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 50);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ runc: "runc", nsenter: "util-linux", hyperfine: "hyperfine" });

if (await inPrivateMountNamespace()) {
  const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-exec-"));
  const cgroupParent = await benchCgroup();
  privateState(dir); // mycfs's container records, away from /run/mycfs (busyboxBundle's run too)
  const state = process.env.MYCFS_STATE!;
  const ociState = join(dir, "oci-state");
  const sleeper = ["sleep", "1000000"];
  const quiet = { stdin: "ignore", stdout: "ignore", stderr: "inherit", env: { ...process.env, MYCFS_STATE: state } } as const;
  let id = "";
  try {
    const rootfs = await busyboxBundle(dir, (spec) => {
      spec.process.args = sleeper;
      spec.linux.cgroupsPath = `${cgroupParent.replace("/sys/fs/cgroup", "")}/runc`;
    });
    // runc's container keeps the stdio it was given: /dev/null, so that nothing waits on it
    if (Bun.spawnSync(["runc", "--root", ociState, "run", "-d", "-b", dir, "mycfs-bench-exec"], quiet).exitCode !== 0) throw new Error("runc run -d failed");
    const started = Bun.spawnSync([MYCFS, "run", "-d", "--network", "none", "--state", state, "--rootfs", rootfs, ...sleeper], { ...quiet, stdout: "pipe" });
    id = started.stdout.toString().trim();
    if (started.exitCode !== 0 || !id) throw new Error("mycfs run -d failed");
    const pid = JSON.parse(readFileSync(join(state, id, "state.json"), "utf8")).container.pid;
    const times = await time(
      {
        "mycfs exec": [MYCFS, "exec", "--state", state, id.slice(0, 12), "true"],
        "runc exec": ["runc", "--root", ociState, "exec", "mycfs-bench-exec", "true"],
        "nsenter -a (no cgroup, no privileges)": ["nsenter", "-a", "-t", String(pid), "true"],
      },
      rounds,
    );
    console.log(
      `\n\`true\` exec'd into a running busybox container, ${rounds} sequential runs each after 3 warm-ups, the commands taking turns in batches of 5 (${new Date().toISOString().slice(0, 10)}, ${(await $`uname -r`.text()).trim()}):\n`,
    );
    console.log(table(times, "mycfs exec"));
  } finally {
    if (id) Bun.spawnSync([MYCFS, "rm", "-f", "--state", state, id], quiet);
    Bun.spawnSync(["runc", "--root", ociState, "delete", "-f", "mycfs-bench-exec"], quiet);
    await $`rmdir ${cgroupParent}/runc ${cgroupParent}`.quiet().nothrow();
    rmSync(dir, { recursive: true, force: true });
  }
}
