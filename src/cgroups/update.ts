// A running container's limits changed (runc update, docker update): limitWrites' files,
// written into its existing cgroup. As runc does, only what is given changes: --memory
// alone leaves the swap limit as it is (limitWrites gives a new container as much swap as
// memory), and a v2 cpu.max keeps the quota or period not given. Two orders matter on
// v1: memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, so when the swap
// limit grows it is written first (runc's setMemoryAndSwap).
// A container has directories only in the v1 hierarchies its accounting (memory, pids, CPU
// time) and its limits at creation used (cgroup.ts plan): on a v1 or hybrid host a limit of
// another controller (cpu, cpuset without one at creation) is refused, naming it.
import { MycfsError } from "../errors";
import type { ContainerCgroup } from "./cgroup";
import { type Hierarchy, holder } from "./layout";
import { type Limits, limitControllers, limitFlags, limitWrites } from "./limits";

const MEMSW = "memory.memsw.limit_in_bytes";

export function updateLimits(cg: ContainerCgroup, l: Limits) {
  const { fs } = cg;
  if (l.memorySwap !== undefined && l.memory === undefined) throw new MycfsError("--memory-swap needs --memory as well");
  for (const [k, v] of Object.entries(l)) {
    const one = { [k]: v };
    const controllers = limitControllers(one); // none for memorySwap: memory's
    if (v !== undefined && controllers.length && !controllers.some((c) => holder(cg.layout, c)))
      throw new MycfsError(
        `${limitFlags(one)[0]}: the container has no ${controllers[0]} cgroup (cgroup ${cg.layout.mode}: mycfs makes one only for the limits given at creation); recreate it with that limit`,
      );
  }
  const dir = (h: Hierarchy) => cg.dirs.get(h)!;
  const current = (file: string) => {
    const h = cg.layout.hierarchies.find((h) => fs.read(`${dir(h)}/${file}`) !== null);
    return h ? fs.read(`${dir(h)}/${file}`)!.trim() : undefined;
  };
  // v2's cpu.max holds both: the one not given stays as it is
  let given = l;
  const cpuMax = (l.cpuQuota === undefined) !== (l.cpuPeriod === undefined) ? current("cpu.max")?.split(" ") : undefined;
  if (cpuMax) given = { ...l, cpuQuota: l.cpuQuota ?? (cpuMax[0] === "max" ? -1 : Number(cpuMax[0])), cpuPeriod: l.cpuPeriod ?? Number(cpuMax[1]) };
  let writes = limitWrites(cg.layout, given, (h, file) => fs.read(`${dir(h)}/${file}`) !== null);
  const isSwap = (file: string) => file === MEMSW || file === "memory.swap.max";
  if (l.memorySwap === undefined) writes = writes.filter((w) => !isSwap(w.file));
  else {
    const swap = writes.find((w) => w.file === MEMSW);
    const now = current(MEMSW);
    // -1, or above the current limit: first, else memory could not grow past it
    if (swap && (swap.value === "-1" || (now !== undefined && BigInt(swap.value) > BigInt(now)))) writes = [swap, ...writes.filter((w) => w !== swap)];
  }
  for (const w of writes) fs.write(`${dir(w.hierarchy)}/${w.file}`, w.value);
}
