// Preloaded by `bun test`: builds the probe the container tests run, and checks after
// the whole suite that nothing was left on the host.
import { afterAll } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { childrenOf, mycfsCgroups, PROBE, tempDir } from "./helpers";

// Container tests run real containers: without root they fail, and this says why first.
if (process.getuid?.() !== 0) console.error("mycfs tests: the container tests need root; run `sudo npm test`");

if (!existsSync(PROBE) || statSync(PROBE).mtimeMs < statSync("test/probe.c").mtimeMs) {
  mkdirSync(dirname(PROBE), { recursive: true }); // build/ is made by build.ts, which unit tests do not need
  const cc = Bun.spawnSync(["cc", "-static", "-O2", "-Wall", "-Werror", "-o", PROBE, "test/probe.c"], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`building the probe failed:\n${cc.stderr}`);
}

// Container records go to a state directory of the suite's own, never the host's /run/mycfs;
// skopeo's and podman's caches and state (test/helpers.ts withoutSystemCache) never to the host's.
const hostDirs = ["/run/mycfs", "/var/lib/containers", "/run/containers", "/etc/containers/networks"];
const hostBefore = new Set(hostDirs.filter((d) => existsSync(d)));
const ipForward = () => readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
const forwardBefore = ipForward();
process.env.MYCFS_STATE = tempDir("state");
// Temporary directories the tests make are named mycfs-test-*: each must be gone at the end.
const tempBefore = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith("mycfs-test-")));

afterAll(() => {
  // Containers run without --rm are kept, as docker keeps them, once exited; one still
  // running (or never started) at the end is a leak.
  const state = process.env.MYCFS_STATE!;
  const records = readdirSync(state)
    .filter((f) => /^[0-9a-f]{64}$/.test(f))
    .map((id) => JSON.parse(readFileSync(`${state}/${id}/state.json`, "utf8")) as { id: string; status: string });
  rmSync(state, { recursive: true, force: true });
  const live = records.filter((r) => r.status !== "exited").map((r) => `${r.id} (${r.status})`);
  if (live.length) throw new Error(`the suite left containers in its state directory: ${live.join(", ")}`);
  // a mycfs started without the suite's environment would have written the host's
  const made = hostDirs.filter((d) => !hostBefore.has(d) && existsSync(d));
  if (made.length) throw new Error(`the suite made the host's ${made.join(", ")}`);
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes("mycfs"));
  if (mounts.length) throw new Error(`the suite left mounts on the host:\n${mounts.join("\n")}`);
  // the bridge network is tested only inside network namespaces of the tests' own (test/network/)
  const bridge = Bun.spawnSync(["ip", "-o", "link", "show", "mycfs0"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  const table = Bun.which("nft") ? Bun.spawnSync(["nft", "list", "table", "ip", "mycfs"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0 : false;
  if (bridge || table) throw new Error(`the suite made ${bridge ? "the bridge mycfs0" : "the nftables table ip mycfs"} in the host's network namespace`);
  if (ipForward() !== forwardBefore) throw new Error("the suite changed the host's net.ipv4.ip_forward");
  const cgroups = mycfsCgroups();
  if (cgroups.length) throw new Error(`the suite left cgroups on the host:\n${cgroups.join("\n")}`);
  const temps = readdirSync(tmpdir()).filter((f) => f.startsWith("mycfs-test-") && !tempBefore.has(f));
  if (temps.length) throw new Error(`the suite left temporary directories: ${temps.join(", ")}`);
  const children = childrenOf(process.pid);
  if (children.length) throw new Error(`the suite left child processes: ${children.join(", ")}`);
});
