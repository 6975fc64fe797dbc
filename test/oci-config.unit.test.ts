// config.json as data: runtime-spec 1.1 in, ContainerSpec (and the host's share: limits,
// device rules, cgroup path) out; every field mycfs cannot honour refused by name.
import { describe, expect, test } from "bun:test";
import { ALL_DEVICES, DEFAULT_DEVICE_RULES } from "../src/cgroups/devices";
import { buildPlan, type HostFacts } from "../src/container/plan";
import { mountOptions, userMounts } from "../src/container/mounts";
import { MycfsError } from "../src/errors";
import { type HostLookups, readConfig, readSeccomp } from "../src/oci/config";
import { defaultSpec, features } from "../src/oci/default-spec";
import { cgroupPath } from "../src/oci/create";
import { signalOf } from "../src/oci/state";
import { MOUNT_ATTR, MS, root, SECCOMP_FILTER_FLAG } from "../src/plan/ops";
import { Sync } from "../src/native/protocol";
import { CLONE } from "../src/container/namespaces";

const lookups: HostLookups = {
  isDir: (path) => (path.endsWith(".conf") ? false : path.startsWith("/missing") ? undefined : true),
  compileSeccomp: () => new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
  // as seccomp(2) checks its flags: WAIT_KILLABLE_RECV only beside NEW_LISTENER
  seccompFlagsRefused: (flags) => ((flags & 32) !== 0 && (flags & 8) === 0 ? "Invalid argument" : undefined),
  underRoot: (_rootfs, path) => (path === "/tmp" ? "empty" : path === "/etc" ? "nonempty" : path === "/lnk" ? "other" : "absent"),
};

type Config = ReturnType<typeof defaultSpec> & Record<string, unknown>;
const base = (): Config => {
  const c = defaultSpec(false) as Config;
  c.process.terminal = false;
  c.process.args = ["/bin/true"];
  return c;
};
const read = (c: unknown, bundle = "/srv/bundle") => readConfig(JSON.stringify(c), bundle, lookups);

/** The error a config gets: its message, and that it exits 1 as runc's does. */
function refusal(c: unknown): string {
  try {
    read(c);
  } catch (e) {
    expect(e).toBeInstanceOf(MycfsError);
    expect((e as MycfsError).exitCode).toBe(1);
    return (e as Error).message;
  }
  throw new Error("not refused");
}

const host: HostFacts = {
  rootfs: { path: "/srv/bundle/rootfs", ops: [root("/srv/bundle/rootfs")] },
  cgroups: { join: [], binds: [{ source: "/sys/fs/cgroup/mycfs-oci-x", target: "/sys/fs/cgroup" }], v2Only: true },
  rootWithoutParent: false,
  dropGroups: true,
  awaitStart: { fd: 9, keepFds: 2 },
};

describe("config.json", () => {
  test("runc's default config becomes the spec", () => {
    const c = read(base());
    expect(c.rootfs).toBe("/srv/bundle/rootfs");
    expect(c.terminal).toBe(false);
    expect(c.spec.root.readonly).toBe(true);
    expect(c.spec.hostname).toBe("mycfs");
    expect(c.spec.process.args).toEqual(["/bin/true"]);
    expect(c.spec.process.capabilities).toEqual({
      bounding: ["AUDIT_WRITE", "KILL", "NET_BIND_SERVICE"],
      permitted: ["AUDIT_WRITE", "KILL", "NET_BIND_SERVICE"],
      inheritable: [],
    });
    expect(c.spec.process.rlimits).toEqual([{ name: "nofile", resource: 7, soft: 1024, hard: 1024 }]);
    expect(c.spec.process.noNewPrivileges).toBe(true);
    expect(c.spec.linux.namespaces.map((n) => n.type)).toEqual(["pid", "network", "ipc", "uts", "mount", "cgroup"]);
    expect(c.spec.mounts.map((m) => [m.destination, m.type])).toEqual([
      ["/proc", "proc"],
      ["/dev", "tmpfs"],
      ["/dev/pts", "devpts"],
      ["/dev/shm", "tmpfs"],
      ["/dev/mqueue", "mqueue"],
      ["/sys", "sysfs"],
      ["/sys/fs/cgroup", "cgroup"],
    ]);
    expect(c.spec.mycfs).toEqual({ init: false, pivot: true, systemMounts: false });
    expect(c.deviceRules).toBe(DEFAULT_DEVICE_RULES);
    expect(c.limits).toEqual({});
    expect(c.spec.linux.seccomp).toBeNull();
  });

  test("the rootless default maps the caller to root and binds the host's /sys", () => {
    const c = readConfig(JSON.stringify({ ...defaultSpec(true, 1000, 1000), process: { ...defaultSpec(true).process, terminal: false } }), "/b", lookups);
    expect(c.userns).toEqual({ uids: [{ inside: 0, outside: 1000, size: 1 }], gids: [{ inside: 0, outside: 1000, size: 1 }] });
    expect(c.spec.mounts.find((m) => m.destination === "/sys")).toMatchObject({
      type: "bind",
      source: "/sys",
      options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
    });
  });

  test("an engine's fields: user, umask, oomScoreAdj, env, binds, sysctl, resources", () => {
    const c = base();
    Object.assign(c.process, { user: { uid: 1000, gid: 100, umask: 0o27, additionalGids: [10, 20] }, oomScoreAdj: 100, env: ["A=1", "HOME=/home/u"] });
    c.process.capabilities = { bounding: ["CAP_CHOWN"], effective: [], permitted: [] };
    c.mounts.push({ destination: "/etc/resolv.conf", type: "bind", source: "resolv.conf", options: ["rbind", "ro", "rprivate"] });
    c.mounts.push({ destination: "/data", type: "none", source: "/srv/data", options: ["bind", "nosuid", "rslave"] });
    c.linux.sysctl = { "net.ipv4.ip_forward": "1", "kernel.shmmax": "4096" };
    c.linux.resources = {
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
      ],
      memory: { limit: 64 << 20, swap: 128 << 20 },
      cpu: { quota: 50000, period: 100000, shares: 512, cpus: "0-1" },
      pids: { limit: 100 },
      blockIO: { weight: 300 },
    };
    c.linux.cgroupsPath = "/libpod_parent/libpod-x";
    c.annotations = { "io.podman.x": "y" };
    const o = read(c);
    expect(o.spec.process.user).toEqual({ uid: 1000, gid: 100, additionalGids: [10, 20], home: "/" });
    expect(o.spec.process.umask).toBe(0o27);
    expect(o.spec.process.oomScoreAdj).toBe(100);
    expect(o.spec.process.capabilities).toEqual({ bounding: ["CHOWN"], permitted: [], inheritable: [] });
    expect(o.spec.mounts.at(-2)).toEqual({
      destination: "/etc/resolv.conf",
      type: "bind",
      source: "/srv/bundle/resolv.conf",
      options: ["rbind", "ro", "rprivate"],
      file: true,
    });
    expect(o.spec.mounts.at(-1)).toEqual({ destination: "/data", type: "bind", source: "/srv/data", options: ["bind", "nosuid", "rslave"] });
    expect(o.spec.linux.sysctl).toEqual({ "net.ipv4.ip_forward": "1", "kernel.shmmax": "4096" });
    expect(o.limits).toEqual({ memory: 64 << 20, memorySwap: 128 << 20, cpus: 0.5, cpuShares: 512, cpusetCpus: "0-1", pidsLimit: 100, blkioWeight: 300 });
    expect(o.deviceRules).toEqual([...DEFAULT_DEVICE_RULES, { type: "c", major: 10, minor: 229, access: "rwm" }]);
    expect(o.cgroupsPath).toBe("/libpod_parent/libpod-x");
    expect(o.annotations).toEqual({ "io.podman.x": "y" });
  });

  test("ambient capabilities: raised where permitted and inheritable, else a note for --debug, as runc drops them silently", () => {
    const c = base();
    c.process.capabilities = {
      bounding: ["CAP_KILL", "CAP_CHOWN"],
      effective: ["CAP_KILL", "CAP_CHOWN"],
      permitted: ["CAP_KILL", "CAP_CHOWN"],
      inheritable: ["CAP_KILL"],
      ambient: ["CAP_KILL", "CAP_CHOWN"],
    } as never;
    const o = read(c);
    expect(o.spec.process.capabilities.ambient).toEqual(["KILL"]);
    expect(o.warnings).toEqual([]);
    expect(o.notes).toEqual(["config.json: process.capabilities.ambient: CAP_CHOWN not raised: an ambient capability must be permitted and inheritable too"]);
    const step = buildPlan(o.spec, host, { fds: [-1, -1, -1], ctty: false }).find((s) => s.kind === "caps");
    expect(step).toMatchObject({ ambient: 1 << 5, what: "keep 2 capabilities permitted and effective, 1 ambient" });
  });

  test("hooks: the six kinds, with args, env and timeouts; the plan waits for them before the root's switch", () => {
    const c = base();
    const hooks = {
      prestart: [{ path: "/usr/bin/a", args: ["a", "1"], env: ["X=1"], timeout: 5 }],
      createRuntime: [{ path: "/usr/bin/b" }],
      createContainer: [{ path: "/usr/bin/e" }],
      startContainer: [{ path: "/usr/bin/f" }],
      poststart: [{ path: "/usr/bin/c" }],
      poststop: [{ path: "/usr/bin/d" }],
    };
    c.hooks = hooks;
    const o = read(c);
    expect(o.hooks).toEqual(hooks);
    const plan = buildPlan(o.spec, { ...host, hooks: true }, { fds: [-1, -1, -1], ctty: false });
    const wait = plan.findIndex((s) => s.kind === "sync" && s.point === Sync.HOOKS);
    expect(plan[wait + 1]!.kind).toBe("pivotRoot");
  });

  test("tmpcopyup where the root has nothing to copy: the tmpfs as it is", () => {
    const c = base();
    c.mounts.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["rw", "tmpcopyup", "size=1m"] });
    c.mounts.push({ destination: "/var/tmp", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] });
    const o = read(c);
    expect(o.spec.mounts.slice(-2).map((m) => m.options)).toEqual([["rw", "size=1m"], []]);
  });

  test("ioPriority, scheduler and personality: steps before the privileges drop", () => {
    const c = base();
    Object.assign(c.process, {
      ioPriority: { class: "IOPRIO_CLASS_BE", priority: 6 },
      scheduler: { policy: "SCHED_BATCH", nice: 5, flags: ["SCHED_FLAG_RESET_ON_FORK"] },
    });
    c.linux.personality = { domain: "LINUX32" };
    const plan = buildPlan(read(c).spec, host, { fds: [-1, -1, -1], ctty: false });
    const io = plan.find((s) => s.kind === "ioprio");
    expect(io).toMatchObject({ value: (2 << 13) | 6 });
    const sched = plan.find((s) => s.kind === "sched");
    const v = new DataView((sched as { attr: Uint8Array }).attr.buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), Number(v.getBigUint64(8, true)), v.getInt32(16, true)]).toEqual([48, 3, 1, 5]);
    expect(plan.find((s) => s.kind === "personality")).toMatchObject({ persona: 8 });
    const setid = plan.findIndex((s) => s.kind === "setid");
    for (const kind of ["ioprio", "sched", "personality"]) expect(plan.findIndex((s) => s.kind === kind)).toBeLessThan(setid);
  });

  test("utilization clamps: sched_attr's second version, the step naming them", () => {
    const c = base();
    const flags = ["SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"];
    Object.assign(c.process, { scheduler: { policy: "SCHED_OTHER", flags, utilMin: 128, utilMax: 512 } });
    const sched = buildPlan(read(c).spec, host, { fds: [-1, -1, -1], ctty: false }).find((s) => s.kind === "sched") as { attr: Uint8Array; what: string };
    const v = new DataView(sched.attr.buffer);
    expect([v.getUint32(0, true), Number(v.getBigUint64(8, true)), v.getUint32(48, true), v.getUint32(52, true)]).toEqual([56, 0x60, 128, 512]);
    expect(sched.what).toBe("set the scheduling policy to SCHED_OTHER with the utilization clamps of process.scheduler (utilMin 128, utilMax 512)");
    // a flag alone: the kernel's bounds, nothing clamped
    Object.assign(c.process, { scheduler: { policy: "SCHED_OTHER", flags: ["SCHED_FLAG_UTIL_CLAMP_MAX"] } });
    const alone = buildPlan(read(c).spec, host, { fds: [-1, -1, -1], ctty: false }).find((s) => s.kind === "sched") as { attr: Uint8Array };
    expect(alone.attr.subarray(48).toHex()).toBe("0000000000040000");
  });

  test("devices: their nodes; a fileMode with the type's bits, as podman gives it", () => {
    const c = base();
    c.linux.devices = [
      { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o20666, uid: 0, gid: 0 },
      { path: "/dev/loop9", type: "b", major: 7, minor: 9, fileMode: 0o660 },
    ];
    expect(read(c).spec.linux.devices).toEqual([
      { host: "/dev/fuse", container: "/dev/fuse", mode: 0o20666, major: 10, minor: 229 },
      { host: "/dev/loop9", container: "/dev/loop9", mode: 0o60660, major: 7, minor: 9 },
    ]);
  });

  test("resources beyond mycfs's limits: files by controller, with v1's and v2's names", () => {
    const c = base();
    c.linux.resources = {
      memory: { reservation: 1 << 20, swappiness: 10 },
      cpu: { mems: "0" },
      hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
      blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      unified: { "memory.high": "max", "cgroup.max.depth": "3" },
    };
    expect(read(c).cgroupFiles).toEqual([
      { controller: "memory", v1: "memory.soft_limit_in_bytes", v2: "memory.low", value: "1048576", field: "linux.resources.memory.reservation" },
      { controller: "memory", v1: "memory.swappiness", value: "10", field: "linux.resources.memory.swappiness" },
      { controller: "cpuset", v1: "cpuset.mems", v2: "cpuset.mems", value: "0", field: "linux.resources.cpu.mems" },
      {
        controller: "blkio",
        v1: "blkio.weight_device",
        v2: "io.weight",
        value: "8:0 300",
        v2Value: "8:0 300",
        field: "linux.resources.blockIO.weightDevice[0]",
      },
      {
        controller: "blkio",
        v1: "blkio.throttle.read_bps_device",
        v2: "io.max",
        value: "8:0 1048576",
        v2Value: "8:0 rbps=1048576",
        field: "linux.resources.blockIO.throttleReadBpsDevice[0]",
      },
      { controller: "hugetlb", v1: "hugetlb.2MB.limit_in_bytes", v2: "hugetlb.2MB.max", value: String(4 << 20), field: "linux.resources.hugepageLimits[0]" },
      { controller: "memory", v2: "memory.high", value: "max", field: "linux.resources.unified.memory.high" },
      { controller: "cgroup", v2: "cgroup.max.depth", value: "3", field: "linux.resources.unified.cgroup.max.depth" },
    ]);
  });

  test("the memory, cpu, rdma and network files; kernel memory ignored with a warning", () => {
    const c = base();
    c.linux.resources = {
      memory: { disableOOMKiller: true, useHierarchy: true, kernel: 1 << 20, kernelTCP: 1 << 20, checkBeforeUpdate: true },
      cpu: { quota: 50000, realtimePeriod: 1000000, realtimeRuntime: 5000, idle: 1, burst: 20000 },
      rdma: { mlx5_1: { hcaHandles: 3 }, "mlx4.0": { hcaHandles: 2, hcaObjects: 2000 } },
      network: { classID: 0x100001, priorities: [{ name: "eth0", priority: 5 }] },
    };
    const o = read(c);
    const at = (field: string) => o.cgroupFiles.find((f) => f.field === `linux.resources.${field}`);
    expect(o.cgroupFiles.map((f) => f.field.replace("linux.resources.", ""))).toEqual([
      "memory.disableOOMKiller",
      "memory.useHierarchy",
      "cpu.realtimePeriod",
      "cpu.realtimeRuntime",
      "cpu.idle",
      "cpu.burst",
      "rdma.mlx5_1",
      "rdma.mlx4.0",
      "network.classID",
      "network.priorities[0]",
    ]);
    expect(at("memory.disableOOMKiller")).toEqual({
      controller: "memory",
      v1: "memory.oom_control",
      value: "1",
      field: "linux.resources.memory.disableOOMKiller",
    });
    // always so on v2: nothing to write there
    expect(at("memory.useHierarchy")).toMatchObject({ v1: "memory.use_hierarchy", value: "1", v2Implied: true });
    expect(at("cpu.realtimePeriod")).toEqual({ controller: "cpu", v1: "cpu.rt_period_us", value: "1000000", field: "linux.resources.cpu.realtimePeriod" });
    expect(at("cpu.realtimeRuntime")).toMatchObject({ v1: "cpu.rt_runtime_us", value: "5000" });
    expect(at("cpu.idle")).toMatchObject({ v1: "cpu.idle", v2: "cpu.idle", value: "1" });
    expect(at("cpu.burst")).toMatchObject({ v1: "cpu.cfs_burst_us", v2: "cpu.max.burst", value: "20000" });
    expect(at("rdma.mlx5_1")).toMatchObject({ controller: "rdma", v1: "rdma.max", v2: "rdma.max", value: "mlx5_1 hca_handle=3 hca_object=max" });
    expect(at("rdma.mlx4.0")?.value).toBe("mlx4.0 hca_handle=2 hca_object=2000");
    // v1 only
    expect(at("network.classID")).toEqual({ controller: "net_cls", v1: "net_cls.classid", value: "1048577", field: "linux.resources.network.classID" });
    expect(at("network.priorities[0]")).toEqual({
      controller: "net_prio",
      v1: "net_prio.ifpriomap",
      value: "eth0 5",
      field: "linux.resources.network.priorities[0]",
    });
    expect(o.limits).toEqual({ cpus: 0.5 });
    expect(o.memoryCheckBeforeUpdate).toBe(true);
    expect(o.warnings).toEqual([
      "config.json: linux.resources.memory.kernel: ignored, as runc does: kernel memory limits are deprecated by the kernel",
      "config.json: linux.resources.memory.kernelTCP: ignored, as runc does: kernel memory limits are deprecated by the kernel",
    ]);
    // false: nothing asked of the kernel but use_hierarchy's own 0 (which v2 cannot be)
    c.linux.resources = { memory: { disableOOMKiller: false, useHierarchy: false } };
    expect(read(c).cgroupFiles).toEqual([{ controller: "memory", v1: "memory.use_hierarchy", value: "0", field: "linux.resources.memory.useHierarchy" }]);
  });

  test("device rules in order after the defaults, a type a rule starting afresh", () => {
    const c = base();
    const rules = (devices: unknown[]) => {
      c.linux.resources = { devices };
      return read(c).deviceRules;
    };
    // podman's shape: deny all, then allows; then a deny after an allow
    expect(
      rules([
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: -1, minor: -1, access: "rwm" },
        { allow: false, type: "c", major: 1, minor: 3, access: "w" },
      ]),
    ).toEqual([...DEFAULT_DEVICE_RULES, { type: "c", major: -1, minor: -1, access: "rwm" }, { type: "c", major: 1, minor: 3, access: "w", deny: true }]);
    // allow all, then take some away: the defaults are moot
    expect(
      rules([
        { allow: false, type: "c", major: 1, minor: 5 },
        { allow: true, access: "rwm" },
        { allow: false, type: "b", major: 8, minor: -1, access: "rw" },
      ]),
    ).toEqual([ALL_DEVICES, { type: "b", major: 8, minor: -1, access: "rw", deny: true }]);
    expect(rules([{ allow: true }])).toEqual([ALL_DEVICES]);
    // a deny-all later drops what came before it
    expect(rules([{ allow: true, type: "c", major: 1, minor: 11 }, { allow: false }])).toBe(DEFAULT_DEVICE_RULES);
  });

  test("fields the spec does not define are ignored, as it requires", () => {
    const c = base();
    (c as Record<string, unknown>).futureField = { x: 1 };
    (c.process as Record<string, unknown>).somethingNew = true;
    expect(read(c).spec.process.args).toEqual(["/bin/true"]);
  });

  const refused: [string, (c: Config) => void, RegExp][] = [
    ["apparmorProfile", (c) => Object.assign(c.process, { apparmorProfile: "docker-default" }), /^config\.json: process\.apparmorProfile: /],
    ["selinuxLabel", (c) => Object.assign(c.process, { selinuxLabel: "system_u:system_r:container_t:s0" }), /process\.selinuxLabel/],
    ["an ioPriority class", (c) => Object.assign(c.process, { ioPriority: { class: "IOPRIO_CLASS_NONE" } }), /process\.ioPriority\.class: "IOPRIO_CLASS_NONE"/],
    ["SCHED_ISO", (c) => Object.assign(c.process, { scheduler: { policy: "SCHED_ISO" } }), /process\.scheduler\.policy: "SCHED_ISO"/],
    [
      "a clamp without its flag",
      (c) => Object.assign(c.process, { scheduler: { policy: "SCHED_OTHER", utilMax: 512 } }),
      /process\.scheduler\.utilMax: needs SCHED_FLAG_UTIL_CLAMP_MAX in process\.scheduler\.flags/,
    ],
    [
      "a scheduler flag",
      (c) => Object.assign(c.process, { scheduler: { policy: "SCHED_OTHER", flags: ["SCHED_FLAG_KEEP_POLICY"] } }),
      /process\.scheduler\.flags\[0\]: SCHED_FLAG_KEEP_POLICY: not honoured/,
    ],
    ["a relative hook", (c) => (c.hooks = { poststop: [{ path: "true" }] }), /^config\.json: hooks\.poststop\[0\]\.path: "true" is not an absolute path/],
    ["intelRdt", (c) => (c.linux.intelRdt = { closID: "x" }), /linux\.intelRdt: not honoured/],
    ["personality flags", (c) => (c.linux.personality = { domain: "LINUX32", flags: ["ADDR_NO_RANDOMIZE"] }), /linux\.personality\.flags/],
    [
      "a hugepage size",
      (c) => (c.linux.resources = { hugepageLimits: [{ pageSize: "2M", limit: 1 }] }),
      /linux\.resources\.hugepageLimits\[0\]\.pageSize: "2M"/,
    ],
    [
      "a unified path",
      (c) => (c.linux.resources = { unified: { "../../memory.high": "1" } }),
      /linux\.resources\.unified\.\.\.\/\.\.\/memory\.high: not a cgroup v2 file's name/,
    ],
    ["rootfsPropagation", (c) => (c.linux.rootfsPropagation = "rmaster"), /linux\.rootfsPropagation: rmaster: expected private, slave, shared or unbindable/],
    [
      "idmap without a user namespace or mappings",
      (c) => c.mounts.push({ destination: "/x", type: "bind", source: "/srv", options: ["rbind", "idmap"] }),
      /mounts\[7\]\.options\[1\]: without uidMappings and gidMappings of its own, an id-mapped mount takes those of a new user namespace/,
    ],
    [
      "idmap on a tmpfs",
      (c) => c.mounts.push({ destination: "/x", type: "tmpfs", source: "tmpfs", options: ["idmap"] }),
      /mounts\[7\]\.options\[0\]: an id-mapped mount is a bind/,
    ],
    [
      "uid mappings without gid mappings",
      (c) =>
        c.mounts.push({ destination: "/x", type: "bind", source: "/srv", options: ["rbind"], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] } as never),
      /mounts\[7\]\.gidMappings: an id-mapped mount needs both/,
    ],
    [
      "a recursive option on cgroup",
      (c) => c.mounts.push({ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["rro"] }),
      /mounts\[7\]\.options\[0\]: rro: not an option of a cgroup mount/,
    ],
    [
      "crun's own options",
      (c) => c.mounts.push({ destination: "/x", type: "bind", source: "/srv", options: ["rbind", "copy-symlink"] }),
      /mounts\[7\]\.options\[1\]: copy-symlink: not honoured/,
    ],
    [
      "tmpcopyup over files",
      (c) => c.mounts.push({ destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] }),
      /mounts\[7\]\.options\[0\]: tmpcopyup: the root's \/etc is not empty/,
    ],
    [
      "tmpcopyup through a symlink",
      (c) => c.mounts.push({ destination: "/lnk", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] }),
      /tmpcopyup: the root's \/lnk is no plain directory/,
    ],
    ["mount type", (c) => c.mounts.push({ destination: "/x", type: "nfs", source: "srv:/x" }), /mounts\[7\]\.type: "nfs"/],
    ["a bind on /proc", (c) => c.mounts.push({ destination: "/proc/sys", type: "bind", source: "/srv", options: ["rbind"] }), /CVE-2019-19921/],
    [
      "a missing source",
      (c) => c.mounts.push({ destination: "/x", type: "bind", source: "/missing", options: ["rbind"] }),
      /mounts\[7\]\.source: \/missing does not exist/,
    ],
    [
      "mount namespace path",
      (c) => (c.linux.namespaces = [{ type: "mount", path: "/proc/1/ns/mnt" }]),
      /linux\.namespaces\[0\]\.path: joining a mount namespace is not honoured/,
    ],
    [
      "a path beside a new user namespace",
      (c) => (c.linux.namespaces = [{ type: "mount" }, { type: "user" }, { type: "network", path: "/run/netns/n" }]),
      /linux\.namespaces\[2\]\.path: joining a namespace together with a new user namespace/,
    ],
    [
      "a relative namespace path",
      (c) => (c.linux.namespaces = [{ type: "mount" }, { type: "ipc", path: "ns/ipc" }]),
      /linux\.namespaces\[1\]\.path: "ns\/ipc"/,
    ],
    [
      "time offsets without a time namespace",
      (c) => (c.linux.timeOffsets = { boottime: { secs: 1 } }),
      /^config\.json: linux\.timeOffsets: needs a new time namespace/,
    ],
    [
      "time offsets of a joined time namespace",
      (c) => {
        (c.linux.namespaces as unknown[]).push({ type: "time", path: "/proc/1/ns/time" });
        c.linux.timeOffsets = { boottime: { secs: 1 } };
      },
      /linux\.timeOffsets: a time namespace joined by path keeps its own offsets/,
    ],
    [
      "an offset of the realtime clock",
      (c) => {
        (c.linux.namespaces as unknown[]).push({ type: "time" });
        c.linux.timeOffsets = { realtime: { secs: 1 } };
      },
      /linux\.timeOffsets\.realtime: unknown clock/,
    ],
    [
      "nanoseconds past a second",
      (c) => {
        (c.linux.namespaces as unknown[]).push({ type: "time" });
        c.linux.timeOffsets = { monotonic: { secs: 1, nanosecs: 1e9 } };
      },
      /linux\.timeOffsets\.monotonic\.nanosecs: expected an integer from 0 to 999999999/,
    ],
    ["no mount namespace", (c) => (c.linux.namespaces = [{ type: "pid" }]), /linux\.namespaces: mycfs needs a mount namespace/],
    ["hostname without uts", (c) => (c.linux.namespaces = [{ type: "mount" }]), /^config\.json: hostname: needs a uts namespace/],
    [
      "effective apart",
      (c) => (c.process.capabilities = { bounding: ["CAP_KILL"], effective: [], permitted: ["CAP_KILL"] }),
      /capabilities\.effective: differs/,
    ],
    ["unknown capability", (c) => (c.process.capabilities.bounding = ["CAP_FLY"]), /capabilities\.bounding\[0\]: "CAP_FLY"/],
    ["a host-wide sysctl", (c) => (c.linux.sysctl = { "vm.swappiness": "10" }), /linux\.sysctl\.vm\.swappiness: not a namespaced parameter/],
    [
      "net sysctl on the host's network",
      (c) => {
        c.linux.sysctl = { "net.core.somaxconn": "1" };
        c.linux.namespaces = [{ type: "mount" }, { type: "uts" }];
      },
      /needs a network namespace/,
    ],
    [
      "an RDMA device's name",
      (c) => (c.linux.resources = { rdma: { "mlx 0": { hcaHandles: 1 } } }),
      /linux\.resources\.rdma\.mlx 0: not an RDMA device's name/,
    ],
    [
      "an interface's name",
      (c) => (c.linux.resources = { network: { priorities: [{ name: "eth0 1\nlo", priority: 1 }] } }),
      /linux\.resources\.network\.priorities\[0\]\.name: /,
    ],
    ["cpu.idle beyond 1", (c) => (c.linux.resources = { cpu: { idle: 2 } }), /linux\.resources\.cpu\.idle: expected an integer from 0 to 1/],
    ["a relative cwd", (c) => (c.process.cwd = "tmp"), /process\.cwd: "tmp" is not an absolute path/],
    ["no args", (c) => (c.process.args = []), /process\.args: missing/],
    ["version 2", (c) => (c.ociVersion = "2.0.0"), /ociVersion: "2.0.0"/],
    [
      "seccomp notify without a listener",
      (c) => (c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] }),
      /^config\.json: linux\.seccomp\.syscalls\[0\]\.action: SCMP_ACT_NOTIFY needs linux\.seccomp\.listenerPath/,
    ],
    [
      "seccomp notify by default without a listener",
      (c) => (c.linux.seccomp = { defaultAction: "SCMP_ACT_NOTIFY" }),
      /linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY needs/,
    ],
    [
      "seccomp notify of sendmsg",
      (c) =>
        (c.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          listenerPath: "/run/l.sock",
          syscalls: [{ names: ["sendmsg", "mkdir"], action: "SCMP_ACT_NOTIFY" }],
        }),
      /linux\.seccomp\.syscalls\[0\]\.action: sendmsg must not be SCMP_ACT_NOTIFY/,
    ],
    [
      "seccomp notify of everything, sendmsg included",
      (c) => (c.linux.seccomp = { defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/run/l.sock" }),
      /linux\.seccomp\.defaultAction: sendmsg must not be SCMP_ACT_NOTIFY/,
    ],
    [
      "seccomp metadata without a listener",
      (c) => (c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerMetadata: "x" }),
      /linux\.seccomp\.listenerMetadata: needs listenerPath/,
    ],
    [
      "a seccomp flag the kernel refuses",
      (c) => (c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }),
      /^config\.json: linux\.seccomp\.flags\[1\]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: this kernel's seccomp\(2\) refuses it \(Invalid argument\); it needs SCMP_ACT_NOTIFY's listener$/,
    ],
    [
      "an unknown seccomp flag",
      (c) => (c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_FLY"] }),
      /linux\.seccomp\.flags\[0\]: "SECCOMP_FILTER_FLAG_FLY": unknown flag/,
    ],
    ["a new user namespace without maps", (c) => (c.linux.namespaces as unknown[]).push({ type: "user" }), /linux\.uidMappings: a user namespace needs/],
    ["a device owned by a user", (c) => (c.linux.devices = [{ path: "/dev/fuse", type: "c", major: 10, minor: 229, uid: 1000 }]), /linux\.devices\[0\]\.uid/],
  ];
  for (const [name, change, message] of refused)
    test(`refused, naming the field: ${name}`, () => {
      const c = base();
      change(c);
      expect(refusal(c)).toMatch(message);
    });

  test("namespaces joined by path, every type but mount; a joined user namespace's maps are its own", () => {
    const c = base();
    const types = ["user", "pid", "network", "ipc", "uts", "cgroup", "time"] as const;
    c.linux.namespaces = [{ type: "mount" }, ...types.map((type) => ({ type, path: `/proc/7/ns/${type}` }))];
    c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    const r = read(c);
    expect(r.spec.linux.namespaces.slice(1)).toEqual(types.map((type) => ({ type, path: `/proc/7/ns/${type}` })));
    expect(r.spec.linux.uidMappings).toEqual([]);
    expect(r.userns).toBeUndefined();
    expect(r.warnings).toEqual(["config.json: linux.uidMappings, linux.gidMappings: ignored; the user namespace joined at /proc/7/ns/user has its own"]);
  });

  test("a new time namespace with its offsets", () => {
    const c = base();
    (c.linux.namespaces as unknown[]).push({ type: "time" });
    c.linux.timeOffsets = { boottime: { secs: 86400, nanosecs: 5 }, monotonic: { secs: -10 } };
    expect(read(c).spec.linux.timeOffsets).toEqual({ boottime: { secs: 86400, nanosecs: 5 }, monotonic: { secs: -10, nanosecs: 0 } });
    c.linux.timeOffsets = {};
    expect(read(c).spec.linux.timeOffsets).toBeUndefined();
  });

  test("not JSON at all", () => {
    expect(() => readConfig("{", "/b", lookups)).toThrow(/^config\.json: not valid JSON/);
  });
});

describe("seccomp in OCI's format", () => {
  test("becomes a profile the compiler takes", () => {
    const p = readSeccomp({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [
        { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] },
        { names: ["clone"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args: [{ index: 0, value: 2114060288, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
      ],
    });
    expect(p).toEqual({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [
        { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8n, valueTwo: undefined, op: "SCMP_CMP_EQ" }] },
        { names: ["clone"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args: [{ index: 0, value: 2114060288n, valueTwo: 0n, op: "SCMP_CMP_MASKED_EQ" }] },
      ],
    });
  });

  test("the real compiler takes it", async () => {
    const { compileProfile } = await import("../src/seccomp/compile");
    const bpf = compileProfile(readSeccomp({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO" }] }), {
      arch: "x86_64",
      caps: new Set(),
    });
    expect(bpf.byteLength % 8).toBe(0);
    expect(bpf.byteLength).toBeGreaterThan(8);
  });
});

describe("seccomp's flags and listener", () => {
  const withSeccomp = (seccomp: Record<string, unknown>) => {
    const c = base();
    c.linux.seccomp = seccomp as Config["linux"]["seccomp"];
    return read(c);
  };
  const notify = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }] };

  test("the flags go to seccomp(2); TSYNC is taken and not passed, the child being one thread", () => {
    const o = withSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
      listenerPath: "/run/unused.sock", // no action notifies: ignored, as the spec says
    });
    expect(o.spec.linux.seccompFlags).toBe(SECCOMP_FILTER_FLAG.LOG | SECCOMP_FILTER_FLAG.SPEC_ALLOW);
    expect(o.seccompListener).toBeUndefined();
    const plan = buildPlan(o.spec, host, { fds: [-1, -1, -1], ctty: false });
    const step = plan.find((s) => s.kind === "seccomp");
    expect(step).toMatchObject({ kind: "seccomp", flags: SECCOMP_FILTER_FLAG.LOG | SECCOMP_FILTER_FLAG.SPEC_ALLOW });
    expect(step).not.toHaveProperty("point");
    expect(step!.what).toMatch(/with SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW$/);
    // no listener: create still waits for start before the privileges drop
    expect(plan.findIndex((s) => s.kind === "await")).toBeLessThan(plan.indexOf(step!));
  });

  test("without flags, the filter is as before", () => {
    const o = withSeccomp({ defaultAction: "SCMP_ACT_ALLOW" });
    expect(o.spec.linux.seccompFlags).toBeUndefined();
    expect(buildPlan(o.spec, host, { fds: [-1, -1, -1], ctty: false }).find((s) => s.kind === "seccomp")).toMatchObject({ flags: 0 });
  });

  test("SCMP_ACT_NOTIFY: a new listener whose fd mycfs hands to listenerPath, with the metadata", () => {
    const o = withSeccomp({ ...notify, listenerPath: "/run/agent.sock", listenerMetadata: "MKDIR=fake", flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] });
    expect(o.seccompListener).toEqual({ path: "/run/agent.sock", metadata: "MKDIR=fake" });
    expect(o.spec.linux.seccompFlags).toBe(SECCOMP_FILTER_FLAG.NEW_LISTENER | SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV);
    expect(withSeccomp({ ...notify, listenerPath: "/run/agent.sock" }).seccompListener).toEqual({ path: "/run/agent.sock" });
  });

  test("with a listener, the filter goes in before create returns: the privileges, the filter and its sync point, then the wait for start", () => {
    const o = withSeccomp({ ...notify, listenerPath: "/run/agent.sock" });
    const plan = buildPlan(o.spec, host, { fds: [-1, -1, -1], ctty: false });
    const kinds = plan.map((s) => s.kind);
    const filter = kinds.indexOf("seccomp");
    expect(plan[filter]).toMatchObject({ flags: SECCOMP_FILTER_FLAG.NEW_LISTENER, point: Sync.SECCOMP });
    expect(plan[filter]!.what).toMatch(/hand its notification fd to mycfs/);
    expect(kinds.slice(kinds.indexOf("bounding"))).toEqual(["bounding", "setid", "caps", "seccomp", "await", "exec"]);
    // mycfs's own containers (no await) keep the filter last before exec
    const { awaitStart: _, ...running } = host;
    expect(
      buildPlan(o.spec, running, { fds: [-1, -1, -1], ctty: false })
        .map((s) => s.kind)
        .slice(-2),
    ).toEqual(["seccomp", "exec"]);
  });

  test("features lists SCMP_ACT_NOTIFY and the flags", () => {
    const f = features();
    expect(f.linux.seccomp.actions).toContain("SCMP_ACT_NOTIFY");
    expect(f.linux.seccomp.knownFlags).toEqual([
      "SECCOMP_FILTER_FLAG_TSYNC",
      "SECCOMP_FILTER_FLAG_LOG",
      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]);
  });
});

describe("the plan of a config.json", () => {
  const c = base();
  Object.assign(c.process, { user: { uid: 0, gid: 0, umask: 0o22 }, oomScoreAdj: -5 });
  c.linux.sysctl = { "kernel.shmmax": "65536" };
  const o = read(c);
  const plan = buildPlan(o.spec, host, { fds: [-1, -1, -1], ctty: false });
  const whats = plan.map((s) => s.what);
  const at = (re: RegExp) => whats.findIndex((w) => re.test(w));

  test("its mounts in its order, then the device nodes, no mount of mycfs's own", () => {
    const mounts = plan.filter((s) => s.kind === "mount" && s.fstype).map((s) => (s.kind === "mount" ? `${s.fstype} ${s.target}` : ""));
    expect(mounts.slice(0, 6)).toEqual(["proc /proc", "tmpfs /dev", "devpts /dev/pts", "tmpfs /dev/shm", "mqueue /dev/mqueue", "sysfs /sys"]);
    expect(whats).not.toContain("mount a tmpfs on /tmp");
    expect(at(/create device \/dev\/null/)).toBeGreaterThan(at(/devpts/));
    expect(at(/bind \/sys\/fs\/cgroup\/mycfs-oci-x on \/sys\/fs\/cgroup/)).toBeGreaterThan(0);
  });

  test("the sysctl is written before /proc/sys becomes read-only", () => {
    expect(at(/kernel parameter kernel\.shmmax/)).toBeGreaterThan(at(/mount a \/proc/));
    expect(at(/kernel parameter kernel\.shmmax/)).toBeLessThan(at(/make \/proc\/sys read-only/));
  });

  test("it waits for start after its limits, before the privileges drop", () => {
    const wait = plan.findIndex((s) => s.kind === "await");
    expect(plan[wait]).toMatchObject({ kind: "await", fd: 9, keepFds: 2 });
    expect(wait).toBeGreaterThan(at(/OOM score adjustment to -5/));
    expect(wait).toBeGreaterThan(at(/umask to 0022/));
    expect(wait).toBeLessThan(plan.findIndex((s) => s.kind === "setid"));
    expect(plan.at(-1)!.kind).toBe("exec");
  });

  test("rootfsPropagation: slave before the mounts; shared and unbindable on the root once it is the root", () => {
    const planOf = (p: string) => {
      const c2 = base();
      c2.linux.rootfsPropagation = p;
      const o2 = read(c2);
      return { spec: o2.spec, plan: buildPlan(o2.spec, host, { fds: [-1, -1, -1], ctty: false }) };
    };
    expect(planOf("slave").spec.linux.rootfsPropagation).toBe("rslave");
    expect(planOf("private").spec.linux.rootfsPropagation).toBeUndefined();
    for (const [p, flags] of [
      ["shared", MS.SHARED],
      ["rshared", MS.SHARED | MS.REC],
      ["unbindable", MS.UNBINDABLE],
      ["runbindable", MS.UNBINDABLE | MS.REC],
    ] as const) {
      const { spec, plan } = planOf(p);
      expect(spec.linux.rootfsPropagation).toBe(p);
      // private up to pivot_root, which refuses a shared root
      expect(plan.find((s) => s.kind === "mount" && s.target === "/")).toMatchObject({ flags: MS.REC | MS.PRIVATE });
      const pivot = plan.findIndex((s) => s.kind === "pivotRoot");
      expect(plan[pivot + 1]).toMatchObject({ kind: "mount", target: "/", flags });
      expect(plan[pivot + 1]).not.toHaveProperty("inRoot");
    }
    expect(planOf("rslave").plan.filter((s) => s.kind === "mount" && s.target === "/" && !s.inRoot)).toHaveLength(1);
  });

  test("recursive options and id-mapped binds: read into the spec's mount, the tree attached in the plan", () => {
    const c2 = base();
    const map = [{ containerID: 1000, hostID: 2000, size: 10 }];
    c2.mounts.push({ destination: "/a", type: "bind", source: "/srv/a", options: ["rbind", "rro", "rnosymfollow", "nosymfollow"] });
    c2.mounts.push({ destination: "/b", type: "bind", source: "/srv/b", options: ["rbind", "ridmap"], uidMappings: map, gidMappings: map } as never);
    c2.mounts.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["rnoexec", "size=1m"] });
    const o2 = read(c2);
    const [a, b, t] = o2.spec.mounts.slice(-3);
    expect(a).toEqual({ destination: "/a", type: "bind", source: "/srv/a", options: ["rbind", "rro", "rnosymfollow", "nosymfollow"] });
    expect(b).toEqual({
      destination: "/b",
      type: "bind",
      source: "/srv/b",
      options: ["rbind"],
      idmap: { uidMappings: map, gidMappings: map, recursive: true },
    });
    expect(t!.options).toEqual(["rnoexec", "size=1m"]);
    const p2 = buildPlan(o2.spec, { ...host, mountTrees: new Map([[b!, 11]]) }, { fds: [-1, -1, -1], ctty: false });
    expect(p2.find((s) => s.kind === "setattr" && s.target === "/a")).toMatchObject({ set: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSYMFOLLOW, clear: 0 });
    expect(p2.find((s) => s.kind === "mount" && s.target === "/a" && s.flags! & MS.REMOUNT)).toMatchObject({ flags: MS.BIND | MS.REMOUNT | MS.NOSYMFOLLOW });
    expect(p2.find((s) => s.kind === "attachTree")).toMatchObject({ fd: 11, target: "/b" });
    expect(p2.some((s) => s.kind === "mount" && s.source === "/srv/b")).toBe(false);
    expect(p2.find((s) => s.kind === "setattr" && s.target === "/t")).toMatchObject({ set: MOUNT_ATTR.NOEXEC });
  });

  test("idmap alone takes the user namespace's mappings", () => {
    const c2 = base();
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    Object.assign(c2.linux, { namespaces: [...(c2.linux.namespaces as object[]), { type: "user" }], uidMappings: map, gidMappings: map });
    c2.mounts.push({ destination: "/b", type: "bind", source: "/srv/b", options: ["rbind", "idmap"] });
    expect(read(c2).spec.mounts.at(-1)!.idmap).toEqual({ uidMappings: map, gidMappings: map, recursive: false });
  });

  test("only the spec's namespaces are unshared", () => {
    const c2 = base();
    c2.linux.namespaces = [{ type: "mount" }, { type: "pid" }];
    c2.hostname = "";
    const p2 = buildPlan(read(c2).spec, host, { fds: [-1, -1, -1], ctty: false });
    const unshare = p2.find((s) => s.kind === "unshare");
    expect(unshare).toMatchObject({ flags: CLONE.NEWNS, what: "enter new mount namespaces" });
    expect(p2.some((s) => s.kind === "hostname")).toBe(false);
    expect(p2.some((s) => s.kind === "sync" && s.point === Sync.NETWORK)).toBe(false);
  });
});

describe("mount options", () => {
  test("flags, propagation and data apart", () => {
    expect(mountOptions(["rbind", "ro", "nosuid", "rslave", "mode=755"])).toEqual({
      flags: MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID,
      propagation: [MS.SLAVE | MS.REC],
      data: "mode=755",
      recursive: { set: 0, clear: 0, names: [] },
    });
    expect(mountOptions(["ro", "rw", "exec", "noexec", "exec"]).flags).toBe(0);
    expect(mountOptions(["nosymfollow"]).flags).toBe(MS.NOSYMFOLLOW);
  });

  test("recursive options as mount_setattr's: the last wins; an atime mode clears the whole atime field", () => {
    const rec = (o: string[]) => mountOptions(o).recursive;
    expect(rec(["rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow"])).toMatchObject({
      set: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC | MOUNT_ATTR.NOSYMFOLLOW,
      clear: 0,
    });
    expect(rec(["rro", "rrw", "rsuid"])).toMatchObject({ set: 0, clear: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID });
    expect(rec(["rnoatime"])).toMatchObject({ set: MOUNT_ATTR.NOATIME, clear: MOUNT_ATTR._ATIME });
    expect(rec(["rnoatime", "rstrictatime"])).toMatchObject({ set: MOUNT_ATTR.STRICTATIME, clear: MOUNT_ATTR._ATIME });
    expect(rec(["rnoatime", "ratime"])).toMatchObject({ set: MOUNT_ATTR.RELATIME, clear: MOUNT_ATTR._ATIME });
    expect(rec(["rnorelatime", "rnodiratime"])).toMatchObject({ set: MOUNT_ATTR.STRICTATIME | MOUNT_ATTR.NODIRATIME, clear: MOUNT_ATTR._ATIME });
  });

  test("a bind with recursive options: bound, remounted, its attributes set on every mount below, then its propagation", () => {
    const steps = userMounts([{ destination: "/d", type: "bind", source: "/s", options: ["rbind", "ro", "rro", "rnoexec", "rprivate"] }]);
    expect(steps.map((s) => s.kind)).toEqual(["mount", "mount", "setattr", "mount"]);
    expect(steps[2]).toMatchObject({
      target: "/d",
      set: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOEXEC,
      clear: 0,
      what: "make /d and every mount below it rro,rnoexec",
    });
    const [tmpfs, attrs] = userMounts([{ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["rnosuid", "size=1m"] }]);
    expect(tmpfs).toMatchObject({ fstype: "tmpfs", data: "size=1m" });
    expect(attrs).toMatchObject({ kind: "setattr", set: MOUNT_ATTR.NOSUID });
  });

  test("an id-mapped bind: the tree mycfs made is attached instead of a bind", () => {
    const m = {
      destination: "/d",
      type: "bind" as const,
      source: "/s",
      options: ["rbind", "ro"],
      idmap: { uidMappings: [], gidMappings: [], recursive: false },
    };
    const steps = userMounts([m], new Map([[m, 7]]));
    expect(steps[0]).toMatchObject({ kind: "attachTree", fd: 7, target: "/d" });
    expect(steps[1]).toMatchObject({ kind: "mount", flags: MS.BIND | MS.REMOUNT | MS.RDONLY });
    expect(() => userMounts([m])).toThrow(/id-mapped mount of \/s was not made/);
  });

  test("a bind with nosuid is remounted with it, then its propagation set", () => {
    const steps = userMounts([{ destination: "/d", type: "bind", source: "/s", options: ["rbind", "nosuid", "ro", "private"] }]);
    expect(steps.map((s) => (s.kind === "mount" ? s.flags : 0))).toEqual([MS.BIND | MS.REC, MS.BIND | MS.REMOUNT | MS.NOSUID | MS.RDONLY, MS.PRIVATE]);
  });

  test("a devpts of its own, always", () => {
    const [devpts] = userMounts([{ destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "mode=0620"] }]);
    expect(devpts).toMatchObject({ fstype: "devpts", flags: MS.NOSUID, data: "newinstance,mode=0620" });
  });
});

describe("runc's names", () => {
  test("cgroupsPath below the caller's cgroup; systemd's form as its path", () => {
    expect(cgroupPath(undefined, "abc")).toBe("mycfs-oci-abc");
    expect(cgroupPath("/libpod_parent/libpod-abc", "abc")).toBe("libpod_parent/libpod-abc");
    expect(cgroupPath("machine.slice:libpod:abc", "abc")).toBe("machine.slice/libpod-abc.scope");
    expect(() => cgroupPath("/a/../../b", "abc")).toThrow(/linux\.cgroupsPath/);
  });

  test("signals by number or name", () => {
    expect(signalOf("9")).toBe(9);
    expect(signalOf("SIGKILL")).toBe(9);
    expect(signalOf("term")).toBe(15);
    expect(() => signalOf("SIGNOPE")).toThrow(/unknown signal/);
  });

  test("features names what mycfs honours", () => {
    const f = features();
    expect(f.ociVersionMax).toBe("1.1.0");
    expect(f.linux.namespaces).toContain("user");
    expect(f.linux.namespaces).toContain("time");
    expect(f.linux.capabilities).toContain("CAP_SYS_ADMIN");
    expect(f.mountOptions).toContain("rslave");
  });
});

describe("which front end a command line is for", () => {
  test("runc's global options and its own commands; kill, exec and ps when the id is an OCI container's; run with --bundle", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
    const { isOciCommandLine } = await import("../src/cli/oci-select");
    const root = mkdtempSync("/tmp/mycfs-test-select-");
    mkdirSync(`${root}/abc`);
    writeFileSync(`${root}/abc/state.json`, "{}");
    const before = process.env.MYCFS_OCI_ROOT;
    process.env.MYCFS_OCI_ROOT = root;
    try {
      const oci = (argv: string) => isOciCommandLine(argv.split(" "));
      expect(oci("--root /x list")).toBe(true);
      expect(oci("--log=/l --log-format json create --bundle . c")).toBe(true);
      expect(oci("state abc")).toBe(true);
      expect(oci("delete --force abc")).toBe(true);
      expect(oci("kill abc 15")).toBe(true);
      expect(oci("kill --all abc KILL")).toBe(true);
      expect(oci("exec --pid-file /p --process /f --detach abc")).toBe(true);
      expect(oci("ps -f json abc")).toBe(true);
      expect(oci("run --bundle /b c")).toBe(true);
      // mycfs's own
      expect(oci("run busybox true")).toBe(false);
      expect(oci("run --rootfs /r sh")).toBe(false);
      expect(oci("kill web")).toBe(false);
      expect(oci("kill -s KILL web")).toBe(false);
      expect(oci("exec -it web sh")).toBe(false);
      expect(oci("ps -a")).toBe(false);
      expect(oci("rm abc")).toBe(false);
      expect(oci("--help")).toBe(false);
    } finally {
      if (before === undefined) delete process.env.MYCFS_OCI_ROOT;
      else process.env.MYCFS_OCI_ROOT = before;
      rmSync(root, { recursive: true, force: true });
    }
  });
});
