// The bridge network's costs, measured wholly inside a network namespace of the
// benchmark's own (nothing is made in the host's): a container's start with
// --network bridge against none (hyperfine), and TCP throughput (iperf3, 3 s each) from
// the sandbox to a container over mycfs0, from a second namespace through -p's DNAT, and
// between two bare namespaces joined by a veth, the floor.
//   sudo bun bench/network.ts [ROUNDS]     (npm run build first)
import { $ } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MYCFS, mycfsRun, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 30);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ iperf3: "iperf3", hyperfine: "hyperfine", nft: "nftables", ip: "iproute2", nsenter: "util-linux" });

/** Gbit/s that an iperf3 client in `client` (argv prefix) measured against `server`. */
async function throughput(client: string[], server: string[], host: string, port = 5201): Promise<number> {
  const s = Bun.spawn([...server, "iperf3", "-s", "-1", "-p", "5201"], { stdout: "ignore", stderr: "inherit" });
  try {
    let error = "";
    for (let i = 0; i < 50; i++) {
      const r = Bun.spawnSync([...client, "iperf3", "-c", host, "-p", String(port), "-t", "3", "-J"], { stdout: "pipe", stderr: "pipe" });
      const out = JSON.parse(r.stdout.toString() || "{}");
      if (out.end?.sum_received) return out.end.sum_received.bits_per_second / 1e9;
      error = out.error ?? r.stderr.toString();
      await Bun.sleep(100); // the server is not listening yet
    }
    throw new Error(`iperf3 -c ${host}:${port}: ${error}`);
  } finally {
    s.kill();
    await s.exited;
  }
}

if (process.env.MYCFS_BENCH_NETNS !== "1") {
  // again, inside a network namespace of its own
  const p = Bun.spawn(["unshare", "--net", process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, MYCFS_BENCH_NETNS: "1" },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exitCode = await p.exited;
} else {
  const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-network-"));
  privateState(dir);
  process.env.MYCFS_ROOT = join(dir, "store"); // the embedded image, unpacked here: not in the host's store
  const env = process.env;
  const peer = Bun.spawn(["unshare", "--net", "sleep", "infinity"], { stdout: "ignore" });
  let id = "";
  try {
    while (!(await Bun.file(`/proc/${peer.pid}/cmdline`).text()).startsWith("sleep")) await Bun.sleep(5);
    const inPeer = ["nsenter", "-t", String(peer.pid), "-n"];
    await $`ip link set lo up && ip link add uplink type veth peer name uplink netns ${peer.pid} && ip addr add 192.0.2.1/24 dev uplink && ip link set uplink up`;
    await $`${inPeer} sh -c ${"ip link set lo up && ip addr add 192.0.2.2/24 dev uplink && ip link set uplink up"}`;

    const starts = await time(
      { "--network none": mycfsRun("busybox", "true"), "--network bridge": [MYCFS, "run", "--rm", "--network", "bridge", "busybox", "true"] },
      rounds,
    );
    const started = Bun.spawnSync([MYCFS, "run", "-d", "--network", "bridge", "-p", "5202:5201", "busybox", "sleep", "1000000"], {
      env,
      stdout: "pipe",
      stderr: "inherit",
    });
    id = started.stdout.toString().trim();
    if (started.exitCode !== 0) throw new Error("mycfs run -d failed");
    const record = JSON.parse(readFileSync(join(process.env.MYCFS_STATE!, id, "state.json"), "utf8"));
    // iperf3 is the host's, run in the container's network namespace only: the path measured is the network's
    const inContainer = ["nsenter", "-t", String(record.container.pid), "-n"];
    const rows = [
      ["two bare namespaces, one veth (the floor)", await throughput(inPeer, [], "192.0.2.1")],
      ["sandbox → container over mycfs0", await throughput([], inContainer, record.network.ip)],
      ["second namespace → container through -p (DNAT, forwarding)", await throughput(inPeer, inContainer, "192.0.2.1", 5202)],
      ["sandbox's 127.0.0.1 → container through -p (output DNAT)", await throughput([], inContainer, "127.0.0.1", 5202)],
    ] as const;
    const kernel = (await $`uname -r`.text()).trim();
    console.log(`\nA container's start, ${rounds} runs each after 3 warm-ups, in turns of 5 (${new Date().toISOString().slice(0, 10)}, ${kernel}):\n`);
    console.log(table(starts, "--network bridge"));
    console.log("\nTCP throughput, iperf3 -t 3, one stream:\n");
    console.log(["| path | Gbit/s |", "|---|---:|", ...rows.map(([what, g]) => `| ${what} | ${g.toFixed(1)} |`)].join("\n"));
  } finally {
    if (id) Bun.spawnSync([MYCFS, "rm", "-f", id], { env, stdout: "ignore" });
    peer.kill();
    await peer.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
