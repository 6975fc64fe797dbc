// What a container is, apart from where it runs: the planner's one input, with the names of
// the OCI runtime spec's config.json (process, root, hostname, mounts, linux), holding only
// what mycfs honours. The docker-style flags are one front end (from-flags.ts); a
// config.json reader would be another, producing the same value. What mycfs decides on
// the host around the child (the root's layers, the cgroup) is not here: see HostFacts.
import type { Device } from "../container/devices";
import type { Rlimit } from "../container/rlimits";

export interface ContainerSpec {
  process: {
    args: string[];
    /** KEY=VALUE entries; without HOME, the planner adds the user's (as runc does). */
    env: string[];
    cwd: string;
    /** Who the process is, resolved in the image's /etc/passwd and /etc/group. `home`: the
     * user's home directory there ("/" without an entry), for HOME (mycfs's extension:
     * the planner reads no file). */
    user: ProcessUser;
    /** Capability names without CAP_. The effective set is the permitted one; the
     * ambient set (config.json's; empty with docker's flags) is within the permitted
     * and inheritable ones, as the kernel requires. */
    capabilities: { bounding: string[]; permitted: string[]; inheritable: string[]; ambient?: string[] };
    /** By mycfs's names and numbers (-1: unlimited). */
    rlimits: Rlimit[];
    noNewPrivileges: boolean;
    /** The process's umask (unset: mycfs's own, inherited). */
    umask?: number;
    /** Written to /proc/self/oom_score_adj before the privileges drop. */
    oomScoreAdj?: number;
    /** config.json's: ioprio_set's class and level. */
    ioPriority?: { class: IoPriorityClass; priority: number };
    /** config.json's: sched_setattr's policy and parameters (flags by their SCHED_FLAG_ names). */
    scheduler?: Scheduler;
  };
  /** Remounted read-only once everything is mounted on it. */
  root: { readonly: boolean };
  /** Set in the container's UTS namespace; "" leaves it as the namespace has it. */
  hostname: string;
  domainname?: string;
  /** Binds and tmpfs mounts, in order, after the ones every container has; with
   * mycfs.systemMounts false, every mount the container has (config.json's list). */
  mounts: Mount[];
  linux: {
    /** Without "network", the host's; with a path, the namespace there is joined, not made. */
    namespaces: { type: Namespace; path?: string }[];
    /** A new time namespace's clock offsets, written before any process enters it. */
    timeOffsets?: Partial<Record<TimeClock, { secs: number; nanosecs: number }>>;
    /** Written by mycfs while the child waits, with "user" in namespaces. */
    uidMappings: IdMapping[];
    gidMappings: IdMapping[];
    /** Host device nodes given to the container, beside the default ones; `host` is the
     * node bound in a user namespace, where mknod is refused (mycfs's extension). */
    devices: Device[];
    /** The compiled filter (src/seccomp compiles docker's JSON profiles), or null: unconfined. */
    seccomp: Uint8Array | null;
    /** seccomp(2)'s SECCOMP_FILTER_FLAG_* for the filter (config.json's flags; NEW_LISTENER
     * where an action is SCMP_ACT_NOTIFY); none when unset. */
    seccompFlags?: number;
    /** Covered by the container's /dev/null; a path ending in "/" is a directory,
     * covered by an empty read-only tmpfs (a pure planner cannot look, as runc does). */
    maskedPaths: string[];
    readonlyPaths: string[];
    /** Namespaced kernel parameters (net.*, kernel.shm*…), written below /proc/sys. */
    sysctl?: Record<string, string>;
    /** Unset: every mount private to the container's mount namespace; "rslave": slaves of
     * the host's, so that a volume asking for rslave gets the host's mount events; the
     * others: private, and the container's root made so once it is the root (pivot_root
     * refuses a shared one), as runc does. */
    rootfsPropagation?: RootPropagation;
    /** The execution domain (personality(2)). */
    personality?: "LINUX" | "LINUX32";
  };
  /** mycfs's extensions. init: a tiny init as PID 1; pivot: pivot_root (else chroot);
   * systemMounts (default true): mycfs's fixed /proc, /dev, /sys, /tmp… before `mounts`;
   * false: `mounts` lists them all, as config.json does (device nodes and /dev's links
   * are made either way). */
  mycfs: { init: boolean; pivot: boolean; systemMounts?: boolean };
}

export interface ProcessUser {
  uid: number;
  gid: number;
  /** The supplementary groups: the primary group, those /etc/group lists the user in, --group-add's. */
  additionalGids: number[];
  home: string;
}

export const ROOT_PROPAGATIONS = ["rslave", "shared", "rshared", "unbindable", "runbindable"] as const;
export type RootPropagation = (typeof ROOT_PROPAGATIONS)[number];

export type Namespace = "pid" | "network" | "ipc" | "uts" | "mount" | "user" | "cgroup" | "time";

/** The clocks a time namespace offsets, by timens_offsets' names. */
export const TIME_CLOCKS = ["monotonic", "boottime"] as const;
export type TimeClock = (typeof TIME_CLOCKS)[number];

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** options: mount(8)'s names: for "bind", rbind, ro, nosuid, nodev, noexec and a
 * propagation (private, rslave…); for the kernel's file systems, their flags and their own
 * options (size=64m); for both, config.json's recursive ones (rro, rnosuid…). A bind's
 * `file`: its source is not a directory; `optional`: skipped where its target is missing
 * and the root cannot have it made (mycfs's extensions). "cgroup": the container's own
 * cgroup directories, bound there (read-only with ro). `idmap`: an id-mapped bind
 * (config.json's idmap, ridmap, or the mount's own mappings): its files appear owned
 * through these maps; `recursive`: the mounts below its source too (ridmap). */
export interface Mount {
  destination: string;
  type: MountType;
  source: string;
  options: string[];
  file?: boolean;
  optional?: boolean;
  idmap?: { uidMappings: IdMapping[]; gidMappings: IdMapping[]; recursive: boolean };
}

export const IO_PRIORITY_CLASSES = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"] as const;
export type IoPriorityClass = (typeof IO_PRIORITY_CLASSES)[number];

/** sched_setattr's policies by their numbers (SCHED_ISO is not in Linux). */
export const SCHED_POLICIES = { SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_IDLE: 5, SCHED_DEADLINE: 6 } as const;
export const SCHED_FLAGS = {
  SCHED_FLAG_RESET_ON_FORK: 1,
  SCHED_FLAG_RECLAIM: 2,
  SCHED_FLAG_DL_OVERRUN: 4,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
} as const;
export interface Scheduler {
  policy: keyof typeof SCHED_POLICIES;
  nice: number;
  priority: number;
  flags: (keyof typeof SCHED_FLAGS)[];
  /** Nanoseconds (SCHED_DEADLINE). */
  runtime: number;
  deadline: number;
  period: number;
  /** Utilization clamps, 0 to 1024, with their SCHED_FLAG_UTIL_CLAMP_* flags. */
  utilMin?: number;
  utilMax?: number;
}

export const MOUNT_TYPES = ["bind", "tmpfs", "proc", "sysfs", "mqueue", "devpts", "cgroup"] as const;
export type MountType = (typeof MOUNT_TYPES)[number];

export const hasNamespace = (s: ContainerSpec, type: Namespace) => s.linux.namespaces.some((n) => n.type === type);

/** Docker's lists: kernel interfaces that leak host information or control the host. */
export const DEFAULT_MASKED_PATHS = [
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/acpi/",
  "/proc/asound/",
  "/proc/scsi/",
  "/sys/firmware/",
  "/sys/devices/virtual/powercap/",
];
export const DEFAULT_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
