// Docker's resource flags, parsed, and turned into cgroup file writes for whichever
// version holds each controller.
import { MycfsError } from "../errors";
import { holder, type Hierarchy, type Layout } from "./layout";

export interface Limits {
  memory?: number;
  /** memory plus swap; -1 unlimited */
  memorySwap?: number;
  cpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  /** -1 unlimited */
  pidsLimit?: number;
  blkioWeight?: number;
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "64m", "1g", "4096": docker's byte sizes (binary units). */
export function parseBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(text.trim());
  if (!m) throw new MycfsError(`${flag} ${text}: expected a size such as 64m, 512k or 1g`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

function parseNumber(text: string, flag: string, ok: (n: number) => boolean, hint: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new MycfsError(`${flag} ${text}: ${hint}`);
  return n;
}

export interface LimitFlags {
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

export function parseLimits(f: LimitFlags): Limits {
  const l: Limits = {};
  if (f.memory !== undefined) {
    l.memory = parseBytes(f.memory, "--memory");
    if (l.memory < 6 * 1024 * 1024) throw new MycfsError(`--memory ${f.memory}: the minimum is 6m`);
  }
  if (f.memorySwap !== undefined) {
    if (l.memory === undefined) throw new MycfsError("--memory-swap needs --memory as well");
    l.memorySwap = f.memorySwap === "-1" ? -1 : parseBytes(f.memorySwap, "--memory-swap");
    if (l.memorySwap !== -1 && l.memorySwap < l.memory)
      throw new MycfsError(`--memory-swap ${f.memorySwap}: it counts memory plus swap, so it must be at least --memory`);
  }
  if (f.cpus !== undefined) l.cpus = parseNumber(f.cpus, "--cpus", (n) => n > 0 && n <= 1024, "expected a positive number of CPUs, e.g. 0.5");
  if (f.cpuShares !== undefined)
    l.cpuShares = parseNumber(f.cpuShares, "--cpu-shares", (n) => Number.isInteger(n) && n >= 2 && n <= 262144, "expected a whole number from 2 to 262144");
  if (f.cpusetCpus !== undefined) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(f.cpusetCpus)) throw new MycfsError(`--cpuset-cpus ${f.cpusetCpus}: expected CPU numbers and ranges, e.g. 0-1,3`);
    l.cpusetCpus = f.cpusetCpus;
  }
  if (f.pidsLimit !== undefined) {
    const n = parseNumber(f.pidsLimit, "--pids-limit", Number.isInteger, "expected a whole number (0 or -1: unlimited)");
    l.pidsLimit = n <= 0 ? -1 : n;
  }
  if (f.blkioWeight !== undefined)
    l.blkioWeight = parseNumber(f.blkioWeight, "--blkio-weight", (n) => Number.isInteger(n) && n >= 10 && n <= 1000, "expected a whole number from 10 to 1000");
  return l;
}

/** The controllers the requested limits need (the checks and errors are limitWrites'). */
const FLAGS: Record<keyof Limits, string> = {
  memory: "--memory",
  memorySwap: "--memory-swap",
  cpus: "--cpus",
  cpuShares: "--cpu-shares",
  cpusetCpus: "--cpuset-cpus",
  pidsLimit: "--pids-limit",
  blkioWeight: "--blkio-weight",
};

/** The flags the limits were asked for with, for messages. */
export const limitFlags = (l: Limits): string[] => (Object.keys(l) as (keyof Limits)[]).map((k) => FLAGS[k]);

export function limitControllers(l: Limits): string[] {
  return [
    ...(l.memory !== undefined ? ["memory"] : []),
    ...(l.cpus !== undefined || l.cpuShares !== undefined ? ["cpu"] : []),
    ...(l.cpusetCpus !== undefined ? ["cpuset"] : []),
    ...(l.pidsLimit !== undefined ? ["pids"] : []),
    ...(l.blkioWeight !== undefined ? ["blkio", "io"] : []),
  ];
}

export interface Write {
  hierarchy: Hierarchy;
  file: string;
  value: string;
}

/** Files to write in the container's cgroup, in order; `has(h, file)` tells whether a
 * hierarchy offers an optional file (swap accounting, io weight). */
export function limitWrites(layout: Layout, l: Limits, has: (h: Hierarchy, file: string) => boolean): Write[] {
  const writes: Write[] = [];
  const need = (controller: string, flag: string) => {
    const h = holder(layout, controller);
    if (!h)
      throw new MycfsError(
        `${flag}: the ${controller} cgroup controller is not available to mycfs here (cgroup ${layout.mode}); run without ${flag}, or enable the controller for mycfs's cgroup`,
      );
    return h;
  };
  const put = (hierarchy: Hierarchy, file: string, value: string | number) => writes.push({ hierarchy, file, value: String(value) });

  if (l.memory !== undefined) {
    const h = need("memory", "--memory");
    // docker: without --memory-swap, as much swap as memory
    const total = l.memorySwap ?? l.memory * 2;
    const swapFile = h.version === 2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
    if (h.version === 2) put(h, "memory.max", l.memory);
    else put(h, "memory.limit_in_bytes", l.memory);
    if (has(h, swapFile)) put(h, swapFile, h.version === 2 ? (total === -1 ? "max" : total - l.memory) : total);
    else if (l.memorySwap !== undefined)
      throw new MycfsError("--memory-swap: this kernel does not account swap (no swap limit support); run without --memory-swap");
  }
  if (l.cpus !== undefined) {
    const h = need("cpu", "--cpus");
    const quota = Math.round(l.cpus * 100000);
    if (h.version === 2) put(h, "cpu.max", `${quota} 100000`);
    else {
      put(h, "cpu.cfs_period_us", 100000);
      put(h, "cpu.cfs_quota_us", quota);
    }
  }
  if (l.cpuShares !== undefined) {
    const h = need("cpu", "--cpu-shares");
    // runc's mapping of shares [2, 262144] onto weight [1, 10000]
    if (h.version === 2) put(h, "cpu.weight", 1 + Math.floor(((l.cpuShares - 2) * 9999) / 262142));
    else put(h, "cpu.shares", l.cpuShares);
  }
  if (l.cpusetCpus !== undefined) put(need("cpuset", "--cpuset-cpus"), "cpuset.cpus", l.cpusetCpus);
  if (l.pidsLimit !== undefined) put(need("pids", "--pids-limit"), "pids.max", l.pidsLimit === -1 ? "max" : l.pidsLimit);
  if (l.blkioWeight !== undefined) {
    const h = need(holder(layout, "io")?.version === 2 ? "io" : "blkio", "--blkio-weight");
    const candidates = h.version === 2 ? ["io.weight", "io.bfq.weight"] : ["blkio.weight", "blkio.bfq.weight"];
    const file = candidates.find((f) => has(h, f));
    if (!file) throw new MycfsError("--blkio-weight: this host's I/O scheduler offers no weight (no blkio/io weight file); run without --blkio-weight");
    put(h, file, h.version === 2 ? `default ${l.blkioWeight}` : l.blkioWeight);
  }
  return writes;
}
