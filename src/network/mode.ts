// --network: where the container's network stack comes from. A small typed value, so that
// a mode is one more case here and in the planner (plan.ts). `none`: a new network
// namespace with only lo up; `bridge` adds eth0 on mycfs0 (network/bridge.ts); `pasta`
// and `slirp4netns`, for rootless containers, a tap device served by a process of the
// user's own (network/usernet.ts).
import { MycfsError } from "../errors";
import type { Userns } from "../container/userns";
import { shortId } from "../state/record";
import type { Attachment } from "./bridge";
import { type Port, portString } from "./ports";
import type { UserNet, UserNetMode } from "./usernet";

/** The modes as the user writes them; `container` names another container, `ns` a
 * namespace file (a bind mount of one, /var/run/netns/NAME, or /proc/PID/ns/net). */
export type NetworkMode =
  | { mode: "none" }
  | { mode: "host" }
  | { mode: "bridge" }
  | { mode: UserNetMode }
  | { mode: "container"; ref: string }
  | { mode: "ns"; path: string };

/** The mode as a container's record keeps it: another container by its full id; on the
 * bridge, its address, host veth and published ports. */
export type NetworkRecord =
  | { mode: "none" }
  | { mode: "host" }
  | ({ mode: "bridge" } & Attachment)
  | UserNet
  | { mode: "container"; id: string }
  | { mode: "ns"; path: string };

/** --network bridge as asked, before mycfs leases its address: the ports it publishes. */
export type BridgeRequest = { mode: "bridge"; ports: Port[] };

const ACCEPTED = "none, host, bridge, pasta, slirp4netns, container:NAME|ID or ns:PATH";

export function parseNetwork(value: string | undefined): NetworkMode {
  if (value === undefined || value === "none") return { mode: "none" };
  if (value === "host" || value === "bridge" || value === "pasta" || value === "slirp4netns") return { mode: value };
  const colon = value.indexOf(":");
  const [kind, arg] = colon < 0 ? [value, ""] : [value.slice(0, colon), value.slice(colon + 1)];
  if (kind === "container" && arg) return { mode: "container", ref: arg };
  if (kind === "ns" && arg) return { mode: "ns", path: arg };
  throw new MycfsError(`--network ${value}: expected ${ACCEPTED}`);
}

/** A user namespace of the container's own never owns the host's network namespace or
 * another one: the kernel would refuse to mount its /sys in the host's (sysfs needs
 * CAP_SYS_ADMIN over the network namespace's owner; docker refuses --network host with
 * user namespaces too), and setns into an existing one needs CAP_SYS_ADMIN over the user
 * namespace that owns it, which a new user namespace never has. */
export function checkNetworkUserns(n: NetworkMode, flag: string, userns: Userns | undefined) {
  // pasta and slirp4netns are how a user without privileges gets a network; root has the
  // bridge, and pasta started by root drops to nobody, which owns no namespace of root's
  if ((n.mode === "pasta" || n.mode === "slirp4netns") && !userns?.rootless)
    throw new MycfsError(`--network ${flag}: for rootless containers (mycfs run without root); as root, use --network bridge`);
  if (!userns) return;
  const who = userns.rootless ? "a rootless container (in a user namespace of its own)" : "a container with --userns";
  if (n.mode === "bridge" && userns.rootless)
    throw new MycfsError(`--network bridge: not for ${who}: it makes a bridge, a veth pair and firewall rules on the host, which need root; run as root`);
  if (n.mode === "host")
    throw new MycfsError(
      `--network ${flag}: not for ${who}: its root has no privilege over the host's network namespace, and the kernel refuses it a /sys there; run as root without --userns, or without --network host`,
    );
  if (n.mode === "container" || n.mode === "ns")
    throw new MycfsError(
      `--network ${flag}: ${who} cannot join an existing network namespace: setns needs CAP_SYS_ADMIN over the user namespace that owns it, which a new user namespace never has; run as root without --userns`,
    );
}

/** The mode as ps shows it. */
export function networkText(n: NetworkRecord | undefined): string {
  if (!n) return "none";
  if (n.mode === "container") return `container:${shortId(n.id)}`;
  if (n.mode === "ns") return `ns:${n.path}`;
  if (n.mode === "bridge") return [`bridge:${n.ip}`, ...n.ports.map(portString)].join(" ");
  if (n.mode === "pasta" || n.mode === "slirp4netns") return [n.mode, ...n.ports.map(portString)].join(" ");
  return n.mode;
}
