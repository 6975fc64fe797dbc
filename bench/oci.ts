// mycfs as an OCI runtime, against runc and crun: `create` + `start` + `delete --force` of
// a `true` bundle on the embedded busybox, and `podman run --rm` with each runtime.
//   sudo bun bench/oci.ts [ROUNDS]     (npm run bench:oci builds dist/mycfs first)
// Targets (issue "An OCI runtime interface"): the create/start/delete cycle ≤ 0.5× runc's
// time; podman run --rm with mycfs against podman with runc, reported.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchCgroup, busyboxBundle, inPrivateMountNamespace, median, MYCFS, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 50);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ runc: "runc", crun: "crun", hyperfine: "hyperfine", podman: "podman" });

const COMMANDS = ["create", "start", "delete"] as const;

/** Each runtime's cycles, ms: its three commands spawned one after the other, as an engine
 * spawns them (no shell between: one would add the same milliseconds to every runtime),
 * each timed from spawn to exit; the runtimes take turns cycle by cycle, after 3 warm-ups. */
function cycles(runtimes: Record<string, string[]>, state: string, bundle: string) {
  const times = new Map(
    Object.keys(runtimes).map((name) => [name, { cycle: [] as number[], create: [] as number[], start: [] as number[], delete: [] as number[] }]),
  );
  for (let i = 0; i < rounds + 3; i++)
    for (const [name, runtime] of Object.entries(runtimes)) {
      const id = `mycfs-bench-${name.split(" ")[0]}`;
      const args = { create: ["create", "--bundle", bundle, id], start: ["start", id], delete: ["delete", "--force", id] };
      let sum = 0;
      for (const cmd of COMMANDS) {
        const t0 = performance.now();
        const p = Bun.spawnSync([...runtime, "--root", state, ...args[cmd]], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
        const ms = performance.now() - t0;
        if (p.exitCode !== 0) throw new Error(`${name}: ${cmd} exited with ${p.exitCode}`);
        sum += ms;
        if (i >= 3) times.get(name)![cmd].push(ms);
      }
      if (i >= 3) times.get(name)!.cycle.push(sum);
    }
  return times;
}

if (await inPrivateMountNamespace()) {
  const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-"));
  privateState(dir);
  const cgroupParent = await benchCgroup();
  // made first, as an engine's parent cgroup is there before its containers: runc leaves a
  // parent it made, mycfs removes it at delete, so without it each cycle of mycfs's would
  // make and remove two cgroups and runc's one
  mkdirSync(cgroupParent);
  try {
    await busyboxBundle(dir, (spec) => {
      spec.linux.cgroupsPath = `${cgroupParent.replace("/sys/fs/cgroup", "")}/c`;
    });
    // the runtimes' state on a tmpfs, as an engine's is (/run): on this VM's ext4 each
    // directory, fifo and file made and removed waits on the journal
    const state = join(dir, "oci-state");
    mkdirSync(state);
    await $`mount -t tmpfs -o mode=0700 mycfs-bench ${state}`;
    const times = cycles(
      {
        "mycfs create+start+delete": [MYCFS],
        "runc create+start+delete": ["runc"],
        // crun raises RLIMIT_MEMLOCK for its cgroup's device program, which a host without
        // CAP_SYS_RESOURCE refuses: it runs without a cgroup, as in bench/run.ts
        "crun create+start+delete (no cgroup)": ["crun", "--cgroup-manager=disabled"],
      },
      state,
      dir,
    );
    const when = `${new Date().toISOString().slice(0, 10)}, ${(await $`uname -r`.text()).trim()}`;
    console.log(`\n\`create\`, \`start\`, \`delete --force\` of a \`true\` bundle (busybox), ${rounds} cycles each after 3 warm-ups (${when}):\n`);
    console.log(table(new Map([...times].map(([name, t]) => [name, t.cycle])), "mycfs create+start+delete"));
    console.log("\nMedians of each command, ms:\n\n| runtime | create | start | delete |\n|---|---:|---:|---:|");
    for (const [name, t] of times) console.log(`| ${name.split(" ")[0]} | ${COMMANDS.map((c) => median(t[c]).toFixed(2)).join(" | ")} |`);

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
    await $`umount ${join(dir, "oci-state")}`.quiet().nothrow();
    await $`rmdir ${cgroupParent}`.quiet().nothrow();
    rmSync(dir, { recursive: true, force: true });
  }
}
