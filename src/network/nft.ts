// mycfs's firewall: ONE nftables table, `inet mycfs` (IPv4 and IPv6 alike), through the
// host's nft binary (never netfilter messages of mycfs's own). Other tables are never read
// or touched. It holds:
//   postrouting  masquerade of the subnets leaving by another link than the bridge, of
//                127.0.0.0/8 entering it (-p reached through the host's loopback), and of
//                a container reaching another's -p through a host address (hairpin: the
//                answer must come back through the host, not straight over the bridge)
//   prerouting   -p for other hosts; output: -p for the host itself; both jump to
//   ports        one DNAT rule per published port, commented mycfs:ID, so that the rules
//                of a container that died with its mycfs are found by its id
import { MycfsError } from "../errors";
import type { Port } from "./ports";
import type { Subnet } from "./subnet";
import type { Subnet6 } from "./subnet6";

export const TABLE = "mycfs";
const FAMILY = "inet";

function run(args: string[], script?: string) {
  try {
    return Bun.spawnSync(["nft", ...args], { stdin: script === undefined ? "ignore" : new TextEncoder().encode(script), stdout: "pipe", stderr: "pipe" });
  } catch {
    throw new MycfsError("the bridge network needs nft, which is not installed: install nftables (apt-get install nftables)");
  }
}

function nft(args: string[], script?: string): string {
  const p = run(args, script);
  if (p.exitCode !== 0) throw new MycfsError(`nft ${args.join(" ")}: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}

const apply = (script: string) => nft(["-f", "-"], script);

export function tableExists(): boolean {
  return run(["list", "table", FAMILY, TABLE]).exitCode === 0;
}

/** Makes the table, or makes it whole again, in one transaction (all of it or nothing):
 * `add` of what exists is no error, and each chain but the containers' `ports` is
 * flushed before its rules go in, so that they are never there twice. */
export function ensureTable(subnet: Subnet, subnet6: Subnet6 | null, bridge: string) {
  const chain = (name: string, base: string, rules: string[]) => [
    `add chain ${FAMILY} ${TABLE} ${name} { ${base}; policy accept; }`,
    `flush chain ${FAMILY} ${TABLE} ${name}`,
    ...rules.map((r) => `add rule ${FAMILY} ${TABLE} ${name} ${r}`),
  ];
  const v6 = subnet6
    ? [`ip6 saddr ${subnet6.cidr} oifname != "${bridge}" masquerade`, `ip6 saddr ${subnet6.cidr} oifname "${bridge}" ct status dnat masquerade`]
    : [];
  apply(
    `${[
      `add table ${FAMILY} ${TABLE}`,
      `add chain ${FAMILY} ${TABLE} ports`,
      ...chain("prerouting", "type nat hook prerouting priority dstnat", ["fib daddr type local jump ports"]),
      ...chain("output", "type nat hook output priority -100", ["fib daddr type local jump ports"]),
      ...chain("postrouting", "type nat hook postrouting priority srcnat", [
        `ip saddr ${subnet.cidr} oifname != "${bridge}" masquerade`,
        `ip saddr 127.0.0.0/8 oifname "${bridge}" masquerade`,
        `ip saddr ${subnet.cidr} oifname "${bridge}" ct status dnat masquerade`,
        ...v6,
      ]),
    ].join("\n")}\n`,
  );
}

export function deleteTable() {
  if (tableExists()) apply(`delete table ${FAMILY} ${TABLE}\n`);
}

const comment = (id: string) => `mycfs:${id}`;

/** DNAT rules per port, to the container's address: IPv4's, and IPv6's (`ip6`) unless the
 * port is on one IPv4 address of the host. (In an inet table a `dnat ip` rule passes over
 * IPv6 packets, and `dnat ip6` over IPv4 ones.) */
export function addPortRules(id: string, ip: string, ip6: string | undefined, ports: Port[]) {
  if (!ports.length) return;
  const rule = (p: Port, match: string, to: string) =>
    `add rule ${FAMILY} ${TABLE} ports ${match}${p.proto} dport ${p.hostPort} dnat ${to}:${p.containerPort} comment "${comment(id)}"`;
  const rules = ports.flatMap((p) => [
    rule(p, p.hostIp ? `ip daddr ${p.hostIp} ` : "", `ip to ${ip}`),
    ...(ip6 && !p.hostIp ? [rule(p, "", `ip6 to [${ip6}]`)] : []),
  ]);
  apply(`${rules.join("\n")}\n`);
}

interface PortRule {
  id: string;
  handle: number;
}

/** The port rules in the table, by container id. */
export function portRules(): PortRule[] {
  if (!tableExists()) return [];
  const out = JSON.parse(nft(["-j", "list", "chain", FAMILY, TABLE, "ports"])) as { nftables: { rule?: { handle: number; comment?: string } }[] };
  return out.nftables.flatMap((o) => (o.rule?.comment?.startsWith("mycfs:") ? [{ id: o.rule.comment.slice(6), handle: o.rule.handle }] : []));
}

/** Removes a container's port rules, whichever are there. */
export function removePortRules(id: string) {
  const handles = portRules().filter((r) => r.id === id);
  if (handles.length) apply(`${handles.map((r) => `delete rule ${FAMILY} ${TABLE} ports handle ${r.handle}`).join("\n")}\n`);
}
