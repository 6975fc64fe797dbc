// The spec in, plan out: the whole container setup as data, in the order it must happen
// (contained.c's order): namespaces, mounts while the host's paths are still reachable,
// the switch of root, then limits, privileges, the seccomp filter, and exec. mycfs makes
// the container's record, cgroup and layers while the child makes its namespaces and
// first mounts; the child waits for them only at the step that needs them.
import type { CgroupBind } from "../cgroups/cgroup";
import { Sync } from "../native/protocol";
import * as op from "../plan/ops";
import { type ContainerSpec, hasNamespace, IO_PRIORITY_CLASSES, type Mount, type Namespace, SCHED_FLAGS, SCHED_POLICIES, type Scheduler } from "../spec/spec";
import { capMask } from "./caps";
import { cgroupMounts, devNodes, maskedPaths, PROPAGATION, systemMounts, userMounts } from "./mounts";
import { CLONE, NAMESPACE_FLAGS, NAMESPACE_WORDS } from "./namespaces";
import { DEFAULT_PATH } from "./options";

/** What mycfs decided on the host around the child, for the planner. */
export interface HostFacts {
  /** `ops` mount the root and end with the step that makes it the root (op.root). */
  rootfs: { path: string; ops: op.Step[] };
  /** Steps that put the child in its cgroups; what is bound on /sys/fs/cgroup inside;
   * v2Only: one unified tree, no tmpfs around it; writable: left writable (--privileged). */
  cgroups: { join: op.Step[]; binds: CgroupBind[]; v2Only: boolean; writable?: boolean };
  /** The host's root is a mount without a parent (an initramfs), which pivot_root refuses. */
  rootWithoutParent: boolean;
  /** In a user namespace: whether the child may drop its supplementary groups (not where
   * setgroups is denied: rootless with only the caller's own id). */
  dropGroups: boolean;
  /** What mycfs makes after the clone, for the child to wait for (Sync.PREPARED): the
   * root's layers (and the cgroup), or only the cgroup; nothing (a second attempt). */
  prepared?: "rootfs" | "cgroup";
  /** fds of the namespaces the spec joins by path, opened by mycfs and checked to be of
   * their type (network/join.ts); `inUserns`: owned by the user namespace joined too. The
   * child joins each and closes it, as every fd, before exec. */
  joined?: Partial<Record<Namespace, { fd: number; inUserns?: boolean }>>;
  /** What mycfs gives the child's new network namespace: eth0 on the bridge (the clone
   * makes the namespace, and mycfs gives it eth0 while the child sets up), or a tap served
   * by pasta or slirp4netns (network/usernet.ts), the child waiting at Sync.NETWORK. */
  attach?: "bridge" | "pasta" | "slirp4netns";
  /** OCI create: the last step before the process's privileges waits for `start` on
   * this fd (the exec fifo), keeping `keepFds` fds from 3 on across the exec. */
  awaitStart?: { fd: number; keepFds: number };
  /** OCI create: config.json's prestart, createRuntime and createContainer hooks, which mycfs runs while
   * the child waits, its mounts made, before the switch of root. */
  hooks?: boolean;
  /** mycfs itself runs in a user namespace (a rootless engine's), where mknod is refused
   * even without one in the spec: device nodes are bound from the host, as runc does. */
  inUserns?: boolean;
  /** The detached trees mycfs made for the spec's id-mapped binds (idmap.ts), by mount:
   * the child inherits each fd, attaches the tree and closes it. */
  mountTrees?: ReadonlyMap<Mount, number>;
}

export interface Stdio {
  /** Host fds that become the container's 0, 1, 2 (-1: inherit mycfs's own). */
  fds: [number, number, number];
  /** The container opens a terminal of its own (OP_PTY) for 0-2 and its controlling terminal. */
  ctty: boolean;
}

/** The process's user and privileges: what the spec says, or what a container's record keeps for exec. */
export type ProcessPrivileges = Pick<ContainerSpec["process"], "capabilities" | "noNewPrivileges" | "user"> & {
  seccomp: Uint8Array | null;
  seccompFlags?: number;
};

/** runc's order (libcontainer's standard init and finalizeNamespace): the filter first
 * where installing it needs CAP_SYS_ADMIN (no no_new_privs); the bounding set while
 * CAP_SETPCAP, which dropping needs, is effective; the groups and ids while CAP_SETGID and
 * CAP_SETUID are (a uid other than 0 clears the permitted and effective sets); the other
 * sets; with no_new_privs the filter last, so the fewest calls run under it. A user other
 * than root keeps none with mycfs's own flags (processCaps); config.json's may give one
 * some, which PR_SET_KEEPCAPS keeps across the uid's change, as runc does. `setgroups`: false where the kernel denies it (a rootless
 * namespace of one id), which leaves the groups as they are. */
export function privileges(p: ProcessPrivileges, setgroups: boolean): op.Step[] {
  const { bounding, permitted, inheritable, ambient = [] } = p.capabilities;
  const { uid, gid, additionalGids } = p.user;
  // a user other than root with permitted capabilities (config.json's; mycfs's own flags
  // give such a user none) keeps them across the uid's change, as runc does
  const keep = uid !== 0 && permitted.length ? [op.prctl(op.PR.SET_KEEPCAPS, 1, `keep the permitted capabilities across the change to uid ${uid}`)] : [];
  const ids = [
    op.bounding(capMask(bounding), bounding.length),
    ...keep,
    op.setid(gid, uid, setgroups ? additionalGids : null, "the container's user"),
    op.caps(capMask(permitted), capMask(inheritable), permitted.length, capMask(ambient), ambient.length),
  ];
  const filter = p.seccomp ? [op.seccomp(p.seccomp, p.seccompFlags)] : [];
  return p.noNewPrivileges
    ? [op.prctl(op.PR.SET_NO_NEW_PRIVS, 1, "set no_new_privs: no exec can gain privileges (setuid, file caps)"), ...ids, ...filter]
    : [...filter, ...ids];
}

/** HOME from the user's home directory where the environment sets none, as runc does. */
export const withHome = (env: string[], home: string): string[] => (env.some((e) => e.startsWith("HOME=")) ? env : [...env, `HOME=${home}`]);

/** Whether the clone makes the network namespace (the child unshares it otherwise): on the
 * bridge, mycfs gives it eth0 once the sync points before Sync.NETWORK are answered; after
 * Sync.PREPARED the child has made it, in parallel with mycfs's work; without that sync
 * point, it must exist from the clone. */
export const clonesNetwork = (host: Pick<HostFacts, "attach" | "prepared">): boolean => host.attach === "bridge" && host.prepared === undefined;

/** The network namespace's steps: a new one with lo up (on the bridge, given eth0 by mycfs
 * meanwhile), or none: the host's, or one joined (namespaceSetup; its own lo is up or
 * not as its owner left it). */
function network(spec: ContainerSpec, host: HostFacts): { unshare: number; steps: op.Step[] } {
  const net = spec.linux.namespaces.find((n) => n.type === "network");
  if (!net || net.path !== undefined) return { unshare: 0, steps: [] };
  if (host.attach === "bridge") return { unshare: clonesNetwork(host) ? 0 : CLONE.NEWNET, steps: [op.loopback()] };
  const tap = host.attach
    ? [
        op.sync(
          Sync.NETWORK,
          `wait for mycfs to give the new network namespace a tap device, configured by ${host.attach} (started by mycfs in the child's user and network namespaces)`,
        ),
      ]
    : [];
  return { unshare: CLONE.NEWNET, steps: [op.loopback(), ...tap] };
}

/** The namespaces the child unshares itself (the spec's new mount, UTS and IPC ones, a new
 * network one, a new PID one for the process it forks), and the words that say so. */
function unsharedNamespaces(spec: ContainerSpec, more: Namespace[]): { flags: number; what: string } {
  const made = [...(["mount", "uts", "ipc"] as const).filter((t) => spec.linux.namespaces.some((n) => n.type === t && n.path === undefined)), ...more];
  const names = made.map((t) => NAMESPACE_WORDS[t]);
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "no");
  const forChildren = made.includes("pid") ? " (the PID one for the process forked next)" : "";
  return { flags: made.reduce((f, t) => f | NAMESPACE_FLAGS[t], 0), what: `enter new ${list} namespaces${forChildren}` };
}

/** runc's order, decided here: the clone makes a new user namespace (config.json joins
 * nothing beside one: its root could not) and a new PID namespace, where its process is
 * PID 1. A namespace joined by path is joined from the fd mycfs opened, while the child
 * still has mycfs's privileges, unless a joined user namespace owns it: then after that
 * one, whose root may. New namespaces come after the user namespace joined, so that it
 * owns them. A PID namespace applies to the children of whoever joins or makes it, so one
 * joined, or made in a joined user namespace, takes a second process born in it
 * (op.fork, runc's second fork); so does a time namespace joined, which only a process
 * with its memory to itself may join (the child shares mycfs's until then). */
export function namespaceSetup(spec: ContainerSpec, host: Pick<HostFacts, "joined">) {
  const find = (t: Namespace) => spec.linux.namespaces.find((n) => n.type === t);
  const user = find("user");
  const pid = find("pid");
  const time = find("time");
  const forks = pid?.path !== undefined || (pid !== undefined && user?.path !== undefined) || time?.path !== undefined;
  const join = (n: { type: Namespace; path?: string }): op.Step => {
    const fd = host.joined?.[n.type]?.fd;
    if (fd === undefined) throw new Error(`the ${n.type} namespace ${n.path} was not opened`);
    const forChildren = n.type === "pid" ? " (for the process forked next)" : "";
    return op.setns(fd, NAMESPACE_FLAGS[n.type], `join the ${NAMESPACE_WORDS[n.type]} namespace of ${n.path}${forChildren}`);
  };
  const joins = spec.linux.namespaces.filter((n) => n.path !== undefined && n.type !== "user" && n.type !== "time");
  const inUser = (n: { type: Namespace }) => user?.path !== undefined && host.joined?.[n.type]?.inUserns === true;
  const offsets = Object.entries(spec.linux.timeOffsets ?? {});
  return {
    /** What the clone makes. */
    clone: (user && user.path === undefined ? CLONE.NEWUSER : 0) | (pid && !forks ? CLONE.NEWPID : 0),
    /** Before the new namespaces: the user namespace and the namespaces joined. */
    enter: [
      ...(user && user.path === undefined ? [op.sync(Sync.NAMESPACES, "wait for mycfs to write the uid and gid maps of the new user namespace")] : []),
      ...joins.filter((n) => !inUser(n)).map(join),
      ...(user?.path === undefined ? [] : [join(user)]),
      ...joins.filter(inUser).map(join),
    ],
    /** Unshared with the other new ones. */
    unshare: (pid && pid.path === undefined && forks ? ["pid"] : []) as Namespace[],
    /** After them: the fork, then the time namespace, joined or made with its offsets
     * before any process enters it (the command does at its exec). */
    after: [
      ...(forks ? [op.fork(`go on in a process of its own${pid ? " in the PID namespace" : ""}, forked as mycfs's child`)] : []),
      ...(time?.path !== undefined ? [join(time)] : []),
      ...(time && time.path === undefined
        ? [
            op.unshare(CLONE.NEWTIME, "make a new time namespace, which the command enters at its exec"),
            ...offsets.map(([clock, o]) =>
              op.write("/proc/self/timens_offsets", `${clock} ${o.secs} ${o.nanosecs}`, `offset its ${clock} clock by ${o.secs} s ${o.nanosecs} ns`),
            ),
          ]
        : []),
    ],
  };
}

/** struct sched_attr as sched_setattr(2) takes it: its first version (48 bytes), or the
 * second (56) with the utilization clamps where a clamp is asked for. */
export function schedAttr(s: Scheduler): Uint8Array {
  const clamps = s.flags.some((f) => f.startsWith("SCHED_FLAG_UTIL_CLAMP"));
  const b = new ArrayBuffer(clamps ? 56 : 48);
  const v = new DataView(b);
  v.setUint32(0, b.byteLength, true);
  v.setUint32(4, SCHED_POLICIES[s.policy], true);
  v.setBigUint64(8, BigInt(s.flags.reduce((f, name) => f | SCHED_FLAGS[name], 0)), true);
  v.setInt32(16, s.nice, true);
  v.setUint32(20, s.priority, true);
  v.setBigUint64(24, BigInt(s.runtime), true);
  v.setBigUint64(32, BigInt(s.deadline), true);
  v.setBigUint64(40, BigInt(s.period), true);
  if (clamps) {
    v.setUint32(48, s.utilMin ?? 0, true);
    v.setUint32(52, s.utilMax ?? 1024, true);
  }
  return new Uint8Array(b);
}

/** The policy, and the clamps by their fields (a kernel without CONFIG_UCLAMP_TASK refuses
 * them: the failed step then names them). */
const schedWhat = (s: Scheduler) =>
  s.utilMin !== undefined || s.utilMax !== undefined || s.flags.some((f) => f.startsWith("SCHED_FLAG_UTIL_CLAMP"))
    ? `${s.policy} with the utilization clamps of process.scheduler (utilMin ${s.utilMin ?? 0}, utilMax ${s.utilMax ?? 1024})`
    : s.policy;

/** config.json's sysctl: each written below /proc/sys while it is still writable. */
const sysctlSteps = (sysctl: Record<string, string> = {}): op.Step[] =>
  Object.entries(sysctl).map(([key, value]) => op.write(`/proc/sys/${key.replaceAll(".", "/")}`, value, `set the kernel parameter ${key} to ${value}`));

/** rootfsPropagation shared or unbindable: the root's mounts were private up to here, as
 * pivot_root refuses a shared root; the root (with r, every mount on it) becomes so now,
 * in the container's own mount namespace (runc's order: after pivot_root). */
function rootPropagation(p: ContainerSpec["linux"]["rootfsPropagation"]): op.Step[] {
  if (p === undefined || p === "rslave") return [];
  return [
    op.mount({
      target: "/",
      flags: PROPAGATION.get(p)!,
      what: `make the container's root ${p.replace(/^r/, "")}${p.startsWith("r") ? " with every mount on it" : ""} (rootfsPropagation ${p}), now that it is the root`,
    }),
  ];
}

/** The child's steps, from the spec and the host's decisions: a pure function. */
export function buildPlan(spec: ContainerSpec, host: HostFacts, io: Stdio): op.Step[] {
  const { process: p, linux } = spec;
  const root = host.rootfs.path;
  const userns = hasNamespace(spec, "user");
  const joinedUser = linux.namespaces.some((n) => n.type === "user" && n.path !== undefined);
  const pivot = spec.mycfs.pivot;
  const userTargets = new Set(spec.mounts.map((m) => m.destination));
  const pathVar = p.env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  const net = network(spec, host);
  const ns = namespaceSetup(spec, host);
  // pasta and slirp4netns, the user's own processes, open the child's /proc/PID/ns files,
  // which the kernel refuses them once the child is non-dumpable: it becomes so after they
  // are done, still before anything of the container exists
  const helper = host.attach === "pasta" || host.attach === "slirp4netns";
  const undumpable = op.prctl(
    op.PR.SET_DUMPABLE,
    0,
    "make the child non-dumpable until exec, so the container cannot open mycfs through /proc (CVE-2019-5736)",
  );
  const unshared = unsharedNamespaces(spec, [...(net.unshare ? ["network" as const] : []), ...ns.unshare]);
  const own = spec.mycfs.systemMounts !== false; // else config.json's list has them all
  const cgroupMount = spec.mounts.find((m) => m.type === "cgroup");
  const cgroups =
    own || cgroupMount
      ? cgroupMounts(host.cgroups.binds, host.cgroups.v2Only, own ? host.cgroups.writable === true : !cgroupMount!.options.includes("ro"))
      : [];
  // Into its cgroup the child moves itself once mycfs has made it (after Sync.PREPARED);
  // as late as it can, so that mycfs makes it meanwhile; in a user namespace before it
  // becomes the namespace's root, as only mycfs's own ids may write the host's cgroup files.
  const joinLate = host.prepared === "cgroup" && !userns;
  const listener = ((linux.seccompFlags ?? 0) & op.SECCOMP_FILTER_FLAG.NEW_LISTENER) !== 0;
  const awaitStart = host.awaitStart ? op.awaitStart(host.awaitStart.fd, host.awaitStart.keepFds) : undefined;
  const join = [
    ...(host.prepared
      ? [op.sync(Sync.PREPARED, `wait for mycfs to make the container's ${host.prepared === "rootfs" ? "layers, " : ""}cgroup and record, made meanwhile`)]
      : []),
    // (the child's namespaces and mounts made before are charged to mycfs's cgroup: kilobytes)
    ...host.cgroups.join,
    ...(linux.namespaces.some((n) => n.type === "cgroup" && n.path === undefined)
      ? [op.unshare(CLONE.NEWCGROUP, "enter a new cgroup namespace, rooted at the container's cgroup")]
      : []),
  ];
  return [
    // Without a new user namespace mycfs has nothing to do before the child's first steps,
    // so no round trip; with one, the maps come first: without them nothing else can be made.
    ...ns.enter,
    // After the sync point, not before: mycfs without root writes the maps through
    // /proc/PID, whose files a non-dumpable process gives to root (runc does the same).
    // Nothing of the container's exists yet that could reach the child before then.
    ...(helper ? [] : [undumpable]),
    op.unshare(unshared.flags, unshared.what),
    ...ns.after,
    ...(spec.hostname ? [op.hostname(spec.hostname)] : []),
    ...(spec.domainname ? [op.write("/proc/sys/kernel/domainname", spec.domainname, `set the domain name to ${spec.domainname}`)] : []),
    ...net.steps,
    ...(helper ? [undumpable] : []),
    ...(joinLate ? [] : join),
    linux.rootfsPropagation === "rslave"
      ? op.mount({
          target: "/",
          flags: op.MS.REC | op.MS.SLAVE,
          what: "make every mount a slave of the host's: the host's mount events reach the container, none go back (rootfsPropagation rslave)",
        })
      : op.mount({ target: "/", flags: op.MS.REC | op.MS.PRIVATE, what: "make every mount private to the new mount namespace (the host's are untouched)" }),
    ...(userns
      ? [
          op.setid(
            0,
            0,
            host.dropGroups ? [] : null,
            joinedUser ? "root of the user namespace joined" : "root of the new user namespace, now that its maps are written",
          ),
        ]
      : []),
    ...(pivot && host.rootWithoutParent ? [op.liftRoot()] : []),
    ...host.rootfs.ops,
    // a root tree cloned from a shared mount (--rootfs, or an engine's overlay, where / is
    // shared, as systemd makes it) is shared too, which pivot_root refuses
    ...(!host.rootfs.ops.some((s) => s.kind === "root" && s.tree !== undefined)
      ? []
      : [
          op.mount({
            target: "/",
            inRoot: "existing",
            flags: op.MS.REC | (linux.rootfsPropagation === "rslave" ? op.MS.SLAVE : op.MS.PRIVATE),
            what: `make the root's own mounts ${linux.rootfsPropagation === "rslave" ? "slaves" : "private"} too (pivot_root refuses shared ones)`,
          }),
        ]),
    ...(own
      ? systemMounts(userTargets, userns ? linux.gidMappings : undefined, linux.devices)
      : [
          ...userMounts(
            spec.mounts.filter((m) => m.type !== "cgroup"),
            host.mountTrees,
          ),
          ...devNodes(linux.devices, userns || host.inUserns === true),
        ]),
    ...sysctlSteps(linux.sysctl),
    ...maskedPaths(linux.maskedPaths, linux.readonlyPaths),
    ...(joinLate ? join : []),
    ...cgroups,
    ...(own ? userMounts(spec.mounts, host.mountTrees) : []),
    ...(p.cwd === "/" ? [] : [op.mkdir(p.cwd)]),
    ...(spec.root.readonly
      ? [
          op.mount({
            target: "/",
            inRoot: "existing",
            flags: op.MS.BIND | op.MS.REMOUNT | op.MS.RDONLY,
            what: "make the root file system read-only (--read-only; /tmp and the mounts on it stay as they are)",
          }),
        ]
      : []),
    ...(host.hooks ? [op.sync(Sync.HOOKS, "wait for mycfs to run the prestart, createRuntime and createContainer hooks")] : []),
    pivot ? op.pivotRoot(root) : op.chroot(root),
    ...rootPropagation(linux.rootfsPropagation),
    op.chdir(p.cwd),
    // as late as can be, so that mycfs makes eth0 while the child makes its mounts
    ...(host.attach === "bridge"
      ? [op.sync(Sync.NETWORK, "wait for mycfs to give the network namespace its eth0 on the bridge, with its address and route, made meanwhile")]
      : []),
    op.stdio(io.fds),
    ...(io.ctty ? [op.pty(p.user.uid, p.user.gid)] : []),
    ...p.rlimits.map((l) => op.rlimit(l.resource, l.soft, l.hard, l.name)),
    ...(p.oomScoreAdj === undefined ? [] : [op.write("/proc/self/oom_score_adj", String(p.oomScoreAdj), `set the OOM score adjustment to ${p.oomScoreAdj}`)]),
    ...(p.umask === undefined ? [] : [op.umask(p.umask)]),
    ...(p.ioPriority ? [op.ioprio(IO_PRIORITY_CLASSES.indexOf(p.ioPriority.class) + 1, p.ioPriority.priority, p.ioPriority.class)] : []),
    ...(p.scheduler ? [op.sched(schedAttr(p.scheduler), schedWhat(p.scheduler))] : []),
    ...(linux.personality ? [op.personality(linux.personality === "LINUX32" ? 8 : 0, linux.personality)] : []),
    ...(awaitStart && !listener ? [awaitStart] : []),
    ...privileges({ ...p, seccomp: linux.seccomp, ...(linux.seccompFlags ? { seccompFlags: linux.seccompFlags } : {}) }, !userns || host.dropGroups),
    // a seccomp listener gets the filter's fd from `create`, which is gone once the
    // container is created: the privileges and the filter come first then, as in runc,
    // and the wait for `start` passes through the filter
    ...(awaitStart && listener ? [awaitStart] : []),
    op.exec({ argv: p.args, env: withHome(p.env, p.user.home), path: pathVar, init: spec.mycfs.init, ctty: io.ctty }),
  ];
}
