// rtnetlink messages, built here and sent by libmycfs (csrc/netlink.c) from a chosen
// network namespace: links (a bridge, a veth pair), IPv4 and IPv6 addresses and default routes.
// Only what the bridge network needs; each call is one request and the kernel's answer.
import { SysError } from "../errors";
import { errnoMessage, netlink } from "../native/lib";
import { ip6Bytes } from "./subnet6";

const RTM = { NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, NEWROUTE: 24 } as const;
const NLM_F = { REQUEST: 1, ACK: 4, EXCL: 0x200, CREATE: 0x400 } as const;
const IFLA = { IFNAME: 3, MASTER: 10, LINKINFO: 18, NET_NS_PID: 19 } as const;
const INFO = { KIND: 1, DATA: 2 } as const;
const VETH_INFO_PEER = 1;
const IFA = { ADDRESS: 1, LOCAL: 2 } as const;
const RTA = { OIF: 4, GATEWAY: 5 } as const;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 1;
/** An IPv6 address usable at once, without duplicate address detection (a second or so
 * "tentative"): mycfs's leases make it unique on the bridge. */
const IFA_F_NODAD = 0x02;

/** A netlink attribute: its type and payload (nested attributes are payloads too). */
type Attr = [type: number, payload: Uint8Array];

const align4 = (n: number) => (n + 3) & ~3;
const utf8 = new TextEncoder();
const str = (s: string) => utf8.encode(`${s}\0`);
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const ipv4 = (ip: string) => new Uint8Array(ip.split(".").map(Number));
/** An address's family and bytes: IPv6 if it has a colon. */
const inet = (ip: string): [family: number, bytes: Uint8Array] => (ip.includes(":") ? [AF_INET6, ip6Bytes(ip)] : [AF_INET, ipv4(ip)]);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + align4(p.byteLength), 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += align4(p.byteLength);
  }
  return out;
}

function attrs(list: Attr[]): Uint8Array {
  return concat(
    list.map(([type, payload]) => {
      const a = new Uint8Array(4 + payload.byteLength);
      new DataView(a.buffer).setUint16(0, a.byteLength, true);
      new DataView(a.buffer).setUint16(2, type, true);
      a.set(payload, 4);
      return a;
    }),
  );
}

/** struct ifinfomsg: family, type, index, flags, change. */
function ifinfo(index = 0, up = false): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setInt32(4, index, true);
  v.setUint32(8, up ? IFF_UP : 0, true);
  v.setUint32(12, up ? IFF_UP : 0, true);
  return b;
}

function message(type: number, flags: number, body: Uint8Array[]): Uint8Array {
  const payload = concat(body);
  const m = new Uint8Array(16 + payload.byteLength);
  const v = new DataView(m.buffer);
  v.setUint32(0, m.byteLength, true);
  v.setUint16(4, type, true);
  v.setUint16(6, NLM_F.REQUEST | flags, true);
  v.setUint32(8, 1, true); // seq: one request per socket
  m.set(payload, 16);
  return m;
}

/** A network namespace to act in: that of a process, by pid, or 0 for mycfs's own. */
export type Netns = number;
export const OWN_NETNS: Netns = 0;

function send(ns: Netns, msg: Uint8Array, what: string, tolerate: number[] = []): Uint8Array | null {
  const r = netlink(msg, ns);
  if (typeof r !== "number") return r;
  if (tolerate.includes(-r)) return null;
  throw new SysError(what, -r, errnoMessage(-r));
}

/** A link's index by name, or null if there is none. */
export function linkIndex(ns: Netns, name: string): number | null {
  const ENODEV = 19;
  const r = send(ns, message(RTM.GETLINK, 0, [ifinfo(), attrs([[IFLA.IFNAME, str(name)]])]), `look up link ${name}`, [ENODEV]);
  return r && new DataView(r.buffer, r.byteOffset).getInt32(16 + 4, true);
}

const EEXIST = 17;

/** Creates a link of a kind, with its kind's data; false if `tolerate` (EEXIST) says it was there. */
function newLink(ns: Netns, name: string, kind: Attr[], what: string, tolerate: number[] = []): boolean {
  const body = attrs([
    [IFLA.IFNAME, str(name)],
    [IFLA.LINKINFO, attrs(kind)],
  ]);
  return send(ns, message(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, [ifinfo(), body]), what, tolerate) !== null;
}

/** Makes a bridge; false if a link of that name was there already. */
export const addBridge = (ns: Netns, name: string): boolean => newLink(ns, name, [[INFO.KIND, str("bridge")]], `create bridge ${name}`, [EEXIST]);

/** Makes a veth pair: `name` here, its peer named `peer` in the namespace of process `peerPid`. */
export function addVethPair(ns: Netns, name: string, peer: string, peerPid: number) {
  const peerMsg = concat([
    ifinfo(),
    attrs([
      [IFLA.IFNAME, str(peer)],
      [IFLA.NET_NS_PID, u32(peerPid)],
    ]),
  ]);
  const kind: Attr[] = [
    [INFO.KIND, str("veth")],
    [INFO.DATA, attrs([[VETH_INFO_PEER, peerMsg]])],
  ];
  newLink(ns, name, kind, `create veth pair ${name}`);
}

/** Brings a link up, attached to `master` (a bridge's index) if given. */
export function setUp(ns: Netns, name: string, master?: number) {
  const list: Attr[] = [[IFLA.IFNAME, str(name)], ...(master === undefined ? [] : [[IFLA.MASTER, u32(master)] as Attr])];
  send(ns, message(RTM.NEWLINK, NLM_F.ACK, [ifinfo(0, true), attrs(list)]), `bring up ${name}`);
}

/** Removes a link; false if there was none. */
export function deleteLink(ns: Netns, name: string): boolean {
  const ENODEV = 19;
  return send(ns, message(RTM.DELLINK, NLM_F.ACK, [ifinfo(), attrs([[IFLA.IFNAME, str(name)]])]), `delete link ${name}`, [ENODEV]) !== null;
}

/** Gives a link an IPv4 or IPv6 address (ip/prefix); an address it has already is no error. */
export function addAddress(ns: Netns, index: number, ip: string, prefix: number) {
  const [family, bytes] = inet(ip);
  // struct ifaddrmsg: family, prefix length, flags, scope, index
  const head = new Uint8Array(8);
  const v = new DataView(head.buffer);
  v.setUint8(0, family);
  v.setUint8(1, prefix);
  v.setUint8(2, family === AF_INET6 ? IFA_F_NODAD : 0);
  v.setUint32(4, index, true);
  const list: Attr[] = [
    [IFA.LOCAL, bytes],
    [IFA.ADDRESS, bytes],
  ];
  send(ns, message(RTM.NEWADDR, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, [head, attrs(list)]), `add address ${ip}/${prefix}`, [EEXIST]);
}

/** The default route of the gateway's family, through `gateway` on the link `index`. */
export function addDefaultRoute(ns: Netns, index: number, gateway: string) {
  const [family, bytes] = inet(gateway);
  // struct rtmsg: family, dst_len, src_len, tos, table (main), protocol (boot), scope (universe), type (unicast), flags (u32)
  const head = new Uint8Array([family, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0]);
  const list: Attr[] = [
    [RTA.GATEWAY, bytes],
    [RTA.OIF, u32(index)],
  ];
  send(ns, message(RTM.NEWROUTE, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, [head, attrs(list)]), `add the default route via ${gateway}`);
}
