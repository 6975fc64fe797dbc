// The container's /etc/hosts and /etc/hostname. Its host name is on its bridge address, or
// else on 127.0.1.1 (Debian's address for a host name without an address of its own), so that a program
// that resolves its own name (sudo, Java's getLocalHost, hostname -f) finds it; docker
// writes it only with an address, which a namespace with only lo has not. In the host's
// network namespace the host's /etc/hosts comes first, as docker copies it.
import { MycfsError } from "../errors";
import { isIP } from "./ip";

export interface ExtraHost {
  name: string;
  ip: string;
}

const NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/;

/** --add-host NAME:IP (NAME=IP too, as docker's; an IPv6 address keeps its colons);
 * host-gateway: `gateway`, the bridge's address, on the bridge network. */
export function parseAddHost(spec: string, gateway?: string): ExtraHost {
  const sep = spec.search(/[:=]/);
  const [name, ip] = sep < 0 ? [spec, ""] : [spec.slice(0, sep), spec.slice(sep + 1).replace(/^\[(.*)\]$/, "$1")];
  if (!NAME.test(name) || !ip) throw new MycfsError(`--add-host ${spec}: expected NAME:IP`);
  if (ip === "host-gateway") {
    if (gateway) return { name, ip: gateway };
    throw new MycfsError(
      `--add-host ${spec}: host-gateway needs a bridge network (--network bridge), which gives the host an address the container reaches; or give the IP`,
    );
  }
  if (!isIP(ip)) throw new MycfsError(`--add-host ${spec}: ${ip} is not an IPv4 or IPv6 address`);
  return { name, ip };
}

const DEFAULTS = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

/** `hostHosts`: the host's /etc/hosts, in the host's network namespace; else null.
 * `addresses`: the container's own on the bridge network (IPv4, and IPv6 where it has it). */
export function hostsFile(hostname: string, extra: ExtraHost[], hostHosts: string | null, addresses = ["127.0.1.1"]): string {
  const base = hostHosts === null ? DEFAULTS : [hostHosts.trimEnd()];
  return [...base, ...extra.map((h) => `${h.ip}\t${h.name}`), ...addresses.map((a) => `${a}\t${hostname}`), ""].join("\n");
}
