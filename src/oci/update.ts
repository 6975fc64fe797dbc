// runc update: new limits for a container's cgroup, from runc's flags or a LinuxResources
// JSON object (-r FILE, "-" for stdin), read as config.json's linux.resources is.
import { ContainerCgroup, hostCgroupFs } from "../cgroups/cgroup";
import { holder } from "../cgroups/layout";
import { limitWrites, parseBytes } from "../cgroups/limits";
import { readFile, writeFile } from "../native/lib";
import { cgroupUsage } from "../cgroups/usage";
import { log } from "../log";
import { type CgroupFile, checkBeforeUpdate, ConfigError, readResources, resourceFiles } from "./config";
import { ociError, type OciState } from "./state";

/** runc update's flags, as the LinuxResources fields they set. */
const FLAGS: Record<string, [group: string, field: string, bytes?: boolean]> = {
  memory: ["memory", "limit", true],
  "memory-swap": ["memory", "swap", true],
  "memory-reservation": ["memory", "reservation", true],
  "kernel-memory": ["memory", "kernel", true],
  "cpu-period": ["cpu", "period"],
  "cpu-quota": ["cpu", "quota"],
  "cpu-share": ["cpu", "shares"],
  "cpu-rt-period": ["cpu", "realtimePeriod"],
  "cpu-rt-runtime": ["cpu", "realtimeRuntime"],
  "cpuset-cpus": ["cpu", "cpus"],
  "cpuset-mems": ["cpu", "mems"],
  "blkio-weight": ["blockIO", "weight"],
  "pids-limit": ["pids", "limit"],
};
export const UPDATE_FLAGS = new Set([...Object.keys(FLAGS), "resources", "l3-cache-schema", "mem-bw-schema"]);

/** Writes the files beyond mycfs's limits in the container's cgroup: each in the hierarchy
 * that holds its controller (cgroup v2's own files in the v2 one), under that version's
 * name; one this host cannot have is refused, naming the field, as is a value the kernel
 * refuses. */
export function writeCgroupFiles(cgroup: ContainerCgroup, files: CgroupFile[]) {
  for (const f of files) {
    // (v1's blkio is v2's io)
    const h =
      f.controller === "cgroup"
        ? cgroup.layout.hierarchies.find((x) => x.version === 2)
        : (holder(cgroup.layout, f.controller) ?? (f.controller === "blkio" ? holder(cgroup.layout, "io") : undefined));
    const v2 = h ? h.version === 2 : cgroup.layout.mode === "v2";
    if (v2 && f.v2Implied) continue;
    const name = h && (h.version === 2 ? f.v2 : f.v1);
    const dir = h && cgroup.dirs.get(h);
    if (!h || !name || !dir)
      throw ociError(
        `config.json: ${f.field}: not available here: ${v2 && !f.v2 ? "cgroup v2 has no such setting" : h ? `no such file on cgroup v${h.version}` : `no ${f.controller} controller for mycfs's cgroup`}`,
      );
    try {
      writeFile(`${dir}/${name}`, h.version === 2 ? (f.v2Value ?? f.value) : f.value);
    } catch (e) {
      throw ociError(`config.json: ${f.field}: ${(e as Error).message}`);
    }
  }
}

export function update(state: OciState, id: string, flags: Record<string, string>) {
  const s = state.load(id);
  if (state.status(s) === "stopped") throw ociError("container not running");
  if (!s.cgroup) throw ociError("the container runs without a cgroup; it has no limits to update");
  for (const name of ["l3-cache-schema", "mem-bw-schema"]) if (flags[name] !== undefined) throw ociError(`--${name}: Intel RDT is not honoured by mycfs`);
  let resources: Record<string, Record<string, unknown>> = {};
  if (flags.resources !== undefined) {
    const text = flags.resources === "-" ? (require("node:fs") as typeof import("node:fs")).readFileSync(0, "utf8") : readFile(flags.resources);
    if (text === null) throw ociError(`cannot read ${flags.resources}`);
    try {
      resources = JSON.parse(text);
    } catch {
      throw ociError(`${flags.resources}: not valid JSON`);
    }
  }
  for (const [flag, value] of Object.entries(flags)) {
    const f = FLAGS[flag];
    if (!f) continue;
    const [group, field, bytes] = f;
    const n = bytes ? (value === "-1" ? -1 : parseBytes(value, `--${flag}`)) : /^-?\d+$/.test(value) ? Number(value) : value;
    resources[group] = { ...resources[group], [field]: n };
  }
  let limits: ReturnType<typeof readResources>;
  let files: CgroupFile[];
  const warnings: string[] = [];
  let check: boolean;
  try {
    limits = readResources(resources);
    files = resourceFiles(resources, warnings); // checked before anything is written
    check = resources.memory?.checkBeforeUpdate !== undefined ? checkBeforeUpdate(resources) : !!s.memoryCheckBeforeUpdate;
  } catch (e) {
    if (e instanceof ConfigError) throw ociError(e.message.replace(/^config\.json: linux\.resources\./, "update: "));
    throw e;
  }
  for (const w of warnings) log.warn(w.replace(/^config\.json: linux\.resources\./, "update: "));
  // runc's checkBeforeUpdate: a limit below what the container uses now is refused
  const used = check && limits.memory !== undefined ? cgroupUsage(hostCgroupFs, s.cgroup.layout, s.cgroup.name).memory?.bytes : undefined;
  if (used !== undefined && limits.memory! < used)
    throw ociError(`update: memory.limit: ${limits.memory} bytes is below the container's memory use (${used} bytes), and memory.checkBeforeUpdate is set`);
  const cgroup = ContainerCgroup.of(hostCgroupFs, s.cgroup.layout, s.cgroup.name);
  const writes = limitWrites(s.cgroup.layout, limits, (h, file) => readFile(`${cgroup.dirs.get(h)}/${file}`) !== null);
  for (const w of writes) writeFile(`${cgroup.dirs.get(w.hierarchy)}/${w.file}`, w.value);
  writeCgroupFiles(cgroup, files);
}
