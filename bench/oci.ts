// mycfs as an OCI runtime, against runc and crun: `create` + `start` + `delete --force` of
// a `true` bundle on the embedded busybox, and `podman run --rm` with each runtime.
//   sudo bun bench/oci.ts [ROUNDS]     (npm run bench:oci builds dist/mycfs first)
// Targets (issue "An OCI runtime interface"): the create/start/delete cycle ≤ 0.5× runc's
// time; podman run --rm with mycfs against podman with runc, reported.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchCgroup, busyboxBundle, inPrivateMountNamespace, MYCFS, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 50);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ runc: "runc", crun: "crun", hyperfine: "hyperfine", podman: "podman" });

/** One cycle as an engine drives it, in one shell so that hyperfine times the three. */
const cycle = (runtime: string[], state: string, bundle: string, id: string) => {
  const r = [...runtime, "--root", state].join(" ");
  return ["sh", "-c", `${r} create --bundle ${bundle} ${id} && ${r} start ${id} && ${r} delete --force ${id}`];
};

if (await inPrivateMountNamespace()) {
  const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-"));
  privateState(dir);
  const cgroupParent = await benchCgroup();
  try {
    await busyboxBundle(dir, (spec) => {
      spec.linux.cgroupsPath = `${cgroupParent.replace("/sys/fs/cgroup", "")}/c`;
    });
    const state = join(dir, "oci-state");
    const times = await time(
      {
        "mycfs create+start+delete": cycle([MYCFS], state, dir, "mycfs-bench-mycfs"),
        "runc create+start+delete": cycle(["runc"], state, dir, "mycfs-bench-runc"),
        // crun raises RLIMIT_MEMLOCK for its cgroup's device program, which a host without
        // CAP_SYS_RESOURCE refuses: it runs without a cgroup, as in bench/run.ts
        "crun create+start+delete (no cgroup)": cycle(["crun", "--cgroup-manager=disabled"], state, dir, "mycfs-bench-crun"),
      },
      rounds,
    );
    const when = `${new Date().toISOString().slice(0, 10)}, ${(await $`uname -r`.text()).trim()}`;
    console.log(`\n\`create\`, \`start\`, \`delete --force\` of a \`true\` bundle (busybox), ${rounds} cycles each after 3 warm-ups (${when}):\n`);
    console.log(table(times, "mycfs create+start+delete"));

    // podman, with a store, state and configuration of the benchmark's own (as test/oci/podman.test.ts)
    const pm = join(dir, "podman");
    mkdirSync(join(pm, "tmp"), { recursive: true });
    mkdirSync(join(pm, "run"));
    writeFileSync(
      join(pm, "containers.conf"),
      `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\npids_limit = 0\n[engine]\nlock_type = "file"\nevents_logger = "none"\nimage_copy_tmp_dir = "${pm}/tmp"\n`,
    );
    await $`mount -t tmpfs none /var/lib && mount --bind ${pm}/run /run`;
    const podman = (runtime: string) => [
      "env",
      `CONTAINERS_CONF=${pm}/containers.conf`,
      "podman",
      "--root",
      `${pm}/root`,
      "--runroot",
      `${pm}/runroot`,
      "--tmpdir",
      `${pm}/tmp`,
      "--storage-driver",
      "vfs",
      "--runtime",
      runtime,
      "run",
      "--rm",
      "--network",
      "none",
      "--cgroups=no-conmon",
      `--cgroup-parent=${cgroupParent.replace("/sys/fs/cgroup", "")}`,
      "busybox",
      "true",
    ];
    await $`${MYCFS} save --root ${dir}/store busybox -o ${pm}/busybox.tar`.quiet();
    await $`env CONTAINERS_CONF=${pm}/containers.conf podman --root ${pm}/root --runroot ${pm}/runroot --tmpdir ${pm}/tmp --storage-driver vfs load -i ${pm}/busybox.tar`.quiet();
    const podmanTimes = await time({ "podman --runtime mycfs": podman(MYCFS), "podman --runtime runc": podman(Bun.which("runc")!) }, Math.min(rounds, 20));
    console.log(`\n\`podman run --rm --network none busybox true\`, ${Math.min(rounds, 20)} runs each after 3 warm-ups (${when}):\n`);
    console.log(table(podmanTimes, "podman --runtime mycfs"));
  } finally {
    await $`rmdir ${cgroupParent}`.quiet().nothrow();
    rmSync(dir, { recursive: true, force: true });
  }
}
