// What `mycfs network rm` and `prune` take away: the bridge, mycfs's nftables table and
// the leases, once no running container uses them. net.ipv4.ip_forward stays as it is
// (docker never turns it back off either: another program may rely on it by then).
import { MycfsError } from "../errors";
import { fileType, tryUnlink } from "../native/lib";
import { join } from "../paths";
import { BRIDGE, vethName } from "./bridge";
import { isStale, networkDir, readLeases, withNetworkLock } from "./ipam";
import { deleteLink, linkIndex, OWN_NETNS } from "./netlink";
import { deleteTable, tableExists } from "./nft";

export interface NetworkState {
  bridge: boolean;
  table: boolean;
  /** Containers that hold an address, and leases of containers that ended or whose mycfs
   * is gone, which the next start takes back. */
  containers: number;
  stale: number;
}

export function networkState(stateRoot: string): NetworkState {
  const leases = readLeases(stateRoot);
  return {
    bridge: linkIndex(OWN_NETNS, BRIDGE) !== null,
    table: tableExists(),
    containers: leases.filter((l) => !isStale(l)).length,
    stale: leases.filter(isStale).length,
  };
}

/** Removes the bridge network; false if there was none. In use: an error, or for prune
 * (`ifUnused`), false. */
export function removeNetwork(stateRoot: string, ifUnused: boolean): boolean {
  // nothing there: no state directory is made for the lock
  if (fileType(networkDir(stateRoot)) === null && !tableExists() && linkIndex(OWN_NETNS, BRIDGE) === null) return false;
  return withNetworkLock(stateRoot, () => {
    const leases = readLeases(stateRoot);
    const live = leases.filter((l) => !isStale(l));
    if (live.length) {
      if (ifUnused) return false;
      throw new MycfsError(`the bridge network is in use by ${live.map((l) => l.id.slice(0, 12)).join(", ")}: stop those containers first`);
    }
    const s = networkState(stateRoot);
    for (const l of leases) deleteLink(OWN_NETNS, vethName(l.id));
    if (s.table) deleteTable();
    if (s.bridge) deleteLink(OWN_NETNS, BRIDGE);
    tryUnlink(join(networkDir(stateRoot), "leases.json"));
    return s.bridge || s.table || leases.length > 0;
  });
}
