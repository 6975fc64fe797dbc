// `mycfs run`'s options for limits and privileges, and what they resolve to. Kept apart
// from run.ts, which is about what runs and from where.
import type { ArgsDef } from "citty";
import { parseLimits } from "../cgroups/limits";
import { defaultUlimits, resolveUlimits, RLIMITS } from "../container/rlimits";
import { capsFromMask } from "../container/caps";
import { resolveDevices } from "../container/devices";
import { getrlimit, readFile } from "../native/lib";
import { resolvePrivileges } from "../container/security";
import { resolveUserns } from "../container/userns";
import { MycfsError } from "../errors";
import { list, str, type Values } from "./argv";

export const resourceArgs = {
  memory: { type: "string", alias: "m", valueHint: "BYTES", description: "memory limit, e.g. 64m (OOM: exit 137)" },
  "memory-swap": { type: "string", valueHint: "BYTES", description: "memory plus swap (-1: unlimited; default twice --memory)" },
  cpus: { type: "string", valueHint: "N", description: "CPU time, in CPUs, e.g. 0.5" },
  "cpu-shares": { type: "string", alias: "c", valueHint: "N", description: "relative CPU weight (default 1024)" },
  "cpuset-cpus": { type: "string", valueHint: "LIST", description: "CPUs allowed, e.g. 0-1,3" },
  "pids-limit": { type: "string", valueHint: "N", description: "most processes at once (-1: unlimited)" },
  "blkio-weight": { type: "string", valueHint: "N", description: "relative block I/O weight, 10-1000" },
  ulimit: { type: "string", valueHint: "NAME=SOFT[:HARD]", description: "resource limit, e.g. nofile=1024:2048 (repeatable)" },
  "cap-add": { type: "string", valueHint: "CAP", description: "keep a capability beyond docker's default set; ALL (repeatable)" },
  "cap-drop": { type: "string", valueHint: "CAP", description: "drop a capability; ALL (repeatable)" },
  privileged: { type: "boolean", description: "every capability and device, no seccomp, no masked paths (warns)" },
  device: { type: "string", valueHint: "HOST[:CTR][:rwm]", description: "give the container a host device node, e.g. /dev/kmsg:/dev/kmsg:w (repeatable)" },
  "device-cgroup-rule": {
    type: "string",
    valueHint: "'TYPE MAJ:MIN PERMS'",
    description: "let the container use devices by number, e.g. 'c 1:11 w', 'b *:* r' (repeatable)",
  },
  "security-opt": { type: "string", valueHint: "OPT", description: "no-new-privileges=false, seccomp=unconfined|FILE.json (repeatable)" },
  cgroupns: { type: "string", valueHint: "private|host", description: "the container's own cgroup namespace (default), or the host's" },
  userns: { type: "string", valueHint: "auto|host", description: "auto: root inside is an unprivileged uid range on the host" },
  uidmap: { type: "string", valueHint: "CTR:HOST:SIZE", description: "a user namespace with this uid range (repeatable)" },
  gidmap: { type: "string", valueHint: "CTR:HOST:SIZE", description: "a user namespace with this gid range (repeatable)" },
} as const satisfies ArgsDef;

export const repeatableResourceArgs = ["ulimit", "cap-add", "cap-drop", "security-opt", "uidmap", "gidmap", "device", "device-cgroup-rule"];

export function resolveResources(v: Values) {
  const cgroupns = str(v.cgroupns) ?? "private";
  if (cgroupns !== "private" && cgroupns !== "host") throw new MycfsError(`--cgroupns ${cgroupns}: expected private or host`);
  return {
    limits: parseLimits({
      memory: str(v.memory),
      memorySwap: str(v["memory-swap"]),
      cpus: str(v.cpus),
      cpuShares: str(v["cpu-shares"]),
      cpusetCpus: str(v["cpuset-cpus"]),
      pidsLimit: str(v["pids-limit"]),
      blkioWeight: str(v["blkio-weight"]),
    }),
    rlimits: resolveUlimits(list(v.ulimit), defaultUlimits(getrlimit(RLIMITS.nofile!)[1])),
    privileges: resolvePrivileges(
      {
        capAdd: list(v["cap-add"]),
        capDrop: list(v["cap-drop"]),
        privileged: v.privileged === true,
        securityOpts: list(v["security-opt"]),
      },
      capsFromMask(/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFile("/proc/self/status") ?? "")?.[1] ?? "0"),
    ),
    devices: resolveDevices({ devices: list(v.device), rules: list(v["device-cgroup-rule"]), privileged: v.privileged === true }),
    cgroupns: cgroupns === "private",
    userns: resolveUserns(str(v.userns), list(v.uidmap), list(v.gidmap)),
  };
}
