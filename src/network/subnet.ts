// The bridge network's IPv4 subnet: MYCFS_SUBNET, or 10.87.0.0/16 — beside podman's
// 10.88.0.0/16 (and the 10.89.x pool it takes further networks from) and docker's
// 172.17-31, so that mycfs's bridge shares a host with theirs, and away from the
// 192.168.x.x of home routers. The gateway (the bridge's own address) is its first.
import { MycfsError } from "../errors";

export const DEFAULT_SUBNET = "10.87.0.0/16";

export interface Subnet {
  /** The network's address as a number, and its prefix length. */
  base: number;
  prefix: number;
  cidr: string;
  gateway: string;
}

export const ipString = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

export function ipNumber(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function parseSubnet(cidr: string, what = "MYCFS_SUBNET"): Subnet {
  const [ip, len] = cidr.split("/");
  const base = ipNumber(ip ?? "");
  const prefix = Number(len);
  if (base === null || !/^\d+$/.test(len ?? "") || prefix < 8 || prefix > 29)
    throw new MycfsError(`${what}=${cidr}: expected an IPv4 network as ADDRESS/PREFIX, with a prefix of 8 to 29 (e.g. ${DEFAULT_SUBNET})`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & ~mask) >>> 0 !== 0)
    throw new MycfsError(`${what}=${cidr}: ${ip} is not the network's first address (${ipString((base & mask) >>> 0)}/${prefix})`);
  return { base, prefix, cidr, gateway: ipString(base + 1) };
}

export const configuredSubnet = (): Subnet => parseSubnet(process.env.MYCFS_SUBNET || DEFAULT_SUBNET);

/** The first address a container may get that `taken` has not: after the gateway, before
 * the broadcast address; null if none is left. */
export function firstFree(s: Subnet, taken: ReadonlySet<string>): string | null {
  const end = s.base + 2 ** (32 - s.prefix) - 1;
  for (let n = s.base + 2; n < end; n++) {
    const ip = ipString(n);
    if (!taken.has(ip)) return ip;
  }
  return null;
}
