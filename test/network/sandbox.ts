// Network namespaces of a test's own, so that nothing of the bridge network ever touches
// the host's: a sandbox, where mycfs runs (its bridge, nftables table and sysctls are the
// sandbox's), and an "outside world" joined to it by a veth, with an HTTP server that
// answers each request with the address it came from.
//   sandbox  uplink 192.0.2.1/24     <-veth->  uplink 192.0.2.2/24     outside (server :8000)
//                   2001:db8::1/64                    2001:db8::2/64     (and on IPv6)
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers";

export const SANDBOX_IP = "192.0.2.1";
const OUTSIDE_IP = "192.0.2.2";
export const SERVER = `http://${OUTSIDE_IP}:8000/`;
export const SANDBOX_IP6 = "2001:db8::1";
const OUTSIDE_IP6 = "2001:db8::2";
export const SERVER6 = `http://[${OUTSIDE_IP6}]:8000/`;

const SERVE = `for (const hostname of ["${OUTSIDE_IP}", "${OUTSIDE_IP6}"]) Bun.serve({ hostname, port: 8000, fetch: (req, server) => new Response(server.requestIP(req).address) }); console.log("listening");`;

/** Resolves once the process prints `marker` on stdout. */
export async function untilPrinted(p: Bun.Subprocess<"ignore", "pipe", "pipe">, marker: string) {
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before printing ${marker}: ${out}${await new Response(p.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
}

function sh(pid: number, script: string): string {
  const p = Bun.spawnSync(["nsenter", "-t", String(pid), "-n", "sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${script}: ${p.stderr}`);
  return p.stdout.toString();
}

export async function netSandbox(tag: string) {
  const keep = (argv: string[]) => Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  // unshare execs sleep: its pid is the namespace's holder
  const sandbox = keep(["unshare", "--net", "sleep", "infinity"]);
  const outside = keep(["unshare", "--net", "sleep", "infinity"]);
  const procs: Bun.Subprocess[] = [sandbox, outside];
  const dir = tempDir(tag);
  const cleanup = async () => {
    for (const p of procs.reverse()) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // until both are in their namespaces (unshare has exec'd sleep)
    for (const p of [sandbox, outside]) while (!(await Bun.file(`/proc/${p.pid}/cmdline`).text()).startsWith("sleep")) await Bun.sleep(5);
    sh(
      sandbox.pid,
      `ip link set lo up && ip link add uplink type veth peer name uplink netns ${outside.pid} && ip addr add ${SANDBOX_IP}/24 dev uplink && ip addr add ${SANDBOX_IP6}/64 dev uplink nodad && ip link set uplink up`,
    );
    sh(outside.pid, `ip link set lo up && ip addr add ${OUTSIDE_IP}/24 dev uplink && ip addr add ${OUTSIDE_IP6}/64 dev uplink nodad && ip link set uplink up`);
    const server = keep(["nsenter", "-t", String(outside.pid), "-n", process.execPath, "-e", SERVE]);
    procs.push(server);
    await untilPrinted(server, "listening");
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    /** A state directory of the sandbox's own: its leases describe the sandbox's bridge. */
    state: join(dir, "state"),
    /** argv run in the sandbox's network namespace (test/helpers.ts mycfs's `wrap`). */
    wrap: (argv: string[]) => ["nsenter", "-t", String(sandbox.pid), "-n", ...argv],
    /** A shell script's output, run in the sandbox or outside; throws if it fails. */
    inSandbox: (script: string) => sh(sandbox.pid, script),
    outside: (script: string) => sh(outside.pid, script),
    /** Starts a process in the sandbox, ended by cleanup. */
    spawnInSandbox(argv: string[]) {
      const p = keep(["nsenter", "-t", String(sandbox.pid), "-n", ...argv]);
      procs.push(p);
      return p;
    },
    cleanup,
  };
}
