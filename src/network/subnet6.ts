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
  /** The network's address as eight 16-bit groups, and its prefix length. */
  base: number[];
  prefix: number;
  cidr: string;
  gateway: string;
}

const GROUP = /^[0-9a-fA-F]{1,4}$/;

/** An IPv6 address as eight 16-bit groups, or null if it is not one (eight groups of up to
 * four hex digits, or fewer around one "::"; no embedded IPv4: a subnet's address has
 * none). Numbers, not a BigInt: a start on the bridge computes one, and JavaScriptCore's
 * first BigInt operations cost half a millisecond. */
export function ip6Groups(ip: string): number[] | null {
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const groups = halves.map((h) => (h ? h.split(":") : []));
  const given = groups.flat();
  if (!given.every((g) => GROUP.test(g)) || (halves.length === 1 ? given.length !== 8 : given.length > 7)) return null;
  const all = halves.length === 1 ? given : [...groups[0]!, ...Array(8 - given.length).fill("0"), ...groups[1]!];
  return all.map((g) => Number.parseInt(g, 16));
}

/** The address's canonical text (RFC 5952, as the kernel and `ip` print it): lower case,
 * no leading zeros, the longest run of two or more zero groups (the first of equals) as "::". */
export function ip6String(groups: number[]): string {
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  return best.at < 0 ? hex(groups) : `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.len))}`;
}

/** The address's 16 bytes, for netlink. */
export const ip6Bytes = (ip: string): Uint8Array => new Uint8Array(ip6Groups(ip)!.flatMap((g) => [g >> 8, g & 0xff]));

/** The bits of group i (0-7) past a prefix of `prefix` bits. */
const hostBits = (i: number, prefix: number) => (prefix >= 16 * (i + 1) ? 0 : prefix <= 16 * i ? 0xffff : 0xffff >> (prefix - 16 * i));

/** `v4`: the IPv4 subnet, whose every host number must have an IPv6 address here. */
export function parseSubnet6(cidr: string, v4: Subnet, what = "MYCFS_SUBNET6"): Subnet6 {
  const [ip = "", len = ""] = cidr.split("/");
  const base = ip6Groups(ip);
  const prefix = Number(len);
  const fix = `expected an IPv6 network as ADDRESS/PREFIX with a prefix of 64 to ${128 - (32 - v4.prefix)} (as many addresses as the IPv4 subnet ${v4.cidr}, at least), e.g. ${DEFAULT_SUBNET6}, or none`;
  if (base === null || !/^\d+$/.test(len) || prefix < 64 || 128 - prefix < 32 - v4.prefix) throw new MycfsError(`${what}=${cidr}: ${fix}`);
  if (base.some((g, i) => (g & hostBits(i, prefix)) !== 0))
    throw new MycfsError(`${what}=${cidr}: ${ip} is not the network's first address (${ip6String(base.map((g, i) => g & ~hostBits(i, prefix)))}/${prefix})`);
  return { base, prefix, cidr, gateway: withHost(base, 1) };
}

/** The address with host number n (below 2^32, within the prefix's host bits) in the network at `base`. */
const withHost = (base: number[], n: number): string => ip6String([...base.slice(0, 6), base[6]! | (n >>> 16), base[7]! | (n & 0xffff)]);

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
export const address6 = (s: Subnet6, v4: Subnet, ip: string): string => withHost(s.base, ipNumber(ip)! - v4.base);
