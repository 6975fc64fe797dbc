// Device nodes in the container: the few every container has, the host's that --device
// gives it, and the allow-list of what its processes may open (src/cgroups/devices.ts).
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, type DeviceRule, parseAccess, parseDeviceRule } from "../cgroups/devices";
import { MycfsError } from "../errors";
import { deviceNumber } from "../native/lib";
import { resolve } from "../paths";
import { mknod, mount, MS, type Step } from "../plan/ops";
import { containerPath } from "./options";

export interface Device {
  /** The host's node, bound in a user namespace (where mknod is refused). */
  host: string;
  container: string;
  /** Type and permission bits. */
  mode: number;
  major: number;
  minor: number;
}

const S_IFMT = 0o170000,
  S_IFCHR = 0o020000,
  S_IFBLK = 0o060000;

const DEFAULT_NODES: readonly Device[] = (
  [
    ["null", 1, 3],
    ["zero", 1, 5],
    ["full", 1, 7],
    ["random", 1, 8],
    ["urandom", 1, 9],
    ["tty", 5, 0],
  ] as const
).map(([name, major, minor]) => ({ host: `/dev/${name}`, container: `/dev/${name}`, mode: S_IFCHR | 0o666, major, minor }));

/** --device HOST[:CONTAINER][:PERMS], docker's syntax: a host device node, made in the
 * container with the host's numbers and mode (at the same path by default), and usable
 * as PERMS (of rwm; all three by default) allow. */
export function parseDevice(spec: string): { device: Device; rule: DeviceRule } {
  const fail = (why: string) => new MycfsError(`--device ${spec}: ${why}`);
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) throw fail("expected HOST[:CONTAINER][:PERMS], e.g. /dev/kmsg or /dev/sdb:/dev/xvdb:r");
  const [hostPart, second, third] = parts as [string, string?, string?];
  let ctr: string | undefined,
    perms = "rwm";
  if (third !== undefined) [ctr, perms] = [second, third];
  else if (second !== undefined && parseAccess(second))
    perms = second; // HOST:PERMS, as docker reads it
  else ctr = second;
  const access = parseAccess(perms);
  if (access === null) throw fail(`permissions '${perms}' are not letters of rwm`);
  const host = resolve(hostPart);
  const node = deviceNumber(host);
  if (node === null) throw fail(`host path ${host} does not exist`);
  const type = node.mode & S_IFMT;
  if (type !== S_IFCHR && type !== S_IFBLK) throw fail(`${host} is not a device node; give a character or block device, e.g. /dev/kmsg`);
  const container = containerPath(ctr ?? host, `--device ${spec}: container path`);
  if (container === "/") throw fail("the container path cannot be /");
  return {
    device: { host, container, mode: node.mode, major: node.major, minor: node.minor },
    rule: { type: type === S_IFCHR ? "c" : "b", major: node.major, minor: node.minor, access },
  };
}

export interface Devices {
  /** Nodes made in the container beside the default ones. */
  nodes: Device[];
  /** What its processes may open and make. */
  rules: readonly DeviceRule[];
}

/** --device, --device-cgroup-rule and --privileged (every device, as docker's), all checked. */
export function resolveDevices(o: { devices: string[]; rules: string[]; privileged: boolean }): Devices {
  const given = o.devices.map(parseDevice);
  const rules = o.rules.map(parseDeviceRule);
  const extra = [...given.map((g) => g.rule), ...rules];
  return {
    nodes: given.map((g) => g.device),
    // the default list itself, not a copy, when nothing is added: its v1 writes and v2
    // program are made at build time (src/cgroups/cgroup.ts)
    rules: o.privileged ? [ALL_DEVICES] : extra.length ? [...DEFAULT_DEVICE_RULES, ...extra] : DEFAULT_DEVICE_RULES,
  };
}

/** The default nodes (but those a given one replaces), then the given ones: made with
 * mknod, or in a user namespace bound from the host. */
export function deviceNodes(given: readonly Device[], userns: boolean): Step[] {
  const defaults = given.length ? DEFAULT_NODES.filter((d) => !given.some((g) => g.container === d.container)) : DEFAULT_NODES;
  return [...defaults, ...given].map((d) =>
    userns
      ? mount({
          source: d.host,
          target: d.container,
          flags: MS.BIND,
          inRoot: "file",
          what: `bind the host's ${d.host}${d.container === d.host ? "" : ` on ${d.container}`}`,
        })
      : mknod(d.container, d.mode, d.major, d.minor),
  );
}
