// The bridge network's IPv6 subnet, where mycfs's network namespace has IPv6: MYCFS_SUBNET6,
// or fd87:6d79:6366::/64, a unique local prefix (its bytes spell "mycf"), so that
// containers' addresses are never routed beyond the host but through its masquerade, as
// their IPv4 ones. A container's IPv6 address has the same host number as its IPv4 one:
// the lease of one (ipam.ts) is the lease of both. MYCFS_SUBNET6=none: IPv4 only.
import { MycfsError } from "../errors";
import { readFile } from "../native/lib";
import { ipNumber, type Subnet } from "./subnet";

export const DEFAULT_SUBNET6 = "fd87:6d79:6366::/64";

export interface Subnet6 {
  base: bigint;
  prefix: number;
  cidr: string;
  gateway: string;
}

/** An IPv6 address as a number, or null if it is not one. */
export function ip6Number(ip: string): bigint | null {
  if (!/^[0-9a-fA-F:]+$/.test(ip) || !URL.canParse(`http://[${ip}]/`)) return null;
  const [head = "", tail] = ip.split("::");
  const groups = (s: string) => (s ? s.split(":") : []);
  const missing = 8 - groups(head).length - groups(tail ?? "").length;
  const all = [...groups(head), ...(tail === undefined ? [] : Array(missing).fill("0")), ...groups(tail ?? "")];
  return all.reduce((n, g) => (n << 16n) | BigInt(`0x${g}`), 0n);
}

/** The address's canonical text (RFC 5952, as the kernel and `ip` print it). */
export function ip6String(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** The address's 16 bytes, for netlink. */
export const ip6Bytes = (ip: string): Uint8Array => {
  const n = ip6Number(ip)!;
  return new Uint8Array(Array.from({ length: 16 }, (_, i) => Number((n >> BigInt(120 - 8 * i)) & 0xffn)));
};

/** `v4`: the IPv4 subnet, whose every host number must have an IPv6 address here. */
export function parseSubnet6(cidr: string, v4: Subnet, what = "MYCFS_SUBNET6"): Subnet6 {
  const [ip = "", len = ""] = cidr.split("/");
  const base = ip6Number(ip);
  const prefix = Number(len);
  const fix = `expected an IPv6 network as ADDRESS/PREFIX with a prefix of 64 to ${128 - (32 - v4.prefix)} (as many addresses as the IPv4 subnet ${v4.cidr}, at least), e.g. ${DEFAULT_SUBNET6}, or none`;
  if (base === null || !/^\d+$/.test(len) || prefix < 64 || 128 - prefix < 32 - v4.prefix) throw new MycfsError(`${what}=${cidr}: ${fix}`);
  const host = (1n << BigInt(128 - prefix)) - 1n;
  if ((base & host) !== 0n) throw new MycfsError(`${what}=${cidr}: ${ip} is not the network's first address (${ip6String(base & ~host)}/${prefix})`);
  return { base, prefix, cidr, gateway: ip6String(base + 1n) };
}

/** Whether this network namespace has IPv6 (a kernel without it, or ipv6.disable=1, has no
 * such file; disable_ipv6=1 turns it off for every link). */
export const hasIPv6 = (): boolean => readFile("/proc/sys/net/ipv6/conf/all/disable_ipv6")?.trim() === "0";

/** The IPv6 subnet containers get beside v4's, or null: none configured, or no IPv6 here. */
export function configuredSubnet6(v4: Subnet): Subnet6 | null {
  const value = process.env.MYCFS_SUBNET6 || DEFAULT_SUBNET6;
  if (value === "none") return null;
  const subnet = parseSubnet6(value, v4);
  return hasIPv6() ? subnet : null;
}

/** The IPv6 address with the host number that `ip` has in `v4`. */
export const address6 = (s: Subnet6, v4: Subnet, ip: string): string => ip6String(s.base + BigInt(ipNumber(ip)! - v4.base));
