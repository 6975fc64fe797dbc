// cgroup logic without root: layouts of v2, v1 and hybrid hosts parsed from their
// mountinfo, and the manager driven against a recording fake file system.
import { describe, expect, test } from "bun:test";
import { ContainerCgroup, type CgroupFs } from "../src/cgroups/cgroup";
import { MycfsError } from "../src/errors";
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, parseDeviceRule } from "../src/cgroups/devices";
import { holder, type Layout, parseLayout } from "../src/cgroups/layout";
import { type Limits, limitWrites, parseBytes, parseLimits } from "../src/cgroups/limits";

const V2_MOUNTINFO = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
const HYBRID_MOUNTINFO = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");
const HYBRID_CGROUP = "9:name=systemd:/user\n8:pids:/\n4:memory:/job/7\n1:cpu,cpuacct:/\n0::/user\n";

/** An in-memory cgroup tree: directories, files, and every write in order. */
function fakeFs(files: Record<string, string>): CgroupFs & { writes: string[]; dirs: Set<string> } {
  const dirs = new Set<string>();
  const writes: string[] = [];
  return {
    writes,
    dirs,
    writable: () => 0,
    read: (p) => files[p] ?? (p.endsWith("/cgroup.procs") ? "" : null),
    write: (p, v) => {
      if (!(p in files) && !p.endsWith("/cgroup.procs") && !p.startsWith("/sys/fs/cgroup/cpuset")) throw new Error(`no such file ${p}`);
      writes.push(`${p}=${v}`);
      files[p] = v;
    },
    mkdir: (p) => {
      dirs.add(p);
      // a new cgroup directory comes with its controllers' files
      for (const f of Object.keys(files)) if (f.startsWith("TEMPLATE/")) files[`${p}/${f.slice(9)}`] = files[f]!;
    },
    // busy while a cgroup inside it is there
    rmdir: (p) => ([...dirs].some((d) => d.startsWith(`${p}/`)) ? 16 : dirs.delete(p) ? 0 : 2),
    subdirs: (p) => [...dirs].filter((d) => d.startsWith(`${p}/`) && !d.slice(p.length + 1).includes("/")).map((d) => d.slice(p.length + 1)),
    attachDeviceFilter: (p, insns) => void writes.push(`${p}:bpf(${insns.byteLength / 8} instructions)`),
  };
}

describe("layout", () => {
  test("cgroup v2: controllers usable below our cgroup come from its subtree_control", () => {
    const l = parseLayout(V2_MOUNTINFO, "0::/user.slice/mycfs\n", (dir) => (dir === "/sys/fs/cgroup/user.slice/mycfs" ? ["memory", "pids"] : []));
    expect(l).toEqual({
      mode: "v2",
      hierarchies: [{ version: 2, mount: "/sys/fs/cgroup", controllers: ["memory", "pids"], options: "", own: "/sys/fs/cgroup/user.slice/mycfs" }],
    });
    expect(holder(l, "memory")?.version).toBe(2);
    expect(holder(l, "cpu")).toBeUndefined();
  });

  test("hybrid: v1 controllers, a named hierarchy and a v2 mount, each with our own cgroup", () => {
    const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => ["hugetlb"]);
    expect(l.mode).toBe("hybrid");
    expect(l.hierarchies.map((h) => [h.version, h.options, h.own])).toEqual([
      [1, "cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct"],
      [1, "memory", "/sys/fs/cgroup/memory/job/7"],
      [1, "pids", "/sys/fs/cgroup/pids"],
      [1, "none,name=systemd", "/sys/fs/cgroup/systemd/user"],
      [2, "", "/sys/fs/cgroup/unified/user"],
    ]);
    expect(holder(l, "memory")?.version).toBe(1);
    expect(holder(l, "hugetlb")?.version).toBe(2);
  });

  test("a cgroup2 mounted over a v1 tree hides it", () => {
    const l = parseLayout(`${HYBRID_MOUNTINFO}\n99 23 0:50 / /sys/fs/cgroup rw - cgroup2 none rw\n`, HYBRID_CGROUP, () => []);
    expect(l).toEqual({ mode: "v2", hierarchies: [{ version: 2, mount: "/sys/fs/cgroup", controllers: [], options: "", own: "/sys/fs/cgroup/user" }] });
  });

  test("v1 only, and a hierarchy mounted from a sub-tree (inside another container)", () => {
    const l = parseLayout("35 31 0:32 /job /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "4:memory:/job/7\n", () => []);
    expect(l.mode).toBe("v1");
    expect(l.hierarchies[0]!.own).toBe("/sys/fs/cgroup/memory/7");
  });
});

describe("limits", () => {
  test("docker's sizes and numbers, with clear refusals", () => {
    expect(parseBytes("64m", "--memory")).toBe(64 * 1024 * 1024);
    expect(parseBytes("1G", "--memory")).toBe(1024 ** 3);
    expect(parseBytes("512kb", "--memory")).toBe(512 * 1024);
    expect(() => parseLimits({ memory: "abc" })).toThrow("--memory abc: expected a size such as 64m");
    expect(() => parseLimits({ memory: "1m" })).toThrow("the minimum is 6m");
    expect(() => parseLimits({ cpus: "-1" })).toThrow("--cpus -1: expected a positive number");
    expect(() => parseLimits({ cpus: "x" })).toThrow("--cpus x");
    expect(() => parseLimits({ memorySwap: "1g" })).toThrow("--memory-swap needs --memory");
    expect(() => parseLimits({ memory: "64m", memorySwap: "32m" })).toThrow("at least --memory");
    expect(() => parseLimits({ cpusetCpus: "a-b" })).toThrow("--cpuset-cpus a-b");
    expect(parseLimits({ pidsLimit: "0" }).pidsLimit).toBe(-1);
  });

  const v2 = parseLayout(V2_MOUNTINFO, "0::/c\n", () => ["memory", "pids", "cpu", "cpuset", "io"]);
  const hybrid = parseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => []);
  const all = () => true;
  const render = (ws: ReturnType<typeof limitWrites>) => ws.map((w) => `${w.hierarchy.version}:${w.file}=${w.value}`);
  const limits = parseLimits({ memory: "64m", cpus: "0.5", cpuShares: "512", pidsLimit: "64", blkioWeight: "300" });

  test("cgroup v2 files", () => {
    expect(render(limitWrites(v2, limits, all))).toEqual([
      "2:memory.max=67108864",
      "2:memory.swap.max=67108864",
      "2:cpu.max=50000 100000",
      "2:cpu.weight=20",
      "2:pids.max=64",
      "2:io.weight=default 300",
    ]);
    expect(render(limitWrites(v2, parseLimits({ memory: "64m", memorySwap: "-1" }), all))).toEqual(["2:memory.max=67108864", "2:memory.swap.max=max"]);
  });

  test("cgroup v1 files, on the hierarchy that holds each controller", () => {
    const { blkioWeight, ...rest } = limits;
    expect(render(limitWrites(hybrid, rest, all))).toEqual([
      "1:memory.limit_in_bytes=67108864",
      "1:memory.memsw.limit_in_bytes=134217728",
      "1:cpu.cfs_period_us=100000",
      "1:cpu.cfs_quota_us=50000",
      "1:cpu.shares=512",
      "1:pids.max=64",
    ]);
  });

  test("a limit whose controller or file is missing is an error, not silence", () => {
    expect(() => limitWrites(hybrid, limits, all)).toThrow("--blkio-weight: the blkio cgroup controller is not available to mycfs here (cgroup hybrid)");
    expect(() => limitWrites(v2, parseLimits({ blkioWeight: "300" }), () => false)).toThrow("no blkio/io weight file");
    expect(() => limitWrites(v2, parseLimits({ memory: "64m", memorySwap: "1g" }), (_, f) => f !== "memory.swap.max")).toThrow("does not account swap");
    expect(render(limitWrites(v2, parseLimits({ memory: "64m" }), (_, f) => f !== "memory.swap.max"))).toEqual(["2:memory.max=67108864"]);
  });
});

describe("ContainerCgroup on a fake tree", () => {
  const v2 = parseLayout(V2_MOUNTINFO, "0::/user\n", () => ["memory", "pids"]);
  const create = (fs: ReturnType<typeof fakeFs>, layout: Layout, name: string, limits: Limits) => {
    const cg = ContainerCgroup.plan(fs, layout, name, limits);
    cg.create();
    return cg;
  };

  test("planned, it has its directories and steps and has made nothing yet", () => {
    const fs = fakeFs({});
    const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => []);
    const cg = ContainerCgroup.plan(fs, l, "mycfs-x", parseLimits({}));
    expect(cg.joinOps().length).toBeGreaterThan(0);
    expect([...fs.dirs]).toEqual([]);
    expect(fs.writes).toEqual([]);
  });

  test("creates and limits it, is born into it (v2), reports OOM and removes it", () => {
    const fs = fakeFs({
      "TEMPLATE/memory.max": "max",
      "TEMPLATE/memory.swap.max": "max",
      "TEMPLATE/pids.max": "max",
      "TEMPLATE/memory.events": "oom 0\noom_kill 0\n",
    });
    const cg = create(fs, v2, "mycfs-abc", parseLimits({ memory: "32m", pidsLimit: "10" }));
    expect([...fs.dirs]).toEqual(["/sys/fs/cgroup/user/mycfs-abc"]);
    expect(fs.writes).toEqual([
      "/sys/fs/cgroup/user/mycfs-abc/memory.max=33554432",
      "/sys/fs/cgroup/user/mycfs-abc/memory.swap.max=33554432",
      "/sys/fs/cgroup/user/mycfs-abc/pids.max=10",
    ]);
    expect(cg.v2Dir).toBe("/sys/fs/cgroup/user/mycfs-abc");
    expect(cg.joinOps()).toEqual([]);
    expect(cg.oomKilled()).toBe(false);
    fs.write("/sys/fs/cgroup/user/mycfs-abc/memory.events", "oom 1\noom_kill 1\n");
    expect(cg.oomKilled()).toBe(true);
    cg.remove();
    expect([...fs.dirs]).toEqual([]);
  });

  test("a refused limit leaves no directory behind", () => {
    const fs = fakeFs({});
    expect(() => create(fs, v2, "mycfs-abc", parseLimits({ cpus: "1" }))).toThrow("--cpus: the cpu cgroup controller is not available");
    expect([...fs.dirs]).toEqual([]);
  });

  test("a tree it cannot write: the error is the directory it could not make, not a cleanup after it", () => {
    const EROFS = 30;
    const readOnly = {
      ...fakeFs({}),
      mkdir: (p: string) => {
        throw new MycfsError(`create ${p}: Read-only file system (EROFS)`);
      },
      rmdir: () => EROFS,
    };
    const cg = ContainerCgroup.plan(readOnly, v2, "mycfs-abc", parseLimits({}));
    expect(() => cg.create()).toThrow(new MycfsError("create /sys/fs/cgroup/user/mycfs-abc: Read-only file system (EROFS)"));
    cg.remove(); // nothing was made, so nothing to take away
  });

  test("cgroups the container made inside its own go with it", () => {
    const fs = fakeFs({});
    const cg = create(fs, v2, "mycfs-abc", parseLimits({}));
    for (const sub of ["a", "a/b", "a/b/c", "d"]) fs.mkdir(`/sys/fs/cgroup/user/mycfs-abc/${sub}`);
    cg.remove();
    expect([...fs.dirs]).toEqual([]);
  });

  test("a directory that cannot be removed is named, with its errno's symbol; the others go all the same", () => {
    const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => []);
    const base = fakeFs({});
    const fs = { ...base, rmdir: (p: string) => (p.includes("/memory/") ? 13 : base.rmdir(p)) };
    const cg = create(fs, l, "mycfs-x", parseLimits({}));
    expect(() => cg.remove()).toThrow(new MycfsError("could not remove cgroup /sys/fs/cgroup/memory/job/7/mycfs-x: Permission denied (EACCES)"));
    expect([...base.dirs]).toEqual(["/sys/fs/cgroup/memory/job/7/mycfs-x"]);
  });

  test("on v1 the child moves its own thread into each hierarchy it uses, and only those", () => {
    const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => []);
    const cg = create(fakeFs({ "TEMPLATE/cpu.cfs_period_us": "", "TEMPLATE/cpu.cfs_quota_us": "" }), l, "mycfs-x", parseLimits({ cpus: "1" }));
    expect(cg.v2Dir).toBeUndefined();
    expect(cg.joinOps().map((o) => (o.kind === "write" ? [o.path, o.text] : o.kind))).toEqual([
      ["/sys/fs/cgroup/cpu,cpuacct/mycfs-x/tasks", "0"],
      ["/sys/fs/cgroup/memory/job/7/mycfs-x/tasks", "0"],
      ["/sys/fs/cgroup/pids/mycfs-x/tasks", "0"],
    ]);
  });

  test("a v1 cpuset cgroup gets its parent's CPUs and memory nodes before anything joins", () => {
    const l = parseLayout("34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n", "3:cpuset:/\n", () => []);
    const fs = fakeFs({ "/sys/fs/cgroup/cpuset/cpuset.cpus": "0-1\n", "/sys/fs/cgroup/cpuset/cpuset.mems": "0\n" });
    create(fs, l, "mycfs-x", parseLimits({ cpusetCpus: "1" }));
    expect(fs.writes).toEqual([
      "/sys/fs/cgroup/cpuset/mycfs-x/cpuset.cpus=0-1",
      "/sys/fs/cgroup/cpuset/mycfs-x/cpuset.mems=0",
      "/sys/fs/cgroup/cpuset/mycfs-x/cpuset.cpus=1",
    ]);
  });

  test("device rules: v1's devices controller joined and written before anything joins; on v2 a program; none asked for, none written", () => {
    const l = parseLayout(`${HYBRID_MOUNTINFO}\n36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices`, `${HYBRID_CGROUP}5:devices:/\n`, () => []);
    const fs = fakeFs({ "TEMPLATE/devices.deny": "", "TEMPLATE/devices.allow": "" });
    const rules = [...DEFAULT_DEVICE_RULES, parseDeviceRule("c 1:11 w")];
    const cg = ContainerCgroup.plan(fs, l, "mycfs-x", {}, rules);
    cg.create();
    expect(cg.joinOps().map((o) => o.kind === "write" && o.path)).toContain("/sys/fs/cgroup/devices/mycfs-x/tasks");
    expect(fs.writes.slice(0, 3)).toEqual([
      "/sys/fs/cgroup/devices/mycfs-x/devices.deny=a",
      "/sys/fs/cgroup/devices/mycfs-x/devices.allow=c *:* m",
      "/sys/fs/cgroup/devices/mycfs-x/devices.allow=b *:* m",
    ]);
    expect(fs.writes.at(-1)).toBe("/sys/fs/cgroup/devices/mycfs-x/devices.allow=c 1:11 w");
    const all = fakeFs({ "TEMPLATE/devices.allow": "" });
    ContainerCgroup.plan(all, l, "mycfs-x", {}, [ALL_DEVICES]).create();
    expect(all.writes).toEqual(["/sys/fs/cgroup/devices/mycfs-x/devices.allow=a"]);
    const none = ContainerCgroup.plan(fakeFs({}), l, "mycfs-x", {});
    expect(none.joinOps().map((o) => o.kind === "write" && o.path)).not.toContain("/sys/fs/cgroup/devices/mycfs-x/tasks");

    const v2fs = fakeFs({});
    create(v2fs, v2, "mycfs-abc", {});
    expect(v2fs.writes).toEqual([]);
    ContainerCgroup.plan(v2fs, v2, "mycfs-abc", {}, DEFAULT_DEVICE_RULES).create();
    ContainerCgroup.plan(v2fs, v2, "mycfs-def", {}, rules).create();
    ContainerCgroup.plan(v2fs, v2, "mycfs-ghi", {}, [ALL_DEVICES]).create();
    expect(v2fs.writes).toEqual(["/sys/fs/cgroup/user/mycfs-abc:bpf(69 instructions)", "/sys/fs/cgroup/user/mycfs-def:bpf(77 instructions)"]);
  });
});
