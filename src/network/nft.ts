// mycfs's firewall: ONE nftables table, `ip mycfs`, through the host's nft binary (never
// netfilter messages of mycfs's own). Other tables are never read or touched. It holds:
//   postrouting  masquerade of the subnet leaving by another link than the bridge, of
//                127.0.0.0/8 entering it (-p reached through the host's loopback), and of
//                a container reaching another's -p through a host address (hairpin: the
//                answer must come back through the host, not straight over the bridge)
//   prerouting   -p for other hosts; output: -p for the host itself; both jump to
//   ports        one DNAT rule per published port, commented mycfs:ID, so that the rules
//                of a container that died with its mycfs are found by its id
import { MycfsError } from "../errors";
import type { Port } from "./ports";
import type { Subnet } from "./subnet";

export const TABLE = "mycfs";

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
  return run(["list", "table", "ip", TABLE]).exitCode === 0;
}

/** Makes the table, or makes it whole again, in one transaction (all of it or nothing):
 * `add` of what exists is no error, and each chain but the containers' `ports` is
 * flushed before its rules go in, so that they are never there twice. */
export function ensureTable(subnet: Subnet, bridge: string) {
  const chain = (name: string, base: string, rules: string[]) => [
    `add chain ip ${TABLE} ${name} { ${base}; policy accept; }`,
    `flush chain ip ${TABLE} ${name}`,
    ...rules.map((r) => `add rule ip ${TABLE} ${name} ${r}`),
  ];
  apply(
    `${[
      `add table ip ${TABLE}`,
      `add chain ip ${TABLE} ports`,
      ...chain("prerouting", "type nat hook prerouting priority dstnat", ["fib daddr type local jump ports"]),
      ...chain("output", "type nat hook output priority -100", ["fib daddr type local jump ports"]),
      ...chain("postrouting", "type nat hook postrouting priority srcnat", [
        `ip saddr ${subnet.cidr} oifname != "${bridge}" masquerade`,
        `ip saddr 127.0.0.0/8 oifname "${bridge}" masquerade`,
        `ip saddr ${subnet.cidr} oifname "${bridge}" ct status dnat masquerade`,
      ]),
    ].join("\n")}\n`,
  );
}

export function deleteTable() {
  if (tableExists()) apply(`delete table ip ${TABLE}\n`);
}

const comment = (id: string) => `mycfs:${id}`;

/** One DNAT rule per port, to the container's address. */
export function addPortRules(id: string, ip: string, ports: Port[]) {
  if (!ports.length) return;
  const rules = ports.map(
    (p) =>
      `add rule ip ${TABLE} ports ${p.hostIp ? `ip daddr ${p.hostIp} ` : ""}${p.proto} dport ${p.hostPort} dnat to ${ip}:${p.containerPort} comment "${comment(id)}"`,
  );
  apply(`${rules.join("\n")}\n`);
}

interface PortRule {
  id: string;
  handle: number;
}

/** The port rules in the table, by container id. */
export function portRules(): PortRule[] {
  if (!tableExists()) return [];
  const out = JSON.parse(nft(["-j", "list", "chain", "ip", TABLE, "ports"])) as { nftables: { rule?: { handle: number; comment?: string } }[] };
  return out.nftables.flatMap((o) => (o.rule?.comment?.startsWith("mycfs:") ? [{ id: o.rule.comment.slice(6), handle: o.rule.handle }] : []));
}

/** Removes a container's port rules, whichever are there. */
export function removePortRules(id: string) {
  const handles = portRules().filter((r) => r.id === id);
  if (handles.length) apply(`${handles.map((r) => `delete rule ip ${TABLE} ports handle ${r.handle}`).join("\n")}\n`);
}
