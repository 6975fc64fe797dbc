// --network: which network a container gets. The one place that maps the flag's value.
import { MycfsError } from "../errors";

/** none: a network namespace of its own with only lo (the default); bridge: eth0 on mycfs0. */
export type NetworkMode = "none" | "bridge";

export function parseNetworkMode(value: string | undefined): NetworkMode {
  if (value === undefined || value === "none" || value === "bridge") return value ?? "none";
  throw new MycfsError(`--network ${value}: expected none or bridge`);
}
