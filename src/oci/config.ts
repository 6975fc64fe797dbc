// The second front end of the spec: an OCI bundle's config.json (runtime-spec 1.1, Linux),
// read and checked into the same ContainerSpec the docker-style flags make, plus what
// mycfs decides around the child (cgroup, limits, the terminal). Every field mycfs
// honours is read; a field it knows but cannot honour is refused with one line naming
// it, never ignored; fields the spec does not define are ignored, as the spec requires.
// Pure: what it needs of the host (is a bind's source a directory, the seccomp compiler)
// comes in as functions, so that the conversion is tested as data.
import { type DeviceRule, ALL_DEVICES, DEFAULT_DEVICE_RULES } from "../cgroups/devices";
import type { Limits } from "../cgroups/limits";
import { CAPABILITIES } from "../container/caps";
import type { Device } from "../container/devices";
import { MOUNT_FLAGS, PROPAGATION, RECURSIVE_FLAGS } from "../container/mounts";
import { SECCOMP_FILTER_FLAG } from "../plan/ops";
import { RLIMITS, type Rlimit } from "../container/rlimits";
import { idRanges, type Userns } from "../container/userns";
import { MycfsError } from "../errors";
import { EXIT_OCI } from "./state";
import type { Hook, Hooks } from "./hooks";
import { ACTIONS, type Action, type ArgCondition, OPS, type Profile, type Rule } from "../seccomp/profile";
import {
  type ContainerSpec,
  type IdMapping,
  IO_PRIORITY_CLASSES,
  type IoPriorityClass,
  type Mount,
  type MountType,
  type Namespace,
  ROOT_PROPAGATIONS,
  type RootPropagation,
  SCHED_FLAGS,
  SCHED_POLICIES,
  type Scheduler,
  TIME_CLOCKS,
  type TimeClock,
} from "../spec/spec";

export class ConfigError extends MycfsError {
  constructor(field: string, why: string) {
    super(`config.json: ${field}: ${why}`, EXIT_OCI);
  }
}

export interface OciContainer {
  spec: ContainerSpec;
  /** The root file system's directory, absolute (relative paths are the bundle's). */
  rootfs: string;
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  /** As given; src/oci/cgroup.ts places it. */
  cgroupsPath?: string;
  limits: Limits;
  /** What linux.resources sets beyond `limits`. */
  cgroupFiles: CgroupFile[];
  deviceRules: readonly DeviceRule[];
  /** memory.checkBeforeUpdate: `update` refuses a memory limit below the usage. */
  memoryCheckBeforeUpdate?: true;
  userns?: Userns;
  annotations: Record<string, string>;
  hooks: Hooks;
  /** linux.seccomp's listener, where an action is SCMP_ACT_NOTIFY. */
  seccompListener?: SeccompListener;
  /** What mycfs does otherwise than asked, where runc warns too: for stderr. */
  warnings: string[];
  /** What it does otherwise than asked where runc says nothing: for --debug. */
  notes: string[];
}

export interface HostLookups {
  /** Whether a host path is a directory (undefined: it does not exist). */
  isDir(path: string): boolean | undefined;
  /** The profile compiled for this machine. */
  compileSeccomp(profile: Profile): Uint8Array;
  /** Why seccomp(2) refuses these SECCOMP_FILTER_FLAG_*s (its errno's words), or undefined. */
  seccompFlagsRefused(flags: number): string | undefined;
  /** What the root file system has at a path, resolved inside it without following a
   * symlink: nothing, an empty directory, a directory with entries, or something else. */
  underRoot(rootfs: string, path: string): "absent" | "empty" | "nonempty" | "other";
}

type Json = Record<string, unknown>;

const NOT_HONOURED = "not honoured by mycfs; remove it from config.json";

/** The checks every field goes through: its type, and a refusal that names it. */
class Reader {
  obj(v: unknown, field: string): Json | undefined {
    if (v == null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw new ConfigError(field, "expected an object");
    return v as Json;
  }
  arr(v: unknown, field: string): unknown[] {
    if (v == null) return [];
    if (!Array.isArray(v)) throw new ConfigError(field, "expected an array");
    return v;
  }
  str(v: unknown, field: string): string | undefined {
    if (v == null) return undefined;
    if (typeof v !== "string") throw new ConfigError(field, "expected a string");
    return v;
  }
  strs(v: unknown, field: string): string[] {
    return this.arr(v, field).map((s, i) => this.str(s, `${field}[${i}]`) ?? "");
  }
  int(v: unknown, field: string, min = 0, max = 2 ** 32 - 1): number | undefined {
    if (v == null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(field, `expected an integer from ${min} to ${max}`);
    return v;
  }
  bool(v: unknown, field: string): boolean {
    if (v == null) return false;
    if (typeof v !== "boolean") throw new ConfigError(field, "expected true or false");
    return v;
  }
  /** A field that must be absent or empty: mycfs cannot do what it asks. */
  refuse(v: unknown, field: string, why = NOT_HONOURED) {
    const empty =
      v == null || v === "" || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v as object).length === 0);
    if (!empty) throw new ConfigError(field, why);
  }
}

const r = new Reader();

const absolute = (path: string, field: string): string => {
  if (!path.startsWith("/")) throw new ConfigError(field, `${JSON.stringify(path)} is not an absolute path`);
  return path;
};

const joinBundle = (bundle: string, path: string) => (path.startsWith("/") ? path : `${bundle.replace(/\/$/, "")}/${path}`);

export function readConfig(json: string, bundle: string, host: HostLookups): OciContainer {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new MycfsError(`config.json: not valid JSON (${(e as Error).message})`, EXIT_OCI);
  }
  const top = r.obj(raw, "config.json") ?? {};
  const version = r.str(top.ociVersion, "ociVersion");
  if (!version || !/^1\.\d+\.\d+/.test(version)) throw new ConfigError("ociVersion", `${JSON.stringify(version ?? null)}: expected a 1.x version`);
  const root = r.obj(top.root, "root");
  const rootPath = r.str(root?.path, "root.path");
  if (!rootPath) throw new ConfigError("root.path", "missing; give the root file system's directory");
  const proc = r.obj(top.process, "process");
  if (!proc) throw new ConfigError("process", "missing; mycfs runs a process");
  const linux = r.obj(top.linux, "linux") ?? {};
  for (const field of ["solaris", "windows", "vm", "zos"]) r.refuse(top[field], field, "not for Linux");
  const hooks = readHooks(r.obj(top.hooks, "hooks"));
  const namespaces = readNamespaces(linux);
  const has = (t: Namespace) => namespaces.some((n) => n.type === t);
  const userns = has("user");
  const joinedUser = namespaces.find((n) => n.type === "user")?.path;
  const given = { uid: readMappings(linux.uidMappings, "linux.uidMappings"), gid: readMappings(linux.gidMappings, "linux.gidMappings") };
  // a joined user namespace has its maps already (containerd and CRI-O pass them too: runc
  // takes them if they match; mycfs cannot look, and writes none)
  const nsWarnings =
    joinedUser && (given.uid.length || given.gid.length)
      ? [`config.json: linux.uidMappings, linux.gidMappings: ignored; the user namespace joined at ${joinedUser} has its own`]
      : [];
  const [uidMappings, gidMappings] = joinedUser ? [[], []] : [given.uid, given.gid];
  if (userns && !joinedUser && (!uidMappings.length || !gidMappings.length))
    throw new ConfigError("linux.uidMappings", "a user namespace needs uid and gid mappings");
  if (!userns && (uidMappings.length || gidMappings.length)) throw new ConfigError("linux.uidMappings", "mappings need a user namespace in linux.namespaces");
  const timeOffsets = readTimeOffsets(
    r.obj(linux.timeOffsets, "linux.timeOffsets"),
    namespaces.find((n) => n.type === "time"),
  );
  const hostname = r.str(top.hostname, "hostname") ?? "";
  const domainname = r.str(top.domainname, "domainname");
  if ((hostname || domainname) && !has("uts"))
    throw new ConfigError(hostname ? "hostname" : "domainname", "needs a uts namespace of its own in linux.namespaces");
  const p = readProcess(proc);
  const resources = r.obj(linux.resources, "linux.resources");
  const limits = readResources(resources);
  for (const field of ["intelRdt", "mountLabel", "memoryPolicy", "netDevices"]) r.refuse(linux[field], `linux.${field}`);
  const personality = readPersonality(r.obj(linux.personality, "linux.personality"));
  // slave, rslave: every mount a slave of the host's (a non-recursive slave would leave
  // the others shared, and the container's mounts would reach the host); shared and
  // unbindable: the root made so once it is the root (plan.ts)
  const propagation = r.str(linux.rootfsPropagation, "linux.rootfsPropagation");
  if (propagation && !["private", "rprivate", "slave", ...ROOT_PROPAGATIONS].includes(propagation))
    throw new ConfigError("linux.rootfsPropagation", `${propagation}: expected private, slave, shared or unbindable (or one with r before it)`);
  const rootfsPropagation: RootPropagation | undefined = propagation === "slave" ? "rslave" : ROOT_PROPAGATIONS.find((p) => p === propagation);
  const sysctl = readSysctl(r.obj(linux.sysctl, "linux.sysctl"), has("network"));
  const rootfs = joinBundle(bundle, rootPath);
  const mounts = r
    .arr(top.mounts, "mounts")
    .map((m, i) => readMount(m, `mounts[${i}]`, bundle, rootfs, host, userns && !joinedUser ? { uidMappings, gidMappings } : undefined));
  const seccomp = r.obj(linux.seccomp, "linux.seccomp");
  const profile = seccomp ? readSeccomp(seccomp) : undefined;
  const filter = seccomp && profile ? readSeccompFlags(seccomp, profile, host) : undefined;
  const spec: ContainerSpec = {
    process: { ...p.process, capabilities: p.capabilities },
    root: { readonly: r.bool(root?.readonly, "root.readonly") },
    hostname,
    ...(domainname ? { domainname } : {}),
    mounts,
    linux: {
      namespaces,
      uidMappings,
      gidMappings,
      devices: r.arr(linux.devices, "linux.devices").map((d, i) => readDevice(d, `linux.devices[${i}]`)),
      seccomp: profile ? host.compileSeccomp(profile) : null,
      ...(filter?.flags ? { seccompFlags: filter.flags } : {}),
      maskedPaths: r.strs(linux.maskedPaths, "linux.maskedPaths").map((m, i) => absolute(m, `linux.maskedPaths[${i}]`)),
      readonlyPaths: r.strs(linux.readonlyPaths, "linux.readonlyPaths").map((m, i) => absolute(m, `linux.readonlyPaths[${i}]`)),
      ...(sysctl ? { sysctl } : {}),
      ...(timeOffsets ? { timeOffsets } : {}),
      ...(personality ? { personality } : {}),
      ...(rootfsPropagation ? { rootfsPropagation } : {}),
    },
    mycfs: { init: false, pivot: true, systemMounts: false },
  };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.obj(top.annotations, "annotations") ?? {})) annotations[k] = r.str(v, `annotations.${k}`) ?? "";
  return {
    spec,
    rootfs,
    terminal: p.terminal,
    ...(p.consoleSize ? { consoleSize: p.consoleSize } : {}),
    ...(typeof linux.cgroupsPath === "string" && linux.cgroupsPath ? { cgroupsPath: linux.cgroupsPath } : {}),
    limits,
    cgroupFiles: resourceFiles(resources, p.warnings),
    deviceRules: readDeviceRules(resources),
    ...(checkBeforeUpdate(resources) ? { memoryCheckBeforeUpdate: true as const } : {}),
    ...(userns && !joinedUser ? { userns: { uids: idRanges(uidMappings), gids: idRanges(gidMappings) } } : {}),
    annotations,
    hooks,
    ...(filter?.listener ? { seccompListener: filter.listener } : {}),
    warnings: [...nsWarnings, ...p.warnings],
    notes: p.notes,
  };
}

/** The hooks mycfs runs (hooks.ts). */
function readHooks(hooks: Json | undefined): Hooks {
  const list = (name: keyof Hooks): Hook[] =>
    r.arr(hooks?.[name], `hooks.${name}`).map((h, i) => {
      const field = `hooks.${name}[${i}]`;
      const o = r.obj(h, field) ?? {};
      const path = absolute(r.str(o.path, `${field}.path`) ?? "", `${field}.path`);
      const args = o.args == null ? undefined : r.strs(o.args, `${field}.args`);
      const env = o.env == null ? undefined : r.strs(o.env, `${field}.env`);
      for (const [j, e] of (env ?? []).entries()) if (!e.includes("=")) throw new ConfigError(`${field}.env[${j}]`, `${JSON.stringify(e)}: expected KEY=VALUE`);
      const timeout = r.int(o.timeout, `${field}.timeout`, 1);
      return { path, ...(args ? { args } : {}), ...(env ? { env } : {}), ...(timeout ? { timeout } : {}) };
    });
  return {
    prestart: list("prestart"),
    createRuntime: list("createRuntime"),
    createContainer: list("createContainer"),
    startContainer: list("startContainer"),
    poststart: list("poststart"),
    poststop: list("poststop"),
  };
}

const NAMESPACE_TYPES: Record<string, Namespace> = {
  pid: "pid",
  network: "network",
  mount: "mount",
  ipc: "ipc",
  uts: "uts",
  user: "user",
  cgroup: "cgroup",
  time: "time",
};

/** The namespaces, new or joined by path (the path is checked to be one of that type when
 * create opens it). */
function readNamespaces(linux: Json): { type: Namespace; path?: string }[] {
  const list = r.arr(linux.namespaces, "linux.namespaces").map((n, i) => {
    const field = `linux.namespaces[${i}]`;
    const o = r.obj(n, field) ?? {};
    const typeName = r.str(o.type, `${field}.type`) ?? "";
    const type = NAMESPACE_TYPES[typeName];
    if (!type) throw new ConfigError(`${field}.type`, `${JSON.stringify(typeName)}: unknown namespace type`);
    const path = r.str(o.path, `${field}.path`);
    // runc would set the root up in it: its pivot_root moves the root of every process of
    // that namespace, and the old root's detach leaves them in the container's
    if (path && type === "mount")
      throw new ConfigError(
        `${field}.path`,
        "joining a mount namespace is not honoured by mycfs (the container's root is set up in a new one); remove the path",
      );
    return path ? { type, path: absolute(path, `${field}.path`) } : { type };
  });
  const seen = new Set<string>();
  for (const [i, n] of list.entries()) {
    if (seen.has(n.type)) throw new ConfigError(`linux.namespaces[${i}]`, `a second ${n.type} namespace`);
    seen.add(n.type);
  }
  if (!seen.has("mount")) throw new ConfigError("linux.namespaces", "mycfs needs a mount namespace of the container's own");
  // the clone makes a new user namespace, whose root may join no namespace made outside it
  const joined = list.findIndex((n) => n.path);
  if (list.some((n) => n.type === "user" && !n.path) && joined >= 0)
    throw new ConfigError(
      `linux.namespaces[${joined}].path`,
      "joining a namespace together with a new user namespace is not honoured by mycfs; join the user namespace by path too, or make this one new",
    );
  return list;
}

/** A new time namespace's offsets, by clock. */
function readTimeOffsets(o: Json | undefined, time: { path?: string } | undefined): ContainerSpec["linux"]["timeOffsets"] {
  if (!o || !Object.keys(o).length) return undefined;
  if (!time || time.path)
    throw new ConfigError(
      "linux.timeOffsets",
      time ? "a time namespace joined by path keeps its own offsets; remove them" : "needs a new time namespace in linux.namespaces",
    );
  const offsets: ContainerSpec["linux"]["timeOffsets"] = {};
  for (const [clock, v] of Object.entries(o)) {
    const field = `linux.timeOffsets.${clock}`;
    if (!(TIME_CLOCKS as readonly string[]).includes(clock))
      throw new ConfigError(field, `unknown clock; a time namespace offsets ${TIME_CLOCKS.join(" and ")}`);
    const c = r.obj(v, field) ?? {};
    offsets[clock as TimeClock] = {
      secs: r.int(c.secs, `${field}.secs`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) ?? 0,
      nanosecs: r.int(c.nanosecs, `${field}.nanosecs`, 0, 999_999_999) ?? 0,
    };
  }
  return offsets;
}

function readMappings(v: unknown, field: string): IdMapping[] {
  return r.arr(v, field).map((m, i) => {
    const o = r.obj(m, `${field}[${i}]`) ?? {};
    const f = (k: string) => {
      const n = r.int(o[k], `${field}[${i}].${k}`);
      if (n === undefined) throw new ConfigError(`${field}[${i}].${k}`, "missing");
      return n;
    };
    const mapping = { containerID: f("containerID"), hostID: f("hostID"), size: f("size") };
    if (mapping.size === 0) throw new ConfigError(`${field}[${i}].size`, "must be at least 1");
    return mapping;
  });
}

/** A process object: config.json's, or runc exec's --process file. */
export function readProcess(proc: Json) {
  const warnings: string[] = [];
  const notes: string[] = [];
  const args = r.strs(proc.args, "process.args");
  if (!args.length || !args[0]) throw new ConfigError("process.args", "missing; give the command to run");
  r.refuse(proc.commandLine, "process.commandLine", "is for Windows; give process.args");
  const cwd = absolute(r.str(proc.cwd, "process.cwd") ?? "/", "process.cwd");
  const env = r.strs(proc.env, "process.env");
  for (const [i, e] of env.entries()) if (!e.includes("=")) throw new ConfigError(`process.env[${i}]`, `${JSON.stringify(e)}: expected KEY=VALUE`);
  const user = r.obj(proc.user, "process.user") ?? {};
  const uid = r.int(user.uid, "process.user.uid") ?? 0;
  const gid = r.int(user.gid, "process.user.gid") ?? 0;
  r.refuse(user.username, "process.user.username", "is for Windows; give uid and gid");
  const additionalGids = r.arr(user.additionalGids, "process.user.additionalGids").map((g, i) => r.int(g, `process.user.additionalGids[${i}]`)!);
  const umask = r.int(user.umask, "process.user.umask", 0, 0o777);
  for (const field of ["apparmorProfile", "selinuxLabel"])
    r.refuse(proc[field], `process.${field}`, "this host's mycfs applies no LSM profile or label; remove it from config.json");
  r.refuse(proc.execCPUAffinity, "process.execCPUAffinity");
  const ioPriority = readIoPriority(r.obj(proc.ioPriority, "process.ioPriority"));
  const scheduler = readScheduler(r.obj(proc.scheduler, "process.scheduler"));
  const oomScoreAdj = r.int(proc.oomScoreAdj, "process.oomScoreAdj", -1000, 1000);
  const consoleObj = r.obj(proc.consoleSize, "process.consoleSize");
  const consoleSize = consoleObj && {
    height: r.int(consoleObj.height, "process.consoleSize.height") ?? 0,
    width: r.int(consoleObj.width, "process.consoleSize.width") ?? 0,
  };
  return {
    process: {
      args,
      env,
      cwd,
      // HOME is in the env an engine writes; without one, "/" (runc reads the image's passwd)
      user: { uid, gid, additionalGids, home: "/" },
      rlimits: r.arr(proc.rlimits, "process.rlimits").map((l, i) => readRlimit(l, `process.rlimits[${i}]`)),
      noNewPrivileges: r.bool(proc.noNewPrivileges, "process.noNewPrivileges"),
      ...(umask === undefined ? {} : { umask }),
      ...(oomScoreAdj === undefined ? {} : { oomScoreAdj }),
      ...(ioPriority ? { ioPriority } : {}),
      ...(scheduler ? { scheduler } : {}),
    },
    capabilities: readCapabilities(r.obj(proc.capabilities, "process.capabilities"), notes),
    terminal: r.bool(proc.terminal, "process.terminal"),
    consoleSize,
    warnings,
    notes,
  };
}

function readRlimit(v: unknown, field: string): Rlimit {
  const o = r.obj(v, field) ?? {};
  const type = r.str(o.type, `${field}.type`) ?? "";
  const name = type.replace(/^RLIMIT_/, "").toLowerCase();
  const resource = RLIMITS[name];
  if (!type.startsWith("RLIMIT_") || resource === undefined)
    throw new ConfigError(`${field}.type`, `${JSON.stringify(type)}: unknown resource (RLIMIT_NOFILE, RLIMIT_NPROC…)`);
  // u64 in the spec; 2^64-1 (RLIM_INFINITY) arrives as a double above 2^53
  const value = (k: "soft" | "hard") => {
    const n = o[k];
    if (typeof n !== "number" || n < 0 || !Number.isFinite(n)) throw new ConfigError(`${field}.${k}`, "expected a number from 0");
    return n >= 2 ** 63 ? -1 : n;
  };
  const soft = value("soft"),
    hard = value("hard");
  if (hard !== -1 && (soft === -1 || soft > hard)) throw new ConfigError(field, "soft is above hard");
  return { name, resource, soft, hard };
}

function readIoPriority(o: Json | undefined): ContainerSpec["process"]["ioPriority"] {
  if (!o) return undefined;
  const cls = r.str(o.class, "process.ioPriority.class") as IoPriorityClass;
  if (!IO_PRIORITY_CLASSES.includes(cls))
    throw new ConfigError("process.ioPriority.class", `${JSON.stringify(cls ?? null)}: expected ${IO_PRIORITY_CLASSES.join(", ")}`);
  return { class: cls, priority: r.int(o.priority, "process.ioPriority.priority", 0, 7) ?? 0 };
}

function readScheduler(o: Json | undefined): Scheduler | undefined {
  if (!o) return undefined;
  const f = "process.scheduler";
  const policy = r.str(o.policy, `${f}.policy`) as Scheduler["policy"];
  if (!(policy in SCHED_POLICIES))
    throw new ConfigError(`${f}.policy`, `${JSON.stringify(policy ?? null)}: mycfs sets ${Object.keys(SCHED_POLICIES).join(", ")}`);
  const flags = r.strs(o.flags, `${f}.flags`).map((name, i) => {
    if (!(name in SCHED_FLAGS)) throw new ConfigError(`${f}.flags[${i}]`, `${name}: ${NOT_HONOURED}`);
    return name as keyof typeof SCHED_FLAGS;
  });
  const u64 = (k: string) => r.int(o[k], `${f}.${k}`, 0, Number.MAX_SAFE_INTEGER) ?? 0;
  // the clamps' values (0 to 1024) go with their flags
  const clamp = (k: "utilMin" | "utilMax", flag: keyof typeof SCHED_FLAGS) => {
    const n = r.int(o[k], `${f}.${k}`, 0, 1024);
    if (n !== undefined && !flags.includes(flag)) throw new ConfigError(`${f}.${k}`, `needs ${flag} in ${f}.flags`);
    return n === undefined ? {} : { [k]: n };
  };
  return {
    policy,
    nice: r.int(o.nice, `${f}.nice`, -20, 19) ?? 0,
    priority: r.int(o.priority, `${f}.priority`, 0, 99) ?? 0,
    flags,
    runtime: u64("runtime"),
    deadline: u64("deadline"),
    period: u64("period"),
    ...clamp("utilMin", "SCHED_FLAG_UTIL_CLAMP_MIN"),
    ...clamp("utilMax", "SCHED_FLAG_UTIL_CLAMP_MAX"),
  };
}

function readPersonality(o: Json | undefined): "LINUX" | "LINUX32" | undefined {
  if (!o) return undefined;
  const domain = r.str(o.domain, "linux.personality.domain");
  if (domain !== "LINUX" && domain !== "LINUX32")
    throw new ConfigError("linux.personality.domain", `${JSON.stringify(domain ?? null)}: expected LINUX or LINUX32`);
  r.refuse(o.flags, "linux.personality.flags");
  return domain;
}

const CAP_SETS = ["bounding", "effective", "permitted", "inheritable", "ambient"] as const;

/** The five sets; mycfs sets effective as permitted. An ambient capability the kernel
 * cannot raise (not permitted and inheritable: `runc spec`'s default asks for three) is
 * left out with a warning, as runc warns and goes on. */
/** An ambient capability that is not also permitted and inheritable, which the kernel
 * refuses to raise, is left out, as runc leaves it out without a word (`runc spec` asks
 * for three such): a note for --debug. */
function readCapabilities(caps: Json | undefined, notes: string[]): ContainerSpec["process"]["capabilities"] {
  const sets = Object.fromEntries(
    CAP_SETS.map((set) => [
      set,
      r.strs(caps?.[set], `process.capabilities.${set}`).map((name, i) => {
        const short = name.replace(/^CAP_/, "");
        if (!name.startsWith("CAP_") || !(CAPABILITIES as readonly string[]).includes(short))
          throw new ConfigError(`process.capabilities.${set}[${i}]`, `${JSON.stringify(name)}: unknown capability`);
        return short;
      }),
    ]),
  ) as Record<(typeof CAP_SETS)[number], string[]>;
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((c) => b.includes(c));
  if (!same(sets.effective, sets.permitted))
    throw new ConfigError("process.capabilities.effective", "differs from permitted; mycfs makes the effective set the permitted one");
  const raisable = sets.ambient.filter((c) => sets.permitted.includes(c) && sets.inheritable.includes(c));
  const dropped = sets.ambient.filter((c) => !raisable.includes(c));
  if (dropped.length)
    notes.push(
      `config.json: process.capabilities.ambient: ${dropped.map((c) => `CAP_${c}`).join(", ")} not raised: an ambient capability must be permitted and inheritable too`,
    );
  return { bounding: sets.bounding, permitted: sets.permitted, inheritable: sets.inheritable, ...(raisable.length ? { ambient: raisable } : {}) };
}

const KERNEL_TYPES: readonly MountType[] = ["tmpfs", "proc", "sysfs", "mqueue", "devpts", "cgroup"];
/** crun's own options. */
const REFUSED_OPTIONS = /^(copy-symlink|src-nofollow|dest-nofollow)$/;
const IDMAP_OPTIONS = ["idmap", "ridmap"];

function readMount(v: unknown, field: string, bundle: string, rootfs: string, host: HostLookups, userns: IdMaps | undefined): Mount {
  const o = r.obj(v, field) ?? {};
  const destination = r.str(o.destination, `${field}.destination`);
  if (!destination) throw new ConfigError(`${field}.destination`, "missing");
  // runc reads a relative destination below the root, as `/` joined with it
  const dest = destination.startsWith("/") ? destination : `/${destination}`;
  const options = r.strs(o.options, `${field}.options`);
  for (const [i, opt] of options.entries()) if (REFUSED_OPTIONS.test(opt)) throw new ConfigError(`${field}.options[${i}]`, `${opt}: ${NOT_HONOURED}`);
  const given = r.str(o.type, `${field}.type`) ?? "";
  const bind = given === "bind" || options.includes("bind") || options.includes("rbind");
  const type: MountType | undefined = bind ? "bind" : given === "cgroup2" ? "cgroup" : KERNEL_TYPES.find((t) => t === given);
  if (!type) throw new ConfigError(`${field}.type`, `${JSON.stringify(given)}: mycfs mounts bind, ${KERNEL_TYPES.join(", ")}`);
  if ((dest === "/proc" || dest.startsWith("/proc/")) && type !== "proc")
    throw new ConfigError(`${field}.destination`, `${dest}: only a proc file system may be mounted there (runc CVE-2019-19921)`);
  // the container's cgroup directories are bound as mycfs decides (cgroupMounts)
  const recursive = options.findIndex((x) => RECURSIVE_FLAGS.has(x));
  if (type === "cgroup" && recursive >= 0) throw new ConfigError(`${field}.options[${recursive}]`, `${options[recursive]}: not an option of a cgroup mount`);
  const idmap = readIdmap(o, options, field, type, userns);
  const flags = options.filter((x) => !MOUNT_FLAGS.has(x) && !PROPAGATION.has(x) && !RECURSIVE_FLAGS.has(x) && !IDMAP_OPTIONS.includes(x));
  if (type === "bind") {
    if (flags.length) throw new ConfigError(`${field}.options`, `${flags.join(",")}: not an option of a bind mount`);
    const source = joinBundle(bundle, r.str(o.source, `${field}.source`) ?? "");
    const dir = host.isDir(source);
    if (dir === undefined) throw new ConfigError(`${field}.source`, `${source} does not exist`);
    const kept = options.filter((x) => !IDMAP_OPTIONS.includes(x));
    return { destination: dest, type, source, options: kept, ...(dir ? {} : { file: true }), ...(idmap ? { idmap } : {}) };
  }
  // crun's and runc's tmpcopyup: the tmpfs starts with a copy of what the root has there.
  // mycfs makes no copy, so it takes the option only where there is nothing to copy
  // (podman's --read-only puts it on /tmp, /var/tmp and /run, empty in most images).
  const copyup = options.indexOf("tmpcopyup");
  if (copyup >= 0) {
    if (type !== "tmpfs") throw new ConfigError(`${field}.options[${copyup}]`, "tmpcopyup is an option of a tmpfs");
    const under = host.underRoot(rootfs, dest);
    if (under === "nonempty" || under === "other")
      throw new ConfigError(
        `${field}.options[${copyup}]`,
        `tmpcopyup: the root's ${dest} is ${under === "nonempty" ? "not empty" : "no plain directory"}, and mycfs copies nothing into a tmpfs; remove the option or the files`,
      );
  }
  const kept = copyup >= 0 ? options.filter((x) => x !== "tmpcopyup") : options;
  return { destination: dest, type, source: r.str(o.source, `${field}.source`) ?? type, options: kept };
}

type IdMaps = { uidMappings: IdMapping[]; gidMappings: IdMapping[] };

/** runtime-spec 1.1's id-mapped bind: the mount's own mappings, or with idmap or ridmap
 * alone the container's user namespace's; ridmap maps the mounts below the source too. */
function readIdmap(o: Json, options: string[], field: string, type: MountType, userns: IdMaps | undefined): Mount["idmap"] {
  const uidMappings = readMappings(o.uidMappings, `${field}.uidMappings`);
  const gidMappings = readMappings(o.gidMappings, `${field}.gidMappings`);
  const option = options.findIndex((x) => IDMAP_OPTIONS.includes(x));
  if (option < 0 && !uidMappings.length && !gidMappings.length) return undefined;
  const at = option >= 0 ? `${field}.options[${option}]` : `${field}.${uidMappings.length ? "uidMappings" : "gidMappings"}`;
  if (type !== "bind") throw new ConfigError(at, "an id-mapped mount is a bind; give type bind or the option rbind");
  if (!uidMappings.length !== !gidMappings.length)
    throw new ConfigError(`${field}.${uidMappings.length ? "gidMappings" : "uidMappings"}`, "an id-mapped mount needs both uidMappings and gidMappings");
  const maps = uidMappings.length ? { uidMappings, gidMappings } : userns;
  if (!maps)
    throw new ConfigError(at, "without uidMappings and gidMappings of its own, an id-mapped mount takes those of a new user namespace in linux.namespaces");
  return { ...maps, recursive: options.includes("ridmap") };
}

const S_IFCHR = 0o020000,
  S_IFBLK = 0o060000;

function readDevice(v: unknown, field: string): Device {
  const o = r.obj(v, field) ?? {};
  const path = absolute(r.str(o.path, `${field}.path`) ?? "", `${field}.path`);
  const type = r.str(o.type, `${field}.type`);
  if (type !== "c" && type !== "u" && type !== "b") throw new ConfigError(`${field}.type`, `${JSON.stringify(type ?? null)}: mycfs makes c, u and b devices`);
  const major = r.int(o.major, `${field}.major`);
  const minor = r.int(o.minor, `${field}.minor`);
  if (major === undefined || minor === undefined) throw new ConfigError(field, "needs major and minor");
  // engines give the node's whole st_mode (podman: 0o20666); its type is `type`'s
  const mode = (r.int(o.fileMode, `${field}.fileMode`, 0, 0o177777) ?? 0o666) & 0o7777;
  if (r.int(o.uid, `${field}.uid`) || r.int(o.gid, `${field}.gid`))
    throw new ConfigError(`${field}.uid`, "device nodes owned by another user than root are not honoured by mycfs");
  return { host: path, container: path, mode: (type === "b" ? S_IFBLK : S_IFCHR) | mode, major, minor };
}

/** The device cgroup's rules, in order: runc's defaults (the nodes every container has),
 * then the config's, the last that matches a request deciding it (runc's semantics). A
 * type a rule starts afresh: deny-all from the defaults (engines begin with it; the
 * defaults stay, as runc appends them), allow-all from every device. The defaults come
 * first, so that a config's deny rule can take one of them away (runc's appended
 * defaults would allow it again). Whether cgroup v1 can honour them: create.ts. */
function readDeviceRules(res: Json | undefined): readonly DeviceRule[] {
  let rules: DeviceRule[] = [];
  for (const [i, d] of r.arr(res?.devices, "linux.resources.devices").entries()) {
    const field = `linux.resources.devices[${i}]`;
    const o = r.obj(d, field) ?? {};
    const allow = r.bool(o.allow, `${field}.allow`);
    const type = (r.str(o.type, `${field}.type`) ?? "a") as DeviceRule["type"];
    if (!["a", "b", "c"].includes(type)) throw new ConfigError(`${field}.type`, `${JSON.stringify(type)}: expected a, b or c`);
    const access = r.str(o.access, `${field}.access`) ?? "rwm";
    if (!/^r?w?m?$/.test(access) || !access) throw new ConfigError(`${field}.access`, `${JSON.stringify(access)}: expected letters of rwm in that order`);
    const major = r.int(o.major, `${field}.major`, -1) ?? -1;
    const minor = r.int(o.minor, `${field}.minor`, -1) ?? -1;
    if (type === "a") rules = allow ? [ALL_DEVICES] : [];
    else rules.push({ type, major, minor, access, ...(allow ? {} : { deny: true as const }) });
  }
  if (rules[0] === ALL_DEVICES) return rules;
  return rules.length ? [...DEFAULT_DEVICE_RULES, ...rules] : DEFAULT_DEVICE_RULES;
}

/** linux.resources as Limits (runc update -r reads the same object). */
export function readResources(res: Json | undefined): Limits {
  const l: Limits = {};
  if (!res) return l;
  // (unified, hugepageLimits, rdma, network, the memory and cpu files beyond these: resourceFiles)
  const mem = r.obj(res.memory, "linux.resources.memory");
  if (mem) {
    const limit = r.int(mem.limit, "linux.resources.memory.limit", -1, Number.MAX_SAFE_INTEGER);
    if (limit !== undefined && limit > 0) l.memory = limit;
    const swap = r.int(mem.swap, "linux.resources.memory.swap", -1, Number.MAX_SAFE_INTEGER);
    if (swap !== undefined && swap !== 0) {
      if (l.memory === undefined) throw new ConfigError("linux.resources.memory.swap", "needs memory.limit as well");
      l.memorySwap = swap;
    }
  }
  const cpu = r.obj(res.cpu, "linux.resources.cpu");
  if (cpu) {
    const shares = r.int(cpu.shares, "linux.resources.cpu.shares", 0, 262144);
    if (shares) l.cpuShares = Math.max(2, shares);
    const quota = r.int(cpu.quota, "linux.resources.cpu.quota", -1, Number.MAX_SAFE_INTEGER);
    const period = r.int(cpu.period, "linux.resources.cpu.period", 0, 1_000_000) || 100_000;
    if (quota !== undefined && quota > 0) l.cpus = quota / period;
    const cpus = r.str(cpu.cpus, "linux.resources.cpu.cpus");
    if (cpus) l.cpusetCpus = cpus;
  }
  const pids = r.obj(res.pids, "linux.resources.pids");
  const pidsLimit = r.int(pids?.limit, "linux.resources.pids.limit", -1, Number.MAX_SAFE_INTEGER);
  if (pidsLimit !== undefined && pidsLimit !== 0) l.pidsLimit = pidsLimit < 0 ? -1 : pidsLimit;
  const blkio = r.obj(res.blockIO, "linux.resources.blockIO");
  if (blkio) {
    // (weightDevice and the throttles: resourceFiles)
    r.refuse(blkio.leafWeight, "linux.resources.blockIO.leafWeight");
    const weight = r.int(blkio.weight, "linux.resources.blockIO.weight", 0, 1000);
    if (weight) l.blkioWeight = weight;
  }
  return l;
}

/** A cgroup file linux.resources sets beyond mycfs's Limits: the controller that holds
 * it, its names on cgroup v1 and v2 (absent: none there), and the field that asked. */
export interface CgroupFile {
  controller: string;
  v1?: string;
  v2?: string;
  value: string;
  /** What v2's file takes, where it differs from v1's (io.max's "MAJ:MIN rbps=N"). */
  v2Value?: string;
  /** v2 does so already, without a file (memory.useHierarchy): nothing written there. */
  v2Implied?: true;
  field: string;
}

/** memory.checkBeforeUpdate, for `update`. */
export const checkBeforeUpdate = (res: Json | undefined): boolean =>
  r.bool(r.obj(res?.memory, "linux.resources.memory")?.checkBeforeUpdate, "linux.resources.memory.checkBeforeUpdate");

/** memory's reservation, swappiness, OOM killer and hierarchy, cpu's mems, realtime
 * bandwidth, idle and burst, blockIO's per-device weights and throttles, hugepageLimits,
 * rdma, network and unified, as files to write, in order. Kernel memory limits are
 * ignored with a warning, as runc 1.2 does: the kernel deprecated them (5.4's v1
 * kmem.limit_in_bytes, gone in 6.x), and v2 has none. */
export function resourceFiles(res: Json | undefined, warnings: string[] = []): CgroupFile[] {
  if (!res) return [];
  const files: CgroupFile[] = [];
  const mem = r.obj(res.memory, "linux.resources.memory");
  for (const field of ["kernel", "kernelTCP"])
    if (r.int(mem?.[field], `linux.resources.memory.${field}`, -1, Number.MAX_SAFE_INTEGER) !== undefined)
      warnings.push(`config.json: linux.resources.memory.${field}: ignored, as runc does: kernel memory limits are deprecated by the kernel`);
  if (r.bool(mem?.disableOOMKiller, "linux.resources.memory.disableOOMKiller"))
    files.push({ controller: "memory", v1: "memory.oom_control", value: "1", field: "linux.resources.memory.disableOOMKiller" });
  if (mem?.useHierarchy != null) {
    const on = r.bool(mem.useHierarchy, "linux.resources.memory.useHierarchy");
    files.push({
      controller: "memory",
      v1: "memory.use_hierarchy",
      value: on ? "1" : "0",
      ...(on ? { v2Implied: true as const } : {}),
      field: "linux.resources.memory.useHierarchy",
    });
  }
  const reservation = r.int(mem?.reservation, "linux.resources.memory.reservation", -1, Number.MAX_SAFE_INTEGER);
  if (reservation !== undefined && reservation !== 0)
    files.push({
      controller: "memory",
      v1: "memory.soft_limit_in_bytes",
      v2: "memory.low",
      value: reservation < 0 ? (reservation === -1 ? "max" : "0") : String(reservation),
      field: "linux.resources.memory.reservation",
    });
  const swappiness = r.int(mem?.swappiness, "linux.resources.memory.swappiness", 0, 100);
  if (swappiness !== undefined)
    files.push({ controller: "memory", v1: "memory.swappiness", value: String(swappiness), field: "linux.resources.memory.swappiness" });
  const cpu = r.obj(res.cpu, "linux.resources.cpu");
  const mems = r.str(cpu?.mems, "linux.resources.cpu.mems");
  if (mems) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(mems))
      throw new ConfigError("linux.resources.cpu.mems", `${mems}: expected memory node numbers and ranges, e.g. 0-1`);
    files.push({ controller: "cpuset", v1: "cpuset.mems", v2: "cpuset.mems", value: mems, field: "linux.resources.cpu.mems" });
  }
  // the period before the runtime, which must fit in it; v2 has no realtime bandwidth
  const cpuFile = (key: string, v1: string | undefined, v2: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const n = r.int(cpu?.[key], `linux.resources.cpu.${key}`, min, max);
    if (n !== undefined) files.push({ controller: "cpu", ...(v1 ? { v1 } : {}), ...(v2 ? { v2 } : {}), value: String(n), field: `linux.resources.cpu.${key}` });
  };
  cpuFile("realtimePeriod", "cpu.rt_period_us", undefined, 1);
  cpuFile("realtimeRuntime", "cpu.rt_runtime_us", undefined, -1);
  // after the quota (mycfs's limits are written first), which the burst may not exceed
  cpuFile("idle", "cpu.idle", "cpu.idle", 0, 1);
  cpuFile("burst", "cpu.cfs_burst_us", "cpu.max.burst", 0);
  const blkio = r.obj(res.blockIO, "linux.resources.blockIO");
  const perDevice = (name: string, v1: string, v2: string, key: "weight" | "rate", v2Value: (n: number) => string) => {
    for (const [i, d] of r.arr(blkio?.[name], `linux.resources.blockIO.${name}`).entries()) {
      const field = `linux.resources.blockIO.${name}[${i}]`;
      const o = r.obj(d, field) ?? {};
      if (name === "weightDevice") r.refuse(o.leafWeight, `${field}.leafWeight`);
      const dev = `${r.int(o.major, `${field}.major`) ?? 0}:${r.int(o.minor, `${field}.minor`) ?? 0}`;
      const n = r.int(o[key], `${field}.${key}`, 0, Number.MAX_SAFE_INTEGER) ?? 0;
      files.push({ controller: "blkio", v1, v2, value: `${dev} ${n}`, v2Value: `${dev} ${v2Value(n)}`, field });
    }
  };
  perDevice("weightDevice", "blkio.weight_device", "io.weight", "weight", (n) => String(n));
  perDevice("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "io.max", "rate", (n) => `rbps=${n}`);
  perDevice("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "io.max", "rate", (n) => `wbps=${n}`);
  perDevice("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "io.max", "rate", (n) => `riops=${n}`);
  perDevice("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "io.max", "rate", (n) => `wiops=${n}`);
  for (const [i, h] of r.arr(res.hugepageLimits, "linux.resources.hugepageLimits").entries()) {
    const field = `linux.resources.hugepageLimits[${i}]`;
    const o = r.obj(h, field) ?? {};
    const size = r.str(o.pageSize, `${field}.pageSize`) ?? "";
    if (!/^\d+[KMG]B$/.test(size)) throw new ConfigError(`${field}.pageSize`, `${JSON.stringify(size)}: expected a size such as 2MB or 1GB`);
    const limit = r.int(o.limit, `${field}.limit`, 0, Number.MAX_SAFE_INTEGER) ?? 0;
    files.push({ controller: "hugetlb", v1: `hugetlb.${size}.limit_in_bytes`, v2: `hugetlb.${size}.max`, value: String(limit), field });
  }
  for (const [dev, v] of Object.entries(r.obj(res.rdma, "linux.resources.rdma") ?? {})) {
    const field = `linux.resources.rdma.${dev}`;
    if (!/^[\w.:-]+$/.test(dev)) throw new ConfigError(field, "not an RDMA device's name");
    const o = r.obj(v, field) ?? {};
    const max = (key: string) => r.int(o[key], `${field}.${key}`) ?? "max";
    files.push({ controller: "rdma", v1: "rdma.max", v2: "rdma.max", value: `${dev} hca_handle=${max("hcaHandles")} hca_object=${max("hcaObjects")}`, field });
  }
  // v1 only: cgroup v2 classifies packets by the cgroup's path instead (runc refuses them there too)
  const net = r.obj(res.network, "linux.resources.network");
  const classID = r.int(net?.classID, "linux.resources.network.classID");
  if (classID !== undefined) files.push({ controller: "net_cls", v1: "net_cls.classid", value: String(classID), field: "linux.resources.network.classID" });
  for (const [i, p] of r.arr(net?.priorities, "linux.resources.network.priorities").entries()) {
    const field = `linux.resources.network.priorities[${i}]`;
    const o = r.obj(p, field) ?? {};
    const name = r.str(o.name, `${field}.name`) ?? "";
    if (!/^[^\s/:]{1,15}$/.test(name)) throw new ConfigError(`${field}.name`, `${JSON.stringify(name)}: not a network interface's name`);
    files.push({ controller: "net_prio", v1: "net_prio.ifpriomap", value: `${name} ${r.int(o.priority, `${field}.priority`) ?? 0}`, field });
  }
  for (const [key, v] of Object.entries(r.obj(res.unified, "linux.resources.unified") ?? {})) {
    const field = `linux.resources.unified.${key}`;
    // a file of the container's own cgroup directory, never a path elsewhere
    if (!/^[a-z]+\.[a-z0-9_.]+$/.test(key)) throw new ConfigError(field, "not a cgroup v2 file's name");
    const value = r.str(v, field) ?? "";
    if (value.includes("\n")) throw new ConfigError(field, "a value of one line");
    files.push({ controller: key.slice(0, key.indexOf(".")), v2: key, value, field });
  }
  return files;
}

/** Namespaced parameters only, as runc allows: a host-wide one would change the host. */
function readSysctl(sysctl: Json | undefined, netns: boolean): Record<string, string> | undefined {
  if (!sysctl) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(sysctl)) {
    const field = `linux.sysctl.${key}`;
    const value = r.str(v, field) ?? "";
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(key)) throw new ConfigError(field, "not a kernel parameter's name");
    const ipc = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+)$/.test(key);
    if (key.startsWith("net.") ? !netns : !ipc)
      throw new ConfigError(
        field,
        key.startsWith("net.") ? "needs a network namespace of the container's own" : "not a namespaced parameter; it would change the host",
      );
    if (value.includes("\n")) throw new ConfigError(field, "a value of one line");
    out[key] = value;
  }
  return out;
}

const SECCOMP_ACTIONS = Object.keys(ACTIONS) as Action[];

/** runtime-spec's seccomp flags, as seccomp(2) takes them. TSYNC would give the filter to
 * the process's other threads, and the child has none: taken, not passed (the kernel
 * refuses it beside NEW_LISTENER). */
export const SECCOMP_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/** Where mycfs sends the filter's notification fd with the container process state. */
export interface SeccompListener {
  path: string;
  metadata?: string;
}

/** The filter's flags, and the listener that SCMP_ACT_NOTIFY needs (which makes the
 * filter NEW_LISTENER's; runtime-spec ignores a listener nothing is notified to). The
 * kernel is asked up front whether it takes the flags: the child loads the filter once
 * `create` has returned, too late to name one it refuses. */
function readSeccompFlags(s: Json, profile: Profile, host: HostLookups): { flags: number; listener?: SeccompListener } {
  const f = "linux.seccomp";
  const names = r.strs(s.flags, `${f}.flags`);
  const given = names.map((name, i) => {
    const flag = SECCOMP_FLAGS[name];
    if (flag === undefined)
      throw new ConfigError(`${f}.flags[${i}]`, `${JSON.stringify(name)}: unknown flag (known: ${Object.keys(SECCOMP_FLAGS).join(", ")})`);
    return flag;
  });
  const { flags, listener } = notifyListener(s, profile);
  const all = given.reduce((a, b) => a | b, flags);
  const refused = all ? host.seccompFlagsRefused(all) : undefined;
  if (refused) {
    // the one refused beside the listener's flag, else the set of them
    const i = given.findIndex((flag) => host.seccompFlagsRefused(flag | flags));
    const needsListener = given[i] === SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV && !flags ? "; it needs SCMP_ACT_NOTIFY's listener" : "";
    throw new ConfigError(
      i >= 0 ? `${f}.flags[${i}]` : `${f}.flags`,
      `${i >= 0 ? names[i] : names.join(", ")}: this kernel's seccomp(2) refuses it (${refused})${needsListener}`,
    );
  }
  return { flags: all, ...(listener ? { listener } : {}) };
}

/** SCMP_ACT_NOTIFY's listener, and the flag that makes its fd; none where no action notifies. */
function notifyListener(s: Json, profile: Profile): { flags: number; listener?: SeccompListener } {
  const f = "linux.seccomp";
  const path = r.str(s.listenerPath, `${f}.listenerPath`);
  const metadata = r.str(s.listenerMetadata, `${f}.listenerMetadata`);
  if (metadata && !path) throw new ConfigError(`${f}.listenerMetadata`, "needs listenerPath");
  const notify = "SCMP_ACT_NOTIFY";
  const rule = profile.syscalls.findIndex((x) => x.action === notify);
  const field = profile.defaultAction === notify ? `${f}.defaultAction` : rule >= 0 ? `${f}.syscalls[${rule}].action` : undefined;
  if (!field) return { flags: 0 };
  if (!path) throw new ConfigError(field, `SCMP_ACT_NOTIFY needs ${f}.listenerPath, the socket its notification fd goes to`);
  // the child hands the fd to mycfs with sendmsg once the filter is in: a notified
  // sendmsg would wait for a listener that never gets it (runc refuses write likewise)
  const sends = profile.syscalls.filter((x) => x.names.includes("sendmsg"));
  const notifiedSend = sends.find((x) => x.action === notify);
  if (notifiedSend || (profile.defaultAction === notify && !sends.some((x) => !x.args?.length)))
    throw new ConfigError(
      notifiedSend ? `${f}.syscalls[${profile.syscalls.indexOf(notifiedSend)}].action` : `${f}.defaultAction`,
      "sendmsg must not be SCMP_ACT_NOTIFY: mycfs hands the listener its fd with sendmsg once the filter is in",
    );
  return { flags: SECCOMP_FILTER_FLAG.NEW_LISTENER, listener: { path, ...(metadata ? { metadata } : {}) } };
}

/** OCI's seccomp object is docker's profile without its includes and excludes. */
export function readSeccomp(s: Json): Profile {
  const f = "linux.seccomp";
  const action = (v: unknown, field: string): Action => {
    const a = r.str(v, field);
    if (!a || !SECCOMP_ACTIONS.includes(a as Action)) throw new ConfigError(field, `${JSON.stringify(a ?? null)}: unknown action`);
    return a as Action;
  };
  const defaultAction = action(s.defaultAction, `${f}.defaultAction`);
  const architectures = r.strs(s.architectures, `${f}.architectures`);
  const syscalls: Rule[] = r.arr(s.syscalls, `${f}.syscalls`).map((v, i) => {
    const field = `${f}.syscalls[${i}]`;
    const o = r.obj(v, field) ?? {};
    const names = r.strs(o.names, `${field}.names`);
    if (!names.length) throw new ConfigError(`${field}.names`, "expected syscall names");
    const args: ArgCondition[] = r.arr(o.args, `${field}.args`).map((a, j) => {
      const af = `${field}.args[${j}]`;
      const ao = r.obj(a, af) ?? {};
      const op = r.str(ao.op, `${af}.op`) as ArgCondition["op"];
      if (!OPS.includes(op)) throw new ConfigError(`${af}.op`, `${JSON.stringify(op ?? null)}: unknown comparison`);
      const big = (k: string) => (ao[k] == null ? undefined : BigInt(r.int(ao[k], `${af}.${k}`, 0, Number.MAX_SAFE_INTEGER)!));
      return { index: r.int(ao.index, `${af}.index`, 0, 5) ?? 0, value: big("value") ?? 0n, valueTwo: big("valueTwo"), op };
    });
    const errnoRet = r.int(o.errnoRet, `${field}.errnoRet`, 0, 4095);
    return { names, action: action(o.action, `${field}.action`), ...(errnoRet === undefined ? {} : { errnoRet }), ...(args.length ? { args } : {}) };
  });
  const defaultErrnoRet = r.int(s.defaultErrnoRet, `${f}.defaultErrnoRet`, 0, 4095);
  return { defaultAction, ...(defaultErrnoRet === undefined ? {} : { defaultErrnoRet }), ...(architectures.length ? { architectures } : {}), syscalls };
}
