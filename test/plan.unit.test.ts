// The plan is data: its order and contents are tested without root, and its encoding is
// checked by decoding it with the C side itself (through bun:ffi).
import { describe, expect, test } from "bun:test";
import { buildPlan, clonesNetwork, type HostFacts, namespaceSetup } from "../src/container/plan";
import { type ContainerSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, type IdMapping, type Namespace } from "../src/spec/spec";
import { specFromFlags } from "../src/spec/from-flags";
import { decodePlan } from "../src/native/lib";
import { OpCode, OpFlag, Sync } from "../src/native/protocol";
import { encodePlan, wire } from "../src/plan/encode";
import { isStep, MOUNT_ATTR, MS, mount, PR, root, type Step, type StepOf, write } from "../src/plan/ops";
import { describePlan } from "../src/plan/describe";
import { processCaps } from "../src/container/caps";
import { CLONE, clonedNamespaces } from "../src/container/namespaces";
import { cgroupBinds } from "../src/cgroups/cgroup";
import { parseLayout } from "../src/cgroups/layout";
import { parseTmpfs } from "../src/container/options";
import { rootWithoutParent } from "../src/container/initramfs";

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  process: {
    args: ["/bin/echo", "héllo", ""],
    env: ["PATH=/bin:/usr/bin", "HOME=/root"],
    cwd: "/",
    user: { uid: 0, gid: 0, additionalGids: [0, 10], home: "/root" },
    capabilities: { bounding: ["CHOWN", "KILL"], permitted: ["CHOWN", "KILL"], inheritable: [] },
    rlimits: [{ name: "nofile", resource: 7, soft: 1024, hard: -1 }],
    noNewPrivileges: true,
  },
  root: { readonly: false },
  hostname: "box",
  mounts: [],
  linux: {
    namespaces: (["pid", "network", "ipc", "uts", "mount", "cgroup"] as const).map((type) => ({ type })),
    uidMappings: [],
    gidMappings: [],
    devices: [],
    seccomp: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
    maskedPaths: DEFAULT_MASKED_PATHS,
    readonlyPaths: DEFAULT_READONLY_PATHS,
  },
  mycfs: { init: false, pivot: true },
  ...over,
});
const host = (over: Partial<HostFacts> = {}): HostFacts => ({
  rootfs: {
    path: "/store/c/rootfs",
    ops: [mount({ source: "overlay", target: "/store/c/rootfs", fstype: "overlay", what: "overlay" }), root("/store/c/rootfs")],
  },
  cgroups: { join: [], binds: [{ source: "/sys/fs/cgroup/user/mycfs-1", target: "/sys/fs/cgroup" }], v2Only: true },
  rootWithoutParent: false,
  dropGroups: true,
  ...over,
});
const linux = (over: Partial<ContainerSpec["linux"]>) => spec({ linux: { ...spec().linux, ...over } });
const process_ = (over: Partial<ContainerSpec["process"]>) => spec({ process: { ...spec().process, ...over } });
/** A user namespace with these maps. */
const inUserns = (uids: IdMapping[], gids: IdMapping[] = uids) =>
  linux({ namespaces: [...spec().linux.namespaces, { type: "user" }], uidMappings: uids, gidMappings: gids });
const range = (containerID: number, hostID: number, size: number): IdMapping => ({ containerID, hostID, size });
const io = { fds: [-1, -1, -1] as [number, number, number], ctty: false };
const kinds = (plan: Step[]) => plan.map((s) => s.kind);
const mounts = (plan: Step[]) => plan.filter((s) => isStep(s, "mount"));
const targets = (plan: Step[]) => mounts(plan).map((s) => s.target);

describe("buildPlan", () => {
  const plan = buildPlan(spec(), host(), io);

  test("non-dumpable first (no sync point without a user namespace), its own namespaces, private mounts, the root", () => {
    expect(kinds(plan).slice(0, 8)).toEqual(["prctl", "unshare", "hostname", "loopback", "unshare", "mount", "mount", "root"]);
    expect(kinds(plan)).not.toContain("sync");
    expect(plan[0]).toMatchObject({ kind: "prctl", option: PR.SET_DUMPABLE, arg: 0 });
    expect(plan[1]).toMatchObject({ kind: "unshare", flags: CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET });
    expect(plan[4]).toMatchObject({ kind: "unshare", flags: CLONE.NEWCGROUP });
    expect(plan[5]).toMatchObject({ kind: "mount", target: "/", flags: MS.REC | MS.PRIVATE });
    const unshares = (p: Step[]) => p.flatMap((s) => (isStep(s, "unshare") ? [s.flags] : []));
    expect(unshares(buildPlan(linux({ namespaces: spec().linux.namespaces.filter((n) => n.type !== "cgroup") }), host(), io))).toEqual(
      unshares(plan).slice(0, 1),
    );
  });

  test("the child waits for what mycfs makes meanwhile only at the first step that needs it, then joins its cgroup", () => {
    const join = [write("/sys/fs/cgroup/pids/mycfs-1/tasks", "0", "join")];
    const at = (p: Step[]) => p.findIndex((s) => isStep(s, "sync") && s.point === Sync.PREPARED);
    const overlay = (p: Step[]) => p.findIndex((s) => isStep(s, "mount") && s.fstype === "overlay");
    const layers = buildPlan(spec(), host({ prepared: "rootfs", cgroups: { ...host().cgroups, join } }), io);
    expect(layers[at(layers) + 1]!.what).toBe("join");
    expect(at(layers)).toBeLessThan(overlay(layers));
    const cgroup = buildPlan(spec(), host({ prepared: "cgroup", cgroups: { ...host().cgroups, join } }), io);
    expect(cgroup[at(cgroup) - 1]).toMatchObject({ kind: "mount", target: "/proc/sysrq-trigger" }); // the last mask
    expect(cgroup[at(cgroup) + 1]!.what).toBe("join");
    expect(targets(cgroup.slice(at(cgroup)))[0]).toBe("/sys/fs/cgroup");
    // in a user namespace, before the child becomes its root
    const userns = buildPlan(inUserns([range(0, 100000, 65536)]), host({ prepared: "cgroup", cgroups: { ...host().cgroups, join } }), io);
    expect(at(userns)).toBeLessThan(kinds(userns).indexOf("setid"));
  });

  test("the bridge network: the namespace made before mycfs gives it eth0; the child waits for eth0 after its mounts", () => {
    const at = (p: Step[]) => p.findIndex((s) => isStep(s, "sync") && s.point === Sync.NETWORK);
    const newnet = (p: Step[]) => (p.find((s) => isStep(s, "unshare")) as StepOf<"unshare">).flags & CLONE.NEWNET;
    const none = buildPlan(spec(), host(), io);
    expect(at(none)).toBe(-1);
    expect(newnet(none)).toBe(CLONE.NEWNET);
    // mycfs gives eth0 to the namespace the clone made, while the child makes its mounts
    const bridged = buildPlan(spec(), host({ attach: "bridge" }), io);
    expect(newnet(bridged)).toBe(0);
    expect(kinds(bridged)).toContain("loopback");
    expect(kinds(bridged).slice(at(bridged) - 2, at(bridged) + 2)).toEqual(["pivotRoot", "chdir", "sync", "stdio"]);
    expect(clonesNetwork({ attach: "bridge" })).toBe(true);
    // after Sync.PREPARED the child has made it itself, in parallel with mycfs's work
    const prepared = buildPlan(spec(), host({ attach: "bridge", prepared: "rootfs" }), io);
    expect(newnet(prepared)).toBe(CLONE.NEWNET);
    expect(clonesNetwork({ attach: "bridge", prepared: "rootfs" })).toBe(false);
    expect(kinds(prepared).indexOf("unshare")).toBeLessThan(prepared.findIndex((s) => isStep(s, "sync") && s.point === Sync.PREPARED));
    expect(clonedNamespaces(false, true) & CLONE.NEWNET).toBe(CLONE.NEWNET);
    expect(clonedNamespaces(false, false) & CLONE.NEWNET).toBe(0);
  });

  test("pasta and slirp4netns: the child stays dumpable until they have joined its namespaces, no longer", () => {
    const at = (p: Step[]) => p.findIndex((s) => isStep(s, "sync") && s.point === Sync.NETWORK);
    for (const attach of ["pasta", "slirp4netns"] as const) {
      const p = buildPlan(inUserns([range(0, 100000, 65536)]), host({ attach }), io);
      expect(kinds(p).slice(at(p) - 3, at(p) + 2)).toEqual(["unshare", "hostname", "loopback", "sync", "prctl"]);
      expect(p[at(p) + 1]).toMatchObject({ kind: "prctl", option: PR.SET_DUMPABLE, arg: 0 });
      expect(at(p)).toBeLessThan(kinds(p).indexOf("mount"));
    }
  });

  test("mounts happen below the root, before it is switched; limits, privileges, seccomp, exec last", () => {
    const pivot = kinds(plan).indexOf("pivotRoot");
    const lastInRoot = plan.findLastIndex((s) => isStep(s, "mount") && s.inRoot !== undefined);
    expect(lastInRoot).toBeLessThan(pivot);
    expect(kinds(plan).slice(-8)).toEqual(["stdio", "rlimit", "prctl", "bounding", "setid", "caps", "seccomp", "exec"]);
    expect(plan.at(-6)).toMatchObject({ kind: "prctl", option: PR.SET_NO_NEW_PRIVS });
    expect(plan.at(-5)).toMatchObject({ kind: "bounding", keep: 2 ** 0 + 2 ** 5 });
    expect(plan.at(-4)).toMatchObject({ kind: "setid", uid: 0, gid: 0, groups: [0, 10] });
    expect(plan.at(-3)).toMatchObject({ kind: "caps", permitted: 2 ** 0 + 2 ** 5, inheritable: 0 });
    const system = ["/", "/store/c/rootfs", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp"];
    expect(targets(plan).slice(0, system.length)).toEqual(system);
    expect(targets(plan).indexOf("/sys/fs/cgroup")).toBeGreaterThan(targets(plan).indexOf("/proc/kcore"));
    expect(targets(plan)).toContain("/proc/sysrq-trigger");
  });

  test("without no_new_privs the filter goes in before the capabilities drop; unconfined has none", () => {
    const noNnp = buildPlan(process_({ noNewPrivileges: false }), host(), io);
    expect(kinds(noNnp).slice(-5)).toEqual(["seccomp", "bounding", "setid", "caps", "exec"]);
    const loose = buildPlan(linux({ seccomp: null, maskedPaths: [], readonlyPaths: [] }), host(), io);
    expect(kinds(loose)).not.toContain("seccomp");
    expect(targets(loose)).not.toContain("/proc/kcore");
  });

  test("cgroup v1 and hybrid hosts get each hierarchy's own directory under a read-only tmpfs", () => {
    const layout = parseLayout(
      [
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd",
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
      ].join("\n"),
      "4:memory:/a\n1:name=systemd:/\n0::/\n",
      () => [],
    );
    const binds = cgroupBinds(layout, (h) => `${h.own}/mycfs-1`, false);
    const p = buildPlan(spec(), host({ cgroups: { join: [], binds, v2Only: false } }), io);
    const cg = mounts(p).filter((s) => s.target.startsWith("/sys/fs/cgroup"));
    expect(cg.map((s) => [s.source ?? "", s.target])).toEqual([
      ["tmpfs", "/sys/fs/cgroup"],
      ["/sys/fs/cgroup/memory/a/mycfs-1", "/sys/fs/cgroup/memory"],
      ["", "/sys/fs/cgroup/memory"],
      ["/sys/fs/cgroup/systemd/mycfs-1", "/sys/fs/cgroup/systemd"],
      ["", "/sys/fs/cgroup/systemd"],
      ["/sys/fs/cgroup/unified/mycfs-1", "/sys/fs/cgroup/unified"],
      ["", "/sys/fs/cgroup/unified"],
      ["", "/sys/fs/cgroup"],
    ]);
    expect(cg.at(-1)!.flags! & MS.REMOUNT && cg.at(-1)!.flags! & MS.RDONLY).toBeTruthy();
    // --cgroupns host: the host's trees
    expect(cgroupBinds(layout, () => "unused", true).map((b) => b.source)).toEqual([
      "/sys/fs/cgroup/memory",
      "/sys/fs/cgroup/systemd",
      "/sys/fs/cgroup/unified",
    ]);
  });

  test("a user namespace: become its root once the maps are written, before the root file system is mounted; bind devices instead of mknod", () => {
    const p = buildPlan(inUserns([range(0, 100000, 65536)]), host(), io);
    expect(kinds(p).slice(0, 9)).toEqual(["sync", "prctl", "unshare", "hostname", "loopback", "unshare", "mount", "setid", "mount"]);
    expect(p[0]).toMatchObject({ kind: "sync", point: Sync.NAMESPACES });
    expect(kinds(p)).not.toContain("mknod");
    expect(targets(p)).toContain("/dev/null");
    expect(kinds(plan)).toContain("mknod");
  });

  test("--device's nodes are made right after the default ones, on the new /dev", () => {
    const kmsg = { host: "/dev/kmsg", container: "/dev/log2", mode: 0o020644, major: 1, minor: 11 };
    const p = buildPlan(linux({ devices: [kmsg] }), host(), io);
    const nodes = p.flatMap((s) => (isStep(s, "mknod") ? [s.path] : []));
    expect(nodes).toEqual(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/log2"]);
    expect(p.findIndex((s) => isStep(s, "mknod") && s.path === "/dev/log2")).toBeGreaterThan(p.findIndex((s) => isStep(s, "mount") && s.target === "/dev"));
  });

  test("devpts gives terminals the tty group where the user namespace maps it, else root's", () => {
    const devpts = (p: Step[]) => mounts(p).find((s) => s.target === "/dev/pts")!.data;
    const one = (gids: IdMapping[]) => buildPlan(inUserns([range(0, 1000, 1)], gids), host({ dropGroups: false }), io);
    expect(devpts(plan)).toEndWith(",gid=5");
    expect(devpts(one([range(0, 1000, 1)]))).not.toContain("gid=");
    expect(devpts(one([range(0, 1000, 1), range(1, 100000, 65536)]))).toEndWith(",gid=5");
  });

  test("exec carries the container's PATH, argv and env, and a new session", () => {
    expect(plan.at(-1)).toMatchObject({
      kind: "exec",
      path: "/bin:/usr/bin",
      argv: ["/bin/echo", "héllo", ""],
      env: ["PATH=/bin:/usr/bin", "HOME=/root"],
      init: false,
      ctty: false,
    });
    expect(wire(plan.at(-1)!)).toMatchObject({ code: OpCode.EXEC, flags: OpFlag.SETSID, a: 3, b: 2 });
    const init = buildPlan(spec({ mycfs: { init: true, pivot: true } }), host(), { fds: [5, 5, 5], ctty: true }).at(-1)!;
    expect(wire(init).flags).toBe(OpFlag.SETSID | OpFlag.INIT | OpFlag.CTTY);
  });

  test("--no-pivot chroots instead; -w creates and enters the directory", () => {
    const p = buildPlan({ ...process_({ cwd: "/work/dir" }), mycfs: { init: false, pivot: false } }, host(), io);
    expect(kinds(p)).not.toContain("pivotRoot");
    const chroot = kinds(p).indexOf("chroot");
    expect(p[chroot - 1]).toMatchObject({ kind: "mkdir", path: "/work/dir" });
    expect(p[chroot + 1]).toMatchObject({ kind: "chdir", path: "/work/dir" });
  });

  test("a root without a parent mount (initramfs): the root is lifted onto a copy of the tree before the image is mounted, then pivoted", () => {
    const p = buildPlan(spec(), host({ rootWithoutParent: true }), io);
    const lift = kinds(p).indexOf("liftRoot");
    expect(kinds(p).slice(lift - 1, lift + 2)).toEqual(["mount", "liftRoot", "mount"]);
    expect(p[lift + 1]).toMatchObject({ kind: "mount", fstype: "overlay" });
    expect(kinds(p)).toContain("pivotRoot");
    expect(kinds(buildPlan(spec({ mycfs: { init: false, pivot: false } }), host({ rootWithoutParent: true }), io))).not.toContain("liftRoot");
    expect(kinds(plan)).not.toContain("liftRoot");
  });

  test("volumes bind, then remount read-only; a user tmpfs on /tmp replaces the default", () => {
    const p = buildPlan(
      spec({
        mounts: [
          { destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro"] },
          { destination: "/etc/hosts", type: "bind", source: "/etc/hosts", options: ["rbind"], file: true },
          { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "size=1m"] },
        ],
      }),
      host(),
      io,
    );
    const data = mounts(p).filter((s) => s.target === "/data");
    expect(data.map((s) => s.flags)).toEqual([MS.BIND | MS.REC, MS.BIND | MS.REMOUNT | MS.RDONLY]);
    expect(data[0]!.inRoot).toBe("dir");
    expect(wire(data[0]!).flags).toBe(OpFlag.IN_ROOT | OpFlag.MKDIR);
    expect(mounts(p).find((s) => s.target === "/etc/hosts")!.inRoot).toBe("file");
    const tmp = mounts(p).filter((s) => s.target === "/tmp");
    expect(tmp).toHaveLength(1);
    expect(tmp[0]!.data).toBe("size=1m");
    expect(tmp[0]!.flags).toBe(MS.NOSUID | MS.NODEV | MS.NOEXEC);
  });
});

describe("the container's user", () => {
  const user = (uid: number, gid: number, additionalGids: number[], home = "/home/app") => ({ uid, gid, additionalGids, home });
  const as = (u: ReturnType<typeof user>, caps = spec().process.capabilities) => process_({ user: u, capabilities: caps });
  const setids = (p: Step[]) => p.filter((s) => isStep(s, "setid"));

  test("runc's order: bounding set, then groups and ids, then the other sets, then the filter; the ids on the step and in its words", () => {
    const p = buildPlan(as(user(1000, 1000, [1000, 50]), processCaps(["CHOWN", "KILL"], 1000)), host(), io);
    expect(kinds(p).slice(-6)).toEqual(["prctl", "bounding", "setid", "caps", "seccomp", "exec"]);
    expect(p.at(-5)).toMatchObject({ kind: "bounding", keep: 2 ** 0 + 2 ** 5 });
    expect(p.at(-4)).toMatchObject({ kind: "setid", uid: 1000, gid: 1000, groups: [1000, 50] });
    expect(p.at(-4)!.what).toContain("become uid 1000, gid 1000, supplementary groups 1000, 50");
    // docker's sets for a user other than root: nothing permitted or effective, the bounding set kept
    expect(p.at(-3)).toMatchObject({ kind: "caps", permitted: 0, inheritable: 0 });
    expect(wire(p.at(-4)!)).toMatchObject({ code: OpCode.SETID, flags: OpFlag.SETGROUPS, a: 1000, b: 1000, c: 2 });
    expect(describePlan(p)).toContain("become uid 1000, gid 1000, supplementary groups 1000, 50 (the container's user)");
  });

  test("HOME is the user's home unless the environment sets one", () => {
    const exec = (p: Step[]) => p.at(-1) as StepOf<"exec">;
    expect(exec(buildPlan(process_({ env: ["PATH=/bin"], user: user(1000, 1000, []) }), host(), io)).env).toEqual(["PATH=/bin", "HOME=/home/app"]);
    expect(exec(buildPlan(process_({ env: ["HOME=/data"], user: user(1000, 1000, []) }), host(), io)).env).toEqual(["HOME=/data"]);
  });

  test("in a user namespace: its root right after the maps, the user at the end; a namespace of one id leaves the groups alone", () => {
    const p = buildPlan({ ...inUserns([range(0, 100000, 65536)]), process: { ...spec().process, user: user(1000, 1000, [1000]) } }, host(), io);
    expect(setids(p)).toMatchObject([
      { uid: 0, gid: 0, groups: [] },
      { uid: 1000, gid: 1000, groups: [1000] },
    ]);
    expect(kinds(p).indexOf("setid")).toBeLessThan(kinds(p).indexOf("mount", kinds(p).indexOf("setid")));
    const one = buildPlan(inUserns([range(0, 1000, 1)]), host({ dropGroups: false }), io);
    expect(setids(one)).toMatchObject([
      { uid: 0, gid: 0, groups: null },
      { uid: 0, gid: 0, groups: null },
    ]);
    expect(setids(one).map((s) => wire(s))).toMatchObject([
      { flags: 0, c: 0 },
      { flags: 0, c: 0 },
    ]);
  });

  test("the supplementary gids travel after the step's header and come back as built", () => {
    const p = buildPlan(as(user(7, 8, [8, 9, 70000])), host(), io);
    const decoded = decodePlan(encodePlan(p));
    const i = p.findLastIndex((s) => isStep(s, "setid"));
    expect(decoded[i]).toEqual({ code: OpCode.SETID, flags: OpFlag.SETGROUPS, a: 8, b: 7, c: 3, strs: [] });
  });
});

describe("the network namespace's steps", () => {
  const netSteps = (p: Step[]) =>
    p.slice(0, 4).filter((s) => ["unshare", "loopback", "setns"].includes(s.kind) && !(isStep(s, "unshare") && s.flags === CLONE.NEWCGROUP));
  const others = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC;

  test("none: a new one with lo up; host: none of its own, no lo; a path: joined through the fd mycfs opened, no lo", () => {
    expect(netSteps(buildPlan(spec(), host(), io))).toMatchObject([{ kind: "unshare", flags: others | CLONE.NEWNET }, { kind: "loopback" }]);
    const hostNet = linux({ namespaces: spec().linux.namespaces.filter((n) => n.type !== "network") });
    expect(netSteps(buildPlan(hostNet, host(), io))).toMatchObject([{ kind: "unshare", flags: others, what: "enter new mount, UTS and IPC namespaces" }]);
    const joined = linux({ namespaces: spec().linux.namespaces.map((n) => (n.type === "network" ? { ...n, path: "/tmp/ns" } : n)) });
    expect(netSteps(buildPlan(joined, host({ joined: { network: { fd: 9 } } }), io))).toMatchObject([
      { kind: "setns", fd: 9, flags: CLONE.NEWNET, what: "join the network namespace of /tmp/ns" },
      { kind: "unshare", flags: others },
    ]);
    expect(() => buildPlan(joined, host(), io)).toThrow("was not opened");
  });
});

describe("namespaces joined by path, and a time namespace", () => {
  /** The spec's namespaces, `paths` joined from those files. */
  const withPaths = (paths: Partial<Record<Namespace, string>>, extra: Namespace[] = []) =>
    linux({
      namespaces: [...spec().linux.namespaces.map((n) => ({ type: n.type })), ...extra.map((type) => ({ type }))].map((n) =>
        paths[n.type] ? { ...n, path: paths[n.type] } : n,
      ),
    });
  /** The steps up to the mounts: how the namespaces come to be. */
  const setup = (s: ContainerSpec, h: HostFacts) => {
    const p = buildPlan(s, h, io);
    return p
      .slice(
        0,
        p.findIndex((x) => isStep(x, "mount")),
      )
      .map((x) => x.what);
  };

  test("no user namespace: joined first, from the fds mycfs opened; the others made new; the clone makes the PID one", () => {
    const s = withPaths({ uts: "/proc/7/ns/uts", ipc: "/proc/7/ns/ipc" });
    const h = host({ joined: { uts: { fd: 11 }, ipc: { fd: 12 } } });
    expect(setup(s, h)).toEqual([
      "join the IPC namespace of /proc/7/ns/ipc",
      "join the UTS namespace of /proc/7/ns/uts",
      "make the child non-dumpable until exec, so the container cannot open mycfs through /proc (CVE-2019-5736)",
      "enter new mount and network namespaces",
      "set hostname to box",
      "bring up lo in the new network namespace",
      "enter a new cgroup namespace, rooted at the container's cgroup",
    ]);
    expect(buildPlan(s, h, io).filter((x) => isStep(x, "setns"))).toMatchObject([
      { fd: 12, flags: CLONE.NEWIPC },
      { fd: 11, flags: CLONE.NEWUTS },
    ]);
    expect(namespaceSetup(s, h).clone).toBe(CLONE.NEWPID);
    expect(() => buildPlan(s, host(), io)).toThrow("the ipc namespace /proc/7/ns/ipc was not opened");
  });

  test("a PID namespace joined: its process is a second one, forked into it, which mycfs learns at Sync.FORKED", () => {
    const s = withPaths({ pid: "/proc/7/ns/pid" });
    const h = host({ joined: { pid: { fd: 11 } } });
    expect(setup(s, h).slice(0, 4)).toEqual([
      "join the PID namespace of /proc/7/ns/pid (for the process forked next)",
      "make the child non-dumpable until exec, so the container cannot open mycfs through /proc (CVE-2019-5736)",
      "enter new mount, UTS, IPC and network namespaces",
      "go on in a process of its own in the PID namespace, forked as mycfs's child",
    ]);
    const fork = buildPlan(s, h, io).find((x) => isStep(x, "enter"))!;
    expect(fork).toMatchObject({ kind: "enter", pidfd: -1, cgroupFd: -1, point: Sync.FORKED });
    expect(wire(fork)).toMatchObject({ code: OpCode.ENTER, a: -1, b: -1, c: Sync.FORKED });
    expect(namespaceSetup(s, h).clone).toBe(0);
  });

  test("a user namespace joined: those outside it first, then it, then those it owns; new ones after, a new PID one too, and no maps", () => {
    const s = withPaths({ user: "/proc/7/ns/user", network: "/proc/7/ns/net", ipc: "/run/ipc" }, ["user"]);
    const h = host({ joined: { user: { fd: 10 }, network: { fd: 11, inUserns: true }, ipc: { fd: 12 } } });
    expect(setup(s, h)).toEqual([
      "join the IPC namespace of /run/ipc",
      "join the user namespace of /proc/7/ns/user",
      "join the network namespace of /proc/7/ns/net",
      "make the child non-dumpable until exec, so the container cannot open mycfs through /proc (CVE-2019-5736)",
      "enter new mount, UTS and PID namespaces (the PID one for the process forked next)",
      "go on in a process of its own in the PID namespace, forked as mycfs's child",
      "set hostname to box",
      "enter a new cgroup namespace, rooted at the container's cgroup",
    ]);
    const p = buildPlan(s, h, io);
    expect(p.some((x) => isStep(x, "sync") && x.point === Sync.NAMESPACES)).toBe(false);
    expect(p.find((x) => isStep(x, "setid"))).toMatchObject({
      uid: 0,
      gid: 0,
      what: "become uid 0, gid 0, no supplementary groups (root of the user namespace joined)",
    });
    expect(namespaceSetup(s, h).clone).toBe(0);
  });

  test("a new time namespace: made after the others, its offsets written before any process is in it", () => {
    const s = linux({
      namespaces: [...spec().linux.namespaces, { type: "time" }],
      timeOffsets: { boottime: { secs: 86400, nanosecs: 0 }, monotonic: { secs: -5, nanosecs: 7 } },
    });
    const p = buildPlan(s, host(), io);
    const i = p.findIndex((x) => isStep(x, "unshare") && x.flags === CLONE.NEWTIME);
    expect(i).toBe(p.findIndex((x) => isStep(x, "unshare")) + 1);
    expect(p.slice(i + 1, i + 3)).toMatchObject([
      { kind: "write", path: "/proc/self/timens_offsets", text: "boottime 86400 0", what: "offset its boottime clock by 86400 s 0 ns" },
      { kind: "write", path: "/proc/self/timens_offsets", text: "monotonic -5 7" },
    ]);
    expect(p.some((x) => isStep(x, "enter"))).toBe(false);
    expect(namespaceSetup(s, host()).clone).toBe(CLONE.NEWPID);
  });

  test("a time namespace joined: by the forked process, which has its memory to itself", () => {
    const s = withPaths({ time: "/proc/7/ns/time" }, ["time"]);
    const h = host({ joined: { time: { fd: 13 } } });
    const p = buildPlan(s, h, io);
    const fork = p.findIndex((x) => isStep(x, "enter"));
    expect(p[fork + 1]).toMatchObject({ kind: "setns", fd: 13, flags: CLONE.NEWTIME, what: "join the time namespace of /proc/7/ns/time" });
    expect(p.some((x) => isStep(x, "unshare") && x.flags === CLONE.NEWTIME)).toBe(false);
    // the new PID namespace is unshared for the forked process: the clone's PID 1 could not fork as mycfs's child
    expect(namespaceSetup(s, h).clone).toBe(0);
    expect(p.find((x) => isStep(x, "unshare"))).toMatchObject({ flags: CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWPID });
  });
});

describe("specFromFlags", () => {
  const flags = {
    argv: ["sh"],
    env: ["PATH=/bin"],
    workdir: "/",
    user: { uid: 0, gid: 0, additionalGids: [0], home: "/root" },
    hostname: "box",
    volumes: [{ host: "/srv/data", container: "/data", readOnly: true, isDir: true }],
    tmpfs: [parseTmpfs("/run:ro,exec,size=1m,mode=700")],
    readOnly: false,
    init: false,
    pivot: true,
    rlimits: [],
    privileges: { caps: new Set(["KILL", "CHOWN"]), noNewPrivs: true, seccomp: "default", maskPaths: true },
    seccomp: null,
    devices: [],
    cgroupns: true,
    netns: "new" as const,
    etcDir: "/run/mycfs/1",
  };

  test("docker's flags as the spec's mounts, whose steps keep the flags' meaning", () => {
    const s = specFromFlags(flags);
    expect(s.mounts).toEqual([
      { destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro"], file: false },
      { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid", "nodev", "size=1m", "mode=700"] },
      ...["hostname", "hosts", "resolv.conf"].map((f) => ({
        destination: `/etc/${f}`,
        type: "bind" as const,
        source: `/run/mycfs/1/${f}`,
        options: [],
        file: true,
        optional: true,
      })),
    ]);
    // (skipped only where the root lacks the file and cannot have it made: a read-only --rootfs)
    expect(mounts(buildPlan(s, host(), io)).find((m) => m.target === "/etc/hosts")).toMatchObject({ inRoot: "file", optional: true });
    const run = mounts(buildPlan(s, host(), io)).find((m) => m.target === "/run")!;
    expect(run).toMatchObject({ flags: MS.RDONLY | MS.NOSUID | MS.NODEV, data: "size=1m,mode=700" });
    expect(s.process.capabilities).toEqual({ bounding: ["KILL", "CHOWN"], permitted: ["KILL", "CHOWN"], inheritable: [] });
    const user = specFromFlags({ ...flags, user: { uid: 1000, gid: 0, additionalGids: [0], home: "/" } });
    expect(user.process.capabilities).toEqual({ bounding: ["KILL", "CHOWN"], permitted: [], inheritable: [] });
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(["pid", "network", "ipc", "uts", "mount", "cgroup"]);
    expect(specFromFlags({ ...flags, netns: "host" }).linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount", "cgroup"]);
    expect(specFromFlags({ ...flags, netns: { path: "/tmp/ns" } }).linux.namespaces[1]).toEqual({ type: "network", path: "/tmp/ns" });
    const own = specFromFlags({ ...flags, volumes: [{ host: "/srv/hosts", container: "/etc/hosts", readOnly: true, isDir: false }] });
    expect(own.mounts.filter((m) => m.destination === "/etc/hosts").map((m) => m.source)).toEqual(["/srv/hosts"]);
  });

  test("docker's masked and read-only paths by default, none with --privileged; a user namespace's maps", () => {
    expect(specFromFlags(flags).linux).toMatchObject({ maskedPaths: DEFAULT_MASKED_PATHS, readonlyPaths: DEFAULT_READONLY_PATHS });
    const privileged = specFromFlags({ ...flags, privileges: { ...flags.privileges, maskPaths: false } });
    expect(privileged.linux).toMatchObject({ maskedPaths: [], readonlyPaths: [] });
    const userns = specFromFlags({ ...flags, userns: { uids: [{ inside: 0, outside: 100000, size: 65536 }], gids: [{ inside: 0, outside: 1000, size: 1 }] } });
    expect(userns.linux).toMatchObject({ uidMappings: [range(0, 100000, 65536)], gidMappings: [range(0, 1000, 1)] });
    expect(userns.linux.namespaces.at(-1)).toEqual({ type: "user" });
  });
});

describe("encodePlan, decoded by libmycfs", () => {
  test("every number and string arrives as built", () => {
    const plan = buildPlan(spec({ mycfs: { init: true, pivot: true } }), host(), { fds: [-1, 7, 8], ctty: false });
    const decoded = decodePlan(encodePlan(plan)); // the seccomp op's bytes are not strings: compared by length
    expect(decoded).toEqual(plan.map(wire).map(({ code, flags, a, b, c, strs }) => ({ code, flags, a, b, c, strs })));
  });

  test("recursive attributes and an id-mapped bind's tree: their ops, targets below the root", () => {
    const idmapped = {
      destination: "/m",
      type: "bind" as const,
      source: "/srv/m",
      options: ["rbind"],
      idmap: { uidMappings: [], gidMappings: [], recursive: true },
    };
    const file = {
      destination: "/f",
      type: "bind" as const,
      source: "/srv/f",
      options: [],
      file: true,
      idmap: { uidMappings: [], gidMappings: [], recursive: false },
    };
    const data = { destination: "/data", type: "bind" as const, source: "/srv/data", options: ["rbind", "rro", "rnoatime"] };
    const plan = buildPlan(
      spec({ mounts: [data, idmapped, file] }),
      {
        ...host(),
        mountTrees: new Map([
          [idmapped, 12],
          [file, 13],
        ]),
      },
      io,
    );
    const ours = plan.filter((s) => s.kind === "setattr" || s.kind === "attachTree");
    expect(ours.map(wire)).toMatchObject([
      { code: OpCode.SETATTR, flags: OpFlag.IN_ROOT, a: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOATIME, b: MOUNT_ATTR._ATIME, strs: ["/data"] },
      { code: OpCode.ATTACH_TREE, flags: OpFlag.IN_ROOT | OpFlag.MKDIR, a: 12, strs: ["/m"] },
      { code: OpCode.ATTACH_TREE, flags: OpFlag.IN_ROOT | OpFlag.MKFILE, a: 13, strs: ["/f"] },
    ]);
    const decoded = decodePlan(encodePlan(plan));
    expect(decoded.filter((o) => o.code === OpCode.SETATTR || o.code === OpCode.ATTACH_TREE)).toHaveLength(3);
  });

  test("the C side refuses a truncated or foreign plan", () => {
    const bytes = encodePlan(buildPlan(spec(), host(), io));
    expect(() => decodePlan(bytes.subarray(0, bytes.byteLength - 8))).toThrow("malformed");
    const foreign = bytes.slice();
    foreign[0]! ^= 0xff;
    expect(() => decodePlan(foreign)).toThrow("malformed");
  });

  test("a NUL inside a string is refused before it reaches C", () => {
    expect(() => encodePlan(buildPlan(process_({ args: ["a\0b"] }), host(), io))).toThrow("NUL");
  });
});

describe("rootWithoutParent", () => {
  test("only the namespace's first mount is its own parent; the last mount stacked on / counts", () => {
    const initramfs = "1 1 0:2 / / rw - rootfs rootfs rw,size=429076k\n15 1 0:14 / /proc rw,relatime - proc proc rw\n";
    expect(rootWithoutParent(initramfs)).toBe(true);
    expect(rootWithoutParent("24 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n25 24 0:5 / /dev rw - devtmpfs udev rw\n")).toBe(false);
    expect(rootWithoutParent(`${initramfs}30 1 0:40 / / rw - tmpfs tmpfs rw\n`)).toBe(false);
    expect(rootWithoutParent("")).toBe(false);
  });
});
