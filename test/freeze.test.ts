// Pause, resume and update of real running containers: on this host's cgroups (hybrid:
// the v1 freezer, a freezer cgroup made for the pause) and on a simulated pure cgroup v2
// host (cgroup.freeze), then limits changed in the cgroup the container already has.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { ContainerCgroup, hostCgroupFs } from "../src/cgroups/cgroup";
import { freezeContainer, freezerState, thawContainer } from "../src/cgroups/freeze";
import type { Layout } from "../src/cgroups/layout";
import { updateLimits } from "../src/cgroups/update";
import { loadOne } from "../src/state/recover";
import { StateDir } from "../src/state/dir";
import { mycfs, mycfsCgroups, onPureV2, testStore } from "./helpers";

const store = testStore("freeze");
const started: [string, typeof onPureV2 | undefined][] = [];
const cgroupNames: string[] = [];
afterAll(async () => {
  for (const [id, wrap] of started) await mycfs(["rm", "-f", id], { wrap });
  store.cleanup();
});

/** A container that appends a line to /tmp/ticks every 10 ms; its record. */
async function ticking(args: string[], wrap?: typeof onPureV2) {
  const script = "while :; do echo . >> /tmp/ticks; usleep 10000; done";
  const r = await mycfs(["run", "-d", "--root", store.root, "--network", "none", ...args, "busybox", "sh", "-c", script], { wrap });
  if (r.code !== 0) throw new Error(`run -d failed (${r.code}): ${r.stderr}`);
  const id = r.stdout.trim();
  started.push([id, wrap]);
  const s = loadOne(new StateDir(), id);
  cgroupNames.push(s.cgroup!.name);
  return { id, s, pid: s.container!.pid };
}

const ticks = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/root/tmp/ticks`, "utf8").length;
  } catch {
    return 0;
  }
};

/** Waits (up to 5 s) until the ticks move on from `from`; their count. */
async function ticksAfter(pid: number, from: number): Promise<number> {
  for (let i = 0; i < 500 && ticks(pid) <= from; i++) await Bun.sleep(10);
  return ticks(pid);
}

/** Frozen: the ticks stay put over 200 ms, ten of the container's rounds. */
async function standsStill(pid: number): Promise<boolean> {
  const before = ticks(pid);
  await Bun.sleep(200);
  return ticks(pid) === before;
}

const procState = (pid: number) => /^State:\t(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];

const freezerLine = (pid: number) => /^\d+:freezer:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))![1]!;

describe("pause and resume", () => {
  test("v1 (this host): a freezer cgroup made for the pause, FROZEN, then thawed and removed", async () => {
    const { s, pid } = await ticking([]);
    const cg = ContainerCgroup.of(hostCgroupFs, s.cgroup!.layout, s.cgroup!.name);
    expect(cg.layout.hierarchies.some((h) => h.controllers.includes("freezer"))).toBe(false);
    const outside = freezerLine(pid);
    await ticksAfter(pid, 0);
    expect(freezerState(cg, pid)).toBe("THAWED");

    freezeContainer(cg, pid);
    expect(freezerState(cg, pid)).toBe("FROZEN");
    const paused = `/sys/fs/cgroup/freezer${outside === "/" ? "" : outside}/${s.cgroup!.name}`;
    expect(freezerLine(pid)).toBe(`${outside === "/" ? "" : outside}/${s.cgroup!.name}`);
    expect(readFileSync(`${paused}/freezer.state`, "utf8").trim()).toBe("FROZEN");
    // the shell and its usleep, every process of the container, is in it
    const procs = readFileSync(`${paused}/cgroup.procs`, "utf8").trim().split("\n");
    const all = readFileSync(`${cg.dirs.values().next().value!}/cgroup.procs`, "utf8").trim().split("\n");
    expect(procs.toSorted()).toEqual(all.toSorted());
    expect(await standsStill(pid)).toBe(true);
    // the v1 freezer holds each task in the refrigerator: uninterruptible, as ps shows it
    expect(procState(pid)).toBe("D (disk sleep)");
    freezeContainer(cg, pid); // again: nothing changes
    expect(freezerState(cg, pid)).toBe("FROZEN");

    const before = ticks(pid);
    thawContainer(cg, pid);
    expect(freezerState(cg, pid)).toBe("THAWED");
    expect(await ticksAfter(pid, before)).toBeGreaterThan(before);
    expect(freezerLine(pid)).toBe(outside);
    expect(existsSync(paused)).toBe(false);
    thawContainer(cg, pid); // again: nothing to do
  });

  test("v2 (a simulated pure v2 host): cgroup.freeze, and cgroup.events says frozen", async () => {
    const { s, pid } = await ticking([], onPureV2);
    // the container's record has the paths of its own mount namespace, where cgroup2 is on
    // /sys/fs/cgroup; the same cgroup is on this host's /sys/fs/cgroup/unified
    const [h] = s.cgroup!.layout.hierarchies;
    expect(s.cgroup!.layout.mode).toBe("v2");
    const unified = "/sys/fs/cgroup/unified";
    const layout: Layout = { mode: "v2", hierarchies: [{ ...h!, mount: unified, own: h!.own.replace("/sys/fs/cgroup", unified) }] };
    const cg = ContainerCgroup.of(hostCgroupFs, layout, s.cgroup!.name);
    const dir = cg.v2Dir!;
    expect(readFileSync(`${dir}/cgroup.procs`, "utf8")).toContain(`${pid}\n`);
    await ticksAfter(pid, 0);

    freezeContainer(cg, pid);
    expect(freezerState(cg, pid)).toBe("FROZEN");
    expect(readFileSync(`${dir}/cgroup.events`, "utf8")).toContain("frozen 1");
    expect(await standsStill(pid)).toBe(true);

    const before = ticks(pid);
    thawContainer(cg, pid);
    expect(freezerState(cg, pid)).toBe("THAWED");
    expect(readFileSync(`${dir}/cgroup.events`, "utf8")).toContain("frozen 0");
    expect(await ticksAfter(pid, before)).toBeGreaterThan(before);
  });
});

describe("update", () => {
  test("memory, memory+swap, pids, CPU quota and period in the running container's cgroup; a controller it lacks is refused", async () => {
    const { id, s, pid } = await ticking(["--memory", "64m", "--cpus", "0.5"]);
    const cg = ContainerCgroup.of(hostCgroupFs, s.cgroup!.layout, s.cgroup!.name);
    const inside = async (file: string) => (await mycfs(["exec", id, "cat", `/sys/fs/cgroup/${file}`])).stdout.trim();
    const M = 1024 * 1024;
    expect(await inside("memory/memory.limit_in_bytes")).toBe(String(64 * M));

    // more memory than the swap limit allowed (128m): the swap limit is written first
    updateLimits(cg, { memory: 256 * M, memorySwap: 512 * M });
    expect(await inside("memory/memory.limit_in_bytes")).toBe(String(256 * M));
    const memsw = await inside("memory/memory.memsw.limit_in_bytes");
    if (memsw) expect(memsw).toBe(String(512 * M)); // where the kernel accounts swap
    // memory alone: the swap limit stays
    updateLimits(cg, { memory: 96 * M });
    expect(await inside("memory/memory.limit_in_bytes")).toBe(String(96 * M));
    if (memsw) expect(await inside("memory/memory.memsw.limit_in_bytes")).toBe(String(512 * M));

    updateLimits(cg, { pidsLimit: 50 });
    expect(await inside("pids/pids.max")).toBe("50");
    updateLimits(cg, { pidsLimit: -1 });
    expect(await inside("pids/pids.max")).toBe("max");

    updateLimits(cg, { cpuPeriod: 50000, cpuQuota: 20000 });
    expect(await inside("cpu/cpu.cfs_period_us")).toBe("50000");
    expect(await inside("cpu/cpu.cfs_quota_us")).toBe("20000");
    updateLimits(cg, { cpuShares: 512 });
    expect(await inside("cpu/cpu.shares")).toBe("512");

    // run without --cpuset-cpus: no cpuset cgroup to write in
    expect(() => updateLimits(cg, { cpusetCpus: "0" })).toThrow(
      "--cpuset-cpus: the container has no cpuset cgroup (cgroup hybrid: mycfs makes one only for the limits given at creation); recreate it with that limit",
    );
    expect(() => updateLimits(cg, { memorySwap: -1 })).toThrow("--memory-swap needs --memory as well");
    // still running through all of it
    const before = ticks(pid);
    expect(await ticksAfter(pid, before)).toBeGreaterThan(before);
  });

  test("cpuset where the container has one", async () => {
    const { id, s } = await ticking(["--cpuset-cpus", "0"]);
    const cg = ContainerCgroup.of(hostCgroupFs, s.cgroup!.layout, s.cgroup!.name);
    const cpus = readFileSync("/sys/fs/cgroup/cpuset/cpuset.cpus", "utf8").trim();
    updateLimits(cg, { cpusetCpus: cpus, cpusetMems: "0" });
    expect((await mycfs(["exec", id, "cat", "/sys/fs/cgroup/cpuset/cpuset.cpus", "/sys/fs/cgroup/cpuset/cpuset.mems"])).stdout).toBe(`${cpus}\n0\n`);
  });

  test("no cgroup of these containers is left", async () => {
    for (const [id, wrap] of started.splice(0)) expect((await mycfs(["rm", "-f", id], { wrap })).code).toBe(0);
    expect(mycfsCgroups().filter((d) => cgroupNames.some((n) => d.endsWith(`/${n}`)))).toEqual([]);
  });
});
