// `mycfs run`'s network options and what they resolve to: checked before anything is made;
// the namespace a joined mode names is opened only once the container is about to start.
import type { ArgsDef } from "citty";
import type { Userns } from "../container/userns";
import { close, fileMode, readFile } from "../native/lib";
import { log } from "../log";
import { type EtcFilesOf, etcFiles } from "../network/files";
import { parseAddHost } from "../network/hosts";
import { openNetwork } from "../network/join";
import { type BridgeRequest, checkNetworkUserns, type NetworkMode, type NetworkRecord, parseNetwork } from "../network/mode";
import { parsePublish, type Port } from "../network/ports";
import { configuredSubnet } from "../network/subnet";
import { MycfsError } from "../errors";
import { checkDnsFlags } from "../network/resolv";
import { HELPER_PACKAGE, hasDefaultRoute, SLIRP_DNS } from "../network/usernet";
import type { RunFlags } from "../spec/from-flags";
import type { StateDir } from "../state/dir";
import { list, str, type Values } from "./argv";

export const networkArgs = {
  network: {
    type: "string",
    valueHint: "MODE",
    description:
      "bridge (the default as root: eth0 on mycfs0, subnet $MYCFS_SUBNET or 10.87.0.0/16), pasta or slirp4netns (rootless; the default: pasta if installed), none (lo only), host, container:NAME|ID, ns:PATH",
  },
  publish: {
    type: "string",
    alias: "p",
    valueHint: "[IP:]HOST:CTR[/tcp|udp]",
    description: "publish a container's port on the host (--network bridge or pasta; repeatable)",
  },
  "publish-all": { type: "boolean", alias: "P", description: "publish the image's exposed ports on ports the kernel picks (--network bridge or pasta)" },
  "add-host": { type: "string", valueHint: "NAME:IP", description: "a line in the container's /etc/hosts (repeatable)" },
  dns: { type: "string", valueHint: "IP", description: "a nameserver in the container's resolv.conf, instead of the host's (repeatable)" },
  "dns-search": { type: "string", valueHint: "DOMAIN", description: "a search domain, instead of the host's (repeatable)" },
  "dns-option": { type: "string", valueHint: "OPT", description: "a resolver option, instead of the host's, e.g. ndots:2 (repeatable)" },
} as const satisfies ArgsDef;

export const repeatableNetworkArgs = ["add-host", "dns", "dns-search", "dns-option", "publish"];

export interface Network {
  mode: NetworkMode;
  /** --network as given, for messages. */
  flag: string;
  etcFiles: EtcFilesOf;
  /** -p's ports, and -P: the image's exposed ports too (added once the image is known). */
  publish: Port[];
  publishAll: boolean;
}

/** Why the bridge cannot be had here, or null. Without --network, a container then gets
 * `none`, after one notice: a minimal VM without nft, mycfs in a container without
 * CAP_NET_ADMIN (12) should still run containers. */
function bridgeUnavailable(): string | null {
  if (!Bun.which("nft")) return "nft is not installed (apt-get install nftables)";
  const effective = /CapEff:\s*([0-9a-f]+)/.exec(readFile("/proc/self/status") ?? "")?.[1];
  if (effective && !(BigInt(`0x${effective}`) & (1n << 12n))) return "mycfs lacks CAP_NET_ADMIN";
  return null;
}

const TUN = "/dev/net/tun";

/** Whether every user may open the tun device, where both helpers make the namespace's
 * tap. A device open to a group only counts as closed: --network pasta still tries it. */
function tunOpenToAll(): boolean {
  const mode = fileMode(TUN);
  return mode !== null && (mode & 0o006) === 0o006;
}

/** Rootless, podman's default: pasta if installed, else slirp4netns; or why neither can be had. */
function rootlessNetwork(): { mode: "pasta" | "slirp4netns" } | { why: string } {
  const tool = Bun.which("pasta") ? "pasta" : Bun.which("slirp4netns") ? "slirp4netns" : undefined;
  if (!tool) return { why: `neither pasta (apt-get install ${HELPER_PACKAGE.pasta}) nor slirp4netns is installed` };
  if (!tunOpenToAll()) return { why: `${TUN} is not open to every user (Debian makes it mode 666)` };
  // pasta copies the interface of the default route, and fails without one; slirp4netns
  // would start, but reach nothing
  if (!hasDefaultRoute()) return { why: "this network namespace has no default route" };
  return { mode: tool };
}

/** docker's default: the bridge as root; rootless (no bridge there), podman's: pasta or
 * slirp4netns. Where the default cannot be had, none, after one notice. */
function defaultNetwork(userns: Userns | undefined): string {
  if (userns?.rootless) {
    const r = rootlessNetwork();
    if ("mode" in r) return r.mode;
    log.info(`no network for a rootless container here (${r.why}): it gets a network namespace with only lo (--network none)`);
    return "none";
  }
  const why = bridgeUnavailable();
  if (!why) return "bridge";
  log.info(`no bridge network here (${why}): the container gets a network namespace with only lo (--network none)`);
  return "none";
}

/** The options, checked; the /etc files' text for the container named `hostname`. */
export function resolveNetwork(v: Values, hostname: string, userns: Userns | undefined): Network {
  const flag = str(v.network) ?? defaultNetwork(userns);
  const mode = parseNetwork(flag);
  checkNetworkUserns(mode, flag, userns);
  if ((mode.mode === "pasta" || mode.mode === "slirp4netns") && !Bun.which(mode.mode))
    throw new MycfsError(`--network ${flag}: ${mode.mode} is not installed (apt-get install ${HELPER_PACKAGE[mode.mode]}), or not in PATH`);
  const gateway = mode.mode === "bridge" ? configuredSubnet().gateway : undefined;
  const hosts = list(v["add-host"]).map((h) => parseAddHost(h, gateway));
  const dns = checkDnsFlags({ dns: list(v.dns), search: list(v["dns-search"]), options: list(v["dns-option"]) });
  const publish = list(v.publish).map(parsePublish);
  const publishAll = v["publish-all"] === true;
  if (mode.mode === "slirp4netns" && (publish.length || publishAll))
    throw new MycfsError(`-p and -P: not with --network slirp4netns (mycfs publishes through pasta's forwarding): use --network pasta (apt-get install passt)`);
  if (mode.mode !== "bridge" && mode.mode !== "pasta" && (publish.length || publishAll))
    throw new MycfsError(
      `-p and -P publish on the bridge network${userns?.rootless ? " or through pasta" : ""}: add --network ${userns?.rootless ? "pasta" : "bridge"}`,
    );
  const files = etcFiles(hostname, mode.mode === "host", hosts, dns, mode.mode === "slirp4netns" ? SLIRP_DNS : undefined);
  return { mode, flag, etcFiles: files, publish, publishAll };
}

/** What the spec, the planner and the record take of the network, once opened; the
 * bridge's record is made once its address is leased (container/start.ts). */
export interface OpenNetwork {
  netns: RunFlags["netns"];
  fd?: number;
  record: NetworkRecord | BridgeRequest;
}

/** Calls f with the network's namespace opened (joined modes), closed after. */
export async function withNetwork<T>(n: Network, state: StateDir, f: (o: OpenNetwork) => Promise<T>): Promise<T> {
  const joined = openNetwork(n.mode, n.flag, state);
  try {
    if (joined) return await f({ netns: { path: joined.path }, fd: joined.fd, record: joined.record });
    const { mode } = n.mode;
    if (mode === "bridge") return await f({ netns: "new", record: { mode, ports: n.publish } });
    if (mode === "pasta" || mode === "slirp4netns") return await f({ netns: "new", record: { mode, ports: n.publish } });
    return await f({ netns: mode === "host" ? "host" : "new", record: { mode: mode === "host" ? "host" : "none" } });
  } finally {
    if (joined) close(joined.fd);
  }
}
