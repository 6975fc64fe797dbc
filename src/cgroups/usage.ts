// What a container uses, from its cgroup: memory, CPU time, processes — in whichever
// hierarchy holds each controller (v1 or v2).
import type { CgroupFs } from "./cgroup";
import { holder, type Layout } from "./layout";

export interface Usage {
  memory?: { bytes: number; limit: number | null };
  cpuSeconds?: number;
  pids?: { count: number; limit: number | null };
  /** Host pids of every process in the container. */
  procs: number[];
}

const num = (text: string | null) => (text === null ? undefined : Number(text.trim()));
/** "max" (v2) or v1's "no limit" (a page-rounded 2^63) is null. */
const limit = (text: string | null) => {
  const t = text?.trim();
  return !t || t === "max" || Number(t) >= 2 ** 62 ? null : Number(t);
};

export function cgroupUsage(fs: CgroupFs, layout: Layout, name: string): Usage {
  const dir = (controller: string) => {
    const h = holder(layout, controller);
    return h && `${h.own}/${name}`;
  };
  const u: Usage = { procs: [] };
  const mem = dir("memory");
  if (mem) {
    const v2 = holder(layout, "memory")!.version === 2;
    const bytes = num(fs.read(`${mem}/${v2 ? "memory.current" : "memory.usage_in_bytes"}`));
    if (bytes !== undefined) u.memory = { bytes, limit: limit(fs.read(`${mem}/${v2 ? "memory.max" : "memory.limit_in_bytes"}`)) };
  }
  const acct = dir("cpuacct");
  const v2 = layout.hierarchies.find((h) => h.version === 2);
  if (acct) u.cpuSeconds = (num(fs.read(`${acct}/cpuacct.usage`)) ?? 0) / 1e9;
  else if (v2) {
    const usec = /^usage_usec (\d+)/m.exec(fs.read(`${v2.own}/${name}/cpu.stat`) ?? "")?.[1];
    if (usec) u.cpuSeconds = Number(usec) / 1e6;
  }
  const pids = dir("pids");
  if (pids) {
    const count = num(fs.read(`${pids}/pids.current`));
    if (count !== undefined) u.pids = { count, limit: limit(fs.read(`${pids}/pids.max`)) };
  }
  const any = layout.hierarchies[0];
  if (any) u.procs = (fs.read(`${any.own}/${name}/cgroup.procs`) ?? "").split("\n").filter(Boolean).map(Number);
  return u;
}
