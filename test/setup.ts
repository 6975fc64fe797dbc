// Preloaded by `bun test`: builds the probe the container tests run, and checks after
// the whole suite that nothing was left on the host.
import { afterAll } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
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
// Containers started as root are on the bridge by default: the suite runs in a network
// namespace of its own (test/in-netns.ts, through npm test or npm run suite), where they
// make mycfs0, the nftables table and ip_forward; the host's namespace must never see them.
const hostNet = process.env.MYCFS_HOST_NET;
if (!hostNet || readlinkSync(hostNet) === readlinkSync("/proc/self/ns/net"))
  throw new Error("the tests start containers on the default bridge: run them in a network namespace of their own, with npm test, or npm run suite -- FILE...");
const inHostNet = (argv: string[]) => Bun.spawnSync(["nsenter", `--net=${hostNet}`, ...argv], { stdout: "pipe", stderr: "ignore" });
const ipForward = () => inHostNet(["cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"]).stdout.toString();
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
  const bridge = inHostNet(["ip", "-o", "link", "show", "mycfs0"]).stdout.toString();
  const table = Bun.which("nft") ? inHostNet(["nft", "list", "table", "inet", "mycfs"]).exitCode === 0 : false;
  if (bridge || table) throw new Error(`the suite made ${bridge ? "the bridge mycfs0" : "the nftables table inet mycfs"} in the host's network namespace`);
  if (ipForward() !== forwardBefore) throw new Error("the suite changed the host's net.ipv4.ip_forward or net.ipv6.conf.all.forwarding");
  const cgroups = mycfsCgroups();
  if (cgroups.length) throw new Error(`the suite left cgroups on the host:\n${cgroups.join("\n")}`);
  const temps = readdirSync(tmpdir()).filter((f) => f.startsWith("mycfs-test-") && !tempBefore.has(f));
  if (temps.length) throw new Error(`the suite left temporary directories: ${temps.join(", ")}`);
  const children = childrenOf(process.pid);
  if (children.length) throw new Error(`the suite left child processes: ${children.join(", ")}`);
});
