// `mycfs run`'s network options and what they resolve to: checked before anything is made;
// the namespace a joined mode names is opened only once the container is about to start.
import type { ArgsDef } from "citty";
import type { Userns } from "../container/userns";
import { close } from "../native/lib";
import { type EtcFiles, etcFiles } from "../network/files";
import { parseAddHost } from "../network/hosts";
import { openNetwork } from "../network/join";
import { checkNetworkUserns, type NetworkMode, type NetworkRecord, parseNetwork } from "../network/mode";
import { checkDnsFlags } from "../network/resolv";
import type { RunFlags } from "../spec/from-flags";
import type { StateDir } from "../state/dir";
import { list, str, type Values } from "./argv";

export const networkArgs = {
  network: { type: "string", valueHint: "MODE", description: "none (default: a namespace with lo only), host, container:NAME|ID, ns:PATH" },
  "add-host": { type: "string", valueHint: "NAME:IP", description: "a line in the container's /etc/hosts (repeatable)" },
  dns: { type: "string", valueHint: "IP", description: "a nameserver in the container's resolv.conf, instead of the host's (repeatable)" },
  "dns-search": { type: "string", valueHint: "DOMAIN", description: "a search domain, instead of the host's (repeatable)" },
  "dns-option": { type: "string", valueHint: "OPT", description: "a resolver option, instead of the host's, e.g. ndots:2 (repeatable)" },
} as const satisfies ArgsDef;

export const repeatableNetworkArgs = ["add-host", "dns", "dns-search", "dns-option"];

export interface Network {
  mode: NetworkMode;
  /** --network as given, for messages. */
  flag: string;
  etcFiles: EtcFiles;
}

/** The options, checked; the /etc files' text for the container named `hostname`. */
export function resolveNetwork(v: Values, hostname: string, userns: Userns | undefined): Network {
  const flag = str(v.network) ?? "none";
  const mode = parseNetwork(flag);
  checkNetworkUserns(mode, flag, userns);
  const hosts = list(v["add-host"]).map(parseAddHost);
  const dns = checkDnsFlags({ dns: list(v.dns), search: list(v["dns-search"]), options: list(v["dns-option"]) });
  return { mode, flag, etcFiles: etcFiles(hostname, mode.mode === "host", hosts, dns) };
}

/** What the spec, the planner and the record take of the network, once opened. */
export interface OpenNetwork {
  netns: RunFlags["netns"];
  fd?: number;
  record: NetworkRecord;
}

/** Calls f with the network's namespace opened (joined modes), closed after. */
export async function withNetwork<T>(n: Network, state: StateDir, f: (o: OpenNetwork) => Promise<T>): Promise<T> {
  const joined = openNetwork(n.mode, n.flag, state);
  try {
    if (joined) return await f({ netns: { path: joined.path }, fd: joined.fd, record: joined.record });
    return await f({ netns: n.mode.mode === "host" ? "host" : "new", record: { mode: n.mode.mode === "host" ? "host" : "none" } });
  } finally {
    if (joined) close(joined.fd);
  }
}
