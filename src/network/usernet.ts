// Rootless networks (--network pasta, --network slirp4netns): a user-mode network stack,
// a process of the user's own outside the container, that gives the container's new
// network namespace a tap device and relays its traffic through ordinary sockets of the
// host's namespace. podman's way, with the same two programs: pasta (Debian's passt)
// copies the host's addresses and routes into the namespace and forwards -p's ports from
// the host; slirp4netns NATs behind 10.0.2.0/24. mycfs starts one at Sync.NETWORK, the
// child waiting in its new namespaces (the helper joins both, as the namespace's owner),
// and lets the child go on once the tap is configured: pasta forks into the background
// once it has configured the namespace, slirp4netns writes to its --ready-fd.
import { MycfsError } from "../errors";
import { endProcess } from "../container/control";
import { close, mkdtemp, pipe, readFile, removeTree } from "../native/lib";
import { bootId, processRef, type ProcessRef } from "../state/record";
import type { Port } from "./ports";

export type UserNetMode = "pasta" | "slirp4netns";

/** What a container has of a rootless network, as its record keeps it: its published
 * ports (pasta), and the helper process, once started. */
export interface UserNet {
  mode: UserNetMode;
  ports: Port[];
  helper?: ProcessRef;
}

/** slirp4netns's DNS forwarder, which its --configure gives the namespace (10.0.2.3). */
export const SLIRP_DNS = "10.0.2.3";

/** Whether this network namespace has a default route (IPv4 or IPv6): pasta copies the
 * interface it leaves by, and without one neither helper reaches anything. */
export function hasDefaultRoute(): boolean {
  const v4 = (readFile("/proc/net/route") ?? "").split("\n").slice(1);
  if (v4.some((l) => l.split("\t")[1] === "00000000")) return true;
  // ::/0: destination and its prefix length first, then the source; not the unreachable route of lo
  return (readFile("/proc/net/ipv6_route") ?? "").split("\n").some((l) => /^0{32} 00 /.test(l) && !l.trimEnd().endsWith(" lo"));
}

/** pasta's -t/-u value for a port: [ADDR/]HOST:CTR. */
const pastaPort = (p: Port) => `${p.hostIp ? `${p.hostIp}/` : ""}${p.hostPort}:${p.containerPort}`;

/** pasta's argv for the namespaces of `pid`: configure them, forward -p's ports only (its
 * default, auto, would forward whatever the container binds), nothing from the container
 * to the host's own ports, and the gateway not mapped to the host's loopback (podman's
 * defaults, which keep the host's loopback services out of the container's reach). */
export function pastaArgv(pid: number, ports: Port[], pidFile: string): string[] {
  // one option a port: pasta takes an address only before a whole list
  const forward = (flag: string, proto: Port["proto"]) => {
    const these = ports.filter((p) => p.proto === proto);
    return these.length ? these.flatMap((p) => [flag, pastaPort(p)]) : [flag, "none"];
  };
  return [
    "pasta",
    "--config-net",
    "--quiet",
    "--no-map-gw",
    ...forward("-t", "tcp"),
    ...forward("-u", "udp"),
    ...["-T", "none", "-U", "none"],
    "--pid",
    pidFile,
    String(pid),
  ];
}

/** slirp4netns's argv: fd 3 its exit fd, fd 4 its ready fd. */
export function slirpArgv(pid: number): string[] {
  return [
    "slirp4netns",
    "--configure",
    "--mtu=65520",
    "--disable-host-loopback",
    "--exit-fd=3",
    "--ready-fd=4",
    `--userns-path=/proc/${pid}/ns/user`,
    String(pid),
    "tap0",
  ];
}

/** The helper's own words when it failed, without the noise of a missing syslog. */
const said = (stderr: string | null) =>
  (stderr ?? "")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("Failed to send"))
    .join("; ");

/** A started helper: its process, and how it is ended. */
export interface Helper {
  ref: ProcessRef;
  stop(): void;
}

/** The helper's program, and the package that has it, for --network MODE. */
export const HELPER_PACKAGE: Record<UserNetMode, string> = { pasta: "passt", slirp4netns: "slirp4netns" };

/** Starts the helper for the child `pid` (waiting at Sync.NETWORK) and returns once the
 * namespace is configured. Synchronous: the child's sync points are answered in order. */
export function startHelper(mode: UserNetMode, pid: number, ports: Port[]): Helper {
  // a directory of the user's own for what the helper writes (pasta's pid, slirp4netns's stderr)
  const dir = mkdtemp(process.env.TMPDIR || "/tmp", `mycfs-${mode}-`);
  try {
    return mode === "pasta" ? startPasta(pid, ports, dir) : startSlirp(pid, dir);
  } finally {
    removeTree(dir);
  }
}

/** pasta forks into the background once the namespace is configured, after writing the
 * daemon's pid: its first process's exit is the sign. It does not end with a namespace
 * given by pid (only with one bound on a file), so mycfs ends it (stopHelper), and the
 * next mycfs does if mycfs was killed (state/recover.ts). */
function startPasta(pid: number, ports: Port[], dir: string): Helper {
  const pidFile = `${dir}/pid`;
  const p = Bun.spawnSync(pastaArgv(pid, ports, pidFile), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const daemon = Number(readFile(pidFile)?.trim());
  if (p.exitCode !== 0 || !(daemon > 0)) throw new MycfsError(`--network pasta: pasta failed: ${said(p.stderr.toString()) || `exit status ${p.exitCode}`}`);
  const ref = processRef(daemon);
  return { ref, stop: () => stopHelper(ref) };
}

/** slirp4netns stays a child of mycfs and ends when mycfs's end of its exit fd closes:
 * when mycfs ends it, and when mycfs dies (SIGKILL) with the container. */
function startSlirp(pid: number, dir: string): Helper {
  const [exitRead, exitWrite] = pipe();
  const [readyRead, readyWrite] = pipe();
  const errFile = `${dir}/stderr`;
  let p: Bun.Subprocess;
  try {
    p = Bun.spawn(slirpArgv(pid), {
      stdio: ["ignore", "ignore", Bun.file(errFile), exitRead, readyWrite],
      // a session of its own: a Ctrl-C at mycfs's terminal is the container's, not its
      detached: true,
    });
  } finally {
    close(exitRead);
    close(readyWrite);
  }
  // blocks until slirp4netns writes "1", or ends (the pipe's other end closes)
  const ready = readFile(`/proc/self/fd/${readyRead}`, 16);
  close(readyRead);
  const ref = processRef(p.pid);
  let open = true;
  const stop = () => {
    // once: the fd's number may be another's afterwards
    if (open) close(exitWrite);
    open = false;
    stopHelper(ref);
  };
  if (ready?.trim() !== "1") {
    stop();
    throw new MycfsError(`--network slirp4netns: slirp4netns failed: ${said(readFile(errFile)) || "it did not configure the namespace"}`);
  }
  return { ref, stop };
}

/** Ends a helper, if it is still the process recorded: SIGTERM, SIGKILL after 1 s. */
export const stopHelper = (ref: ProcessRef) => endProcess(ref, bootId(), 1000);
