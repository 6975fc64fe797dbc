// The container's /etc/resolv.conf, as docker makes it: the host's nameservers, search
// domains and options, without loopback nameservers (the container's 127.0.0.1 is not the
// host's); behind systemd-resolved's stub (127.0.0.53) the upstream servers it lists in
// /run/systemd/resolve/resolv.conf; docker's public defaults where none remain. In the
// host's network namespace loopback reaches the host's resolver: its file as it is.
// --dns, --dns-search and --dns-option replace their parts. A network with a DNS forwarder
// of its own (slirp4netns's 10.0.2.3) has it first, before the host's, as podman does.
import { MycfsError } from "../errors";
import { log } from "../log";
import { readFile } from "../native/lib";
import { isIP } from "./ip";

/** The host's files mycfs reads. Tests name others (MYCFS_RESOLV_CONF, MYCFS_RESOLVED_CONF)
 * rather than touch the host's. */
export const hostResolvFiles = () => ({
  host: process.env.MYCFS_RESOLV_CONF || "/etc/resolv.conf",
  resolved: process.env.MYCFS_RESOLVED_CONF || "/run/systemd/resolve/resolv.conf",
});

const STUB = "127.0.0.53";
const DEFAULT_DNS = ["8.8.8.8", "8.8.4.4"];

export interface DnsFlags {
  dns: string[];
  search: string[];
  options: string[];
}

interface Resolv {
  nameservers: string[];
  search: string[];
  options: string[];
}

function parse(text: string): Resolv {
  const r: Resolv = { nameservers: [], search: [], options: [] };
  for (const line of text.split("\n")) {
    const [key, ...words] = line.trim().split(/\s+/);
    if (key === "nameserver" && words[0]) r.nameservers.push(words[0]);
    // the last search or domain line wins, as the resolver reads them
    else if (key === "search" || key === "domain") r.search = words;
    else if (key === "options") r.options.push(...words);
  }
  return r;
}

const loopback = (ip: string) => ip.startsWith("127.") || ip === "::1";

/** Checks --dns, --dns-search and --dns-option values. */
export function checkDnsFlags(f: DnsFlags): DnsFlags {
  for (const ip of f.dns) if (!isIP(ip)) throw new MycfsError(`--dns ${ip}: expected an IPv4 or IPv6 address`);
  for (const d of f.search)
    if (!/^[A-Za-z0-9_.-]{1,253}$/.test(d)) throw new MycfsError(`--dns-search ${d}: expected a domain name (letters, digits, '.', '-')`);
  for (const o of f.options) if (!/^\S+$/.test(o)) throw new MycfsError(`--dns-option '${o}': expected one resolver option, such as ndots:2`);
  return f;
}

/** The file's text, from the host's file(s) as read (null: missing). */
export function resolvConf(hostText: string | null, upstream: () => string | null, hostNet: boolean, f: DnsFlags, gatewayDns?: string): string {
  if (hostNet && !f.dns.length && !f.search.length && !f.options.length && hostText !== null) return hostText;
  let host = parse(hostText ?? "");
  if (!hostNet && host.nameservers.length === 1 && host.nameservers[0] === STUB) {
    const up = upstream();
    if (up !== null) host = parse(up);
  }
  let nameservers = f.dns.length ? f.dns : hostNet ? host.nameservers : host.nameservers.filter((ip) => !loopback(ip));
  if (gatewayDns && !f.dns.length) nameservers = [gatewayDns, ...nameservers.filter((ip) => ip !== gatewayDns)];
  if (!nameservers.length) {
    log.info(`the host's resolv.conf names no nameserver the container can reach: it gets ${DEFAULT_DNS.join(" and ")} (--dns chooses others)`);
    nameservers = DEFAULT_DNS;
  }
  const search = f.search.length ? f.search : host.search;
  const options = f.options.length ? f.options : host.options;
  return [
    "# written by mycfs from the host's resolv.conf",
    ...nameservers.map((ip) => `nameserver ${ip}`),
    ...(search.length ? [`search ${search.join(" ")}`] : []),
    ...(options.length ? [`options ${options.join(" ")}`] : []),
    "",
  ].join("\n");
}

/** The container's resolv.conf from the host's files. */
export function containerResolvConf(hostNet: boolean, f: DnsFlags, gatewayDns?: string): string {
  const files = hostResolvFiles();
  return resolvConf(readFile(files.host), () => readFile(files.resolved), hostNet, f, gatewayDns);
}
