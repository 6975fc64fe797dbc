// The bridge network's addresses and published ports, in one file beside the container
// records ({state}/network/leases.json), read and written under a flock so that
// concurrent starts never get one address twice. A lease names the mycfs process that
// took it (pid and start time): one whose process is gone, or whose container ended, is
// stale, and is taken back by the next allocation, which removes what it left.
import { join } from "../paths";
import { ensureDir } from "../images/store";
import { close, lock, readFile, replaceFile } from "../native/lib";
import { MycfsError } from "../errors";
import { bootId, isAlive, processRef, type ProcessRef } from "../state/record";
import { type Port, portKey, portString } from "./ports";
import { firstFree, type Subnet } from "./subnet";

export interface Lease {
  id: string;
  ip: string;
  ports: Port[];
  owner: ProcessRef;
  boot: string;
  /** The container ended, and its ports were freed (bridge.ts retireBridge), before the
   * mycfs that owns the lease did. */
  ended?: true;
}

export const networkDir = (stateRoot: string) => join(stateRoot, "network");
const leasesFile = (stateRoot: string) => join(networkDir(stateRoot), "leases.json");

/** Runs f under the network's lock (every change to the bridge, table and leases). */
export function withNetworkLock<T>(stateRoot: string, f: () => T): T {
  ensureDir(networkDir(stateRoot));
  const fd = lock(join(networkDir(stateRoot), "lock"), true, true)!;
  try {
    return f();
  } finally {
    close(fd);
  }
}

export function readLeases(stateRoot: string): Lease[] {
  const text = readFile(leasesFile(stateRoot));
  return text ? (JSON.parse(text) as Lease[]) : [];
}

function writeLeases(stateRoot: string, leases: Lease[]) {
  replaceFile(leasesFile(stateRoot), `${JSON.stringify(leases, null, 2)}\n`);
}

export const isStale = (l: Lease) => l.ended === true || !isAlive(l.owner, l.boot);

/** Under the lock: an address for container `id` and its ports, with every stale lease
 * dropped but those whose veth is still there (`lingering`: the kernel takes its
 * namespace down in its own time, or someone keeps it open), whose addresses stay taken
 * meanwhile; returns the lease and the dropped ones (whose leftovers the caller removes). */
export function allocate(stateRoot: string, subnet: Subnet, id: string, ports: Port[], lingering: (l: Lease) => boolean): { lease: Lease; stale: Lease[] } {
  const all = readLeases(stateRoot);
  const kept = all.filter((l) => !isStale(l) || lingering(l));
  const stale = all.filter((l) => !kept.includes(l));
  const live = kept.filter((l) => !l.ended);
  const taken = new Map(live.flatMap((l) => l.ports.map((p) => [portKey(p), l] as const)));
  for (const p of ports) {
    const holder = taken.get(portKey(p));
    if (holder) throw new MycfsError(`-p ${portString(p)}: container ${holder.id.slice(0, 12)} publishes that host port already: choose another`);
  }
  const ip = firstFree(subnet, new Set(kept.map((l) => l.ip)));
  if (!ip) throw new MycfsError(`the bridge network ${subnet.cidr} has no address left: remove containers, or give a larger MYCFS_SUBNET`);
  const lease: Lease = { id, ip, ports, owner: processRef(process.pid), boot: bootId() };
  writeLeases(stateRoot, [...kept, lease]);
  return { lease, stale };
}

/** Under the lock: drops the leases of the given containers. */
export function release(stateRoot: string, ids: string[]) {
  const all = readLeases(stateRoot);
  const kept = all.filter((l) => !ids.includes(l.id));
  if (kept.length !== all.length) writeLeases(stateRoot, kept);
}

/** Under the lock: the container `id` ended; its address is free for the next allocation,
 * which removes its host veth if the kernel has not yet. */
export function retire(stateRoot: string, id: string) {
  const all = readLeases(stateRoot);
  if (all.some((l) => l.id === id))
    writeLeases(
      stateRoot,
      all.map((l) => (l.id === id ? { ...l, ports: [], ended: true as const } : l)),
    );
}
