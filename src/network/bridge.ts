// The bridge network (--network bridge): one bridge, mycfs0, whose addresses are the
// subnets' gateways, made on first use; per container a veth pair, its host end on the
// bridge and its other end eth0 in the container's network namespace, with a leased
// address (and its IPv6 twin, where there is IPv6: subnet6.ts) and default routes through
// the gateways; masquerade and -p in mycfs's nftables table (nft.ts). mycfs configures the child's namespace from outside while
// the child waits (Sync.NETWORK), so the child's C does no networking of its own.
// Everything is made in the network namespace mycfs itself runs in.
import { log } from "../log";
import { listDir, readFile, writeFile } from "../native/lib";
import { allocate, release, retire, withNetworkLock } from "./ipam";
import { addAddress, addBridge, addDefaultRoute, addVethPair, deleteLink, linkIndex, OWN_NETNS, setUp } from "./netlink";
import { addPortRules, ensureTable, removePortRules } from "./nft";
import type { Port } from "./ports";
import { configuredSubnet, type Subnet } from "./subnet";
import { address6, configuredSubnet6, type Subnet6 } from "./subnet6";

export const BRIDGE = "mycfs0";

/** The host end of a container's veth pair (a link's name has 15 characters at most). */
export const vethName = (id: string) => `veth${id.slice(0, 8)}`;

/** What a container has of the bridge network, as its record keeps it. */
export interface Attachment {
  ip: string;
  prefix: number;
  gateway: string;
  /** Where mycfs's network namespace has IPv6. */
  ip6?: { ip: string; prefix: number; gateway: string };
  veth: string;
  ports: Port[];
}

const FORWARD = "/proc/sys/net/ipv4/ip_forward";

/** Routing between the bridge and other links needs forwarding on, in this namespace. */
function enableForwarding() {
  if (readFile(FORWARD)?.trim() === "1") return;
  writeFile(FORWARD, "1");
  log.info("net.ipv4.ip_forward was off: mycfs turned it on for the bridge network, as docker does");
}

const CONF6 = "/proc/sys/net/ipv6/conf";

/** IPv6 forwarding, turned on as docker does, but where it would cost the host its own
 * IPv6: on a link whose accept_ra is 1 the kernel ignores router advertisements once
 * forwarding is on, so the host's address and route from them would lapse. There it is
 * left off, and containers' IPv6 reaches the host and each other only. */
function enableForwarding6() {
  if (readFile(`${CONF6}/all/forwarding`)?.trim() === "1") return;
  const own = (link: string) => ["all", "default", "lo", BRIDGE].includes(link) || link.startsWith("veth");
  const takingAdverts = (listDir(CONF6) ?? []).filter((l) => !own(l) && readFile(`${CONF6}/${l}/accept_ra`)?.trim() === "1");
  if (takingAdverts.length) {
    const links = takingAdverts.join(", ");
    log.info(
      `IPv6 forwarding is off, and turning it on would stop ${links} taking router advertisements (accept_ra=1): containers' IPv6 reaches this host and each other only; to route it, set accept_ra=2 on ${links} and net.ipv6.conf.all.forwarding=1`,
    );
    return;
  }
  writeFile(`${CONF6}/all/forwarding`, "1");
  log.info("net.ipv6.conf.all.forwarding was off: mycfs turned it on for the bridge network's IPv6, as docker does");
}

/** The table, then the bridge, up, with the gateways' addresses, where there is no bridge:
 * the table first, as a bridge is taken to have its table (an nft process costs ~30 ms,
 * so a start does not run one to check). A packet DNAT'ed from the host's loopback (-p
 * reached at 127.0.0.1) leaves by the bridge with its source 127.0.0.1, which the kernel
 * drops as martian unless route_localnet is on for it (docker does the same; IPv6 has no
 * such switch: -p is not reached at ::1). */
function ensureBridge(subnet: Subnet, subnet6: Subnet6 | null) {
  if (linkIndex(OWN_NETNS, BRIDGE) !== null) return;
  ensureTable(subnet, subnet6, BRIDGE);
  addBridge(OWN_NETNS, BRIDGE);
  const index = linkIndex(OWN_NETNS, BRIDGE)!;
  addAddress(OWN_NETNS, index, subnet.gateway, subnet.prefix);
  if (subnet6) {
    addAddress(OWN_NETNS, index, subnet6.gateway, subnet6.prefix);
    enableForwarding6();
  }
  setUp(OWN_NETNS, BRIDGE);
  writeFile(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, "1");
  log.debug(`made the bridge ${BRIDGE} (${[subnet.cidr, subnet6?.cidr].filter(Boolean).join(", ")}) and the nftables table`);
}

/** What a dead container left: its host veth (if its namespace is not gone yet), its port
 * rules (nft runs only for a container that had ports). */
function clearLeftovers(id: string, ports: boolean) {
  deleteLink(OWN_NETNS, vethName(id));
  if (ports) removePortRules(id);
}

/** While the child sets up (start.ts): the bridge and the table where there are none, an
 * address leased, and the port rules of `ports` (claimed free before the clone: ports.ts);
 * stale leases are cleared on the way. */
export function leaseBridge(stateRoot: string, id: string, ports: Port[]): Attachment {
  const subnet = configuredSubnet();
  const subnet6 = configuredSubnet6(subnet);
  return withNetworkLock(stateRoot, () => {
    ensureBridge(subnet, subnet6);
    enableForwarding();
    // a stale lease's veth still there: its namespace is being taken down by the kernel
    // (or kept open): its address waits, rather than this start waiting for that
    const { lease, stale } = allocate(stateRoot, subnet, id, ports, (l) => linkIndex(OWN_NETNS, vethName(l.id)) !== null);
    for (const s of stale) clearLeftovers(s.id, s.ports.length > 0);
    const ip6 = subnet6 && { ip: address6(subnet6, subnet, lease.ip), prefix: subnet6.prefix, gateway: subnet6.gateway };
    try {
      addPortRules(id, lease.ip, ip6?.ip, ports);
    } catch (e) {
      release(stateRoot, [id]);
      throw e;
    }
    return { ip: lease.ip, prefix: subnet.prefix, gateway: subnet.gateway, ...(ip6 ? { ip6 } : {}), veth: vethName(id), ports };
  });
}

/** While the child makes its mounts (it waits at Sync.NETWORK), in its new network
 * namespace: the veth pair, its host end on the bridge, eth0 in the child's namespace with
 * its addresses and default routes. A first attempt's pair (start.ts retries on a copy of the image) may still be there,
 * its namespace not yet taken down by the kernel: it goes first. */
export function attachContainer(pid: number, a: Attachment) {
  deleteLink(OWN_NETNS, a.veth);
  addVethPair(OWN_NETNS, a.veth, "eth0", pid);
  setUp(OWN_NETNS, a.veth, linkIndex(OWN_NETNS, BRIDGE)!);
  const eth0 = linkIndex(pid, "eth0")!;
  addAddress(pid, eth0, a.ip, a.prefix);
  if (a.ip6) addAddress(pid, eth0, a.ip6.ip, a.ip6.prefix);
  setUp(pid, "eth0");
  addDefaultRoute(pid, eth0, a.gateway);
  if (a.ip6) addDefaultRoute(pid, eth0, a.ip6.gateway);
}

/** Once the container is gone (or its start failed): its port rules now, and its lease
 * marked ended, so that another container may publish those ports at once. Without ports
 * there is nothing to take back before this mycfs ends, which makes its lease stale (a
 * lock and two writes fewer on every exit). The veth pair the kernel removes with the
 * namespace, in its own time; deleting it here would wait for that (an RCU grace period:
 * 12-35 ms of every bridge container's exit on this machine). Until the veth is gone its
 * address is not handed out again (a namespace kept open, a bind mount of
 * /proc/PID/ns/net, keeps it until `network prune`). */
export function retireBridge(stateRoot: string, id: string, ports: Port[]) {
  if (!ports.length) return;
  withNetworkLock(stateRoot, () => {
    removePortRules(id);
    retire(stateRoot, id);
  });
}
