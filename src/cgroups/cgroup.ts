// A container's own cgroup: planned before the child is cloned, created below mycfs's own
// cgroup in every hierarchy (limits written) while the child sets up, joined by the child
// once it is, removed when the container is gone.
import { MycfsError } from "../errors";
import { attachDeviceFilter, errnoMessage, tryWritable, fileType, listDir, mkdir, readFile, tryRmdir, S_IFMT, writeFile } from "../native/lib";
import { type Step, write } from "../plan/ops";
import prebuilt from "../../build/device-rules-default.json";
import { compileDeviceFilter } from "./device-filter";
import { allowsAll, DEFAULT_DEVICE_RULES, type DeviceRule, deviceWrites } from "./devices";
import { type Hierarchy, type Layout, parseLayout } from "./layout";
import { limitControllers, limitWrites, type Limits } from "./limits";
import { E } from "../errno";

/** The file operations cgroups need; the real one is libmycfs, tests use a fake tree. */
export interface CgroupFs {
  read(path: string): string | null;
  write(path: string, value: string): void;
  mkdir(path: string): void;
  /** 0 or the errno */
  rmdir(path: string): number;
  /** 0, or why a directory cannot be written (EROFS, EACCES) */
  writable(path: string): number;
  /** The names of the directories in a directory (a cgroup's children). */
  subdirs(path: string): string[];
  /** Loads a cgroup v2 device filter (eBPF instructions) and attaches it to dir. */
  attachDeviceFilter(dir: string, insns: Uint8Array): void;
}

/** The host's cgroup file systems, through libmycfs (no node:fs on the start path). */
export const hostCgroupFs: CgroupFs = {
  read: (path) => readFile(path),
  write: (path, value) => writeFile(path, value),
  mkdir: (path) => mkdir(path, 0o755),
  rmdir: (path) => tryRmdir(path),
  writable: (path) => tryWritable(path),
  subdirs: (path) => (listDir(path) ?? []).filter((name) => fileType(`${path}/${name}`) === S_IFMT.DIR),
  attachDeviceFilter: (dir, insns) => attachDeviceFilter(dir, insns),
};

export function readLayout(fs: CgroupFs): Layout {
  return parseLayout(fs.read("/proc/self/mountinfo") ?? "", fs.read("/proc/self/cgroup") ?? "", (dir) =>
    (fs.read(`${dir}/cgroup.subtree_control`) ?? "").split(/\s+/).filter(Boolean),
  );
}

/** Controllers every container's cgroup has, for `mycfs stats` and OOM reports. */
const ACCOUNTING = ["memory", "pids", "cpuacct"];

/** A directory bound read-only on /sys/fs/cgroup inside the container. */
export interface CgroupBind {
  source: string;
  target: string;
}

/** What the container sees of cgroups: its own directories (cgroup namespace of its own)
 * or the host's whole trees (--cgroupns host), where the host has them mounted. */
export function cgroupBinds(layout: Layout, dirOf: (h: Hierarchy) => string, shareHost: boolean): CgroupBind[] {
  return layout.hierarchies.map((h) => ({
    source: shareHost ? h.mount : dirOf(h),
    target: layout.mode === "v2" ? "/sys/fs/cgroup" : `/sys/fs/cgroup/${h.mount.split("/").pop()}`,
  }));
}

export const cgroupName = (id: string) => `mycfs-${id.slice(0, 12)}`;

export class ContainerCgroup {
  /** The directories create() made, which are all remove() takes away; unset for an
   * existing container's cgroup, whose directories are all removed. */
  private made?: string[];

  private constructor(
    private readonly fs: CgroupFs,
    readonly layout: Layout,
    /** Its directory's name in every hierarchy (what the container's record keeps). */
    readonly name: string,
    /** The container's directory in each hierarchy. */
    readonly dirs: Map<Hierarchy, string>,
    /** What create() writes (a new container's). */
    private readonly limits: Limits = {},
    /** The device nodes its processes may use (see plan). */
    private readonly devices?: readonly DeviceRule[],
  ) {}

  /** An existing container's cgroup, from the layout (its own, as `layout` below) and
   * name its state recorded. */
  static of(fs: CgroupFs, layout: Layout, name: string, limits?: Limits, devices?: readonly DeviceRule[]): ContainerCgroup {
    return new ContainerCgroup(fs, layout, name, new Map(layout.hierarchies.map((h) => [h, `${h.own}/${name}`])), limits, devices);
  }

  /** The cgroup a new container gets, not made yet (create() makes it): its directories
   * are known ahead, for the plan. On cgroup v1 moving a process into a hierarchy costs
   * about a millisecond (the kernel waits for an RCU grace period each time), so the
   * container joins only the hierarchies it uses: accounting (memory, pids, CPU time)
   * and its limits', and the devices controller where `devices` (the allow-list of
   * device nodes) is to be enforced: by v1's devices controller where the host has it,
   * and by a BPF program on the v2 directory where the container has one. */
  static plan(fs: CgroupFs, layout: Layout, name: string, limits: Limits, devices?: readonly DeviceRule[]): ContainerCgroup {
    const used = new Set([...ACCOUNTING, ...limitControllers(limits), ...(devices ? ["devices"] : [])]);
    return ContainerCgroup.of(
      fs,
      { ...layout, hierarchies: layout.hierarchies.filter((h) => layout.mode === "v2" || h.controllers.some((c) => used.has(c))) },
      name,
      limits,
      devices,
    );
  }

  /** Where the cgroup cannot be made, and why: a hierarchy mycfs may not write (a
   * read-only /sys/fs/cgroup inside a container, a v2 tree not delegated), else null. */
  unwritable(): { path: string; errno: number } | null {
    for (const h of this.dirs.keys()) {
      const errno = this.fs.writable(h.own);
      if (errno) return { path: h.own, errno };
    }
    return null;
  }

  /** Makes the directories and writes the limits and device rules, before any process
   * can be in it (a child born into its v2 directory finds the program attached). On
   * failure, removes what it made. */
  create() {
    const { fs } = this;
    this.made = [];
    try {
      for (const [h, dir] of this.dirs) {
        fs.mkdir(dir);
        this.made.push(dir);
        // a new v1 cpuset is empty, and a cgroup without CPUs or memory nodes takes no process
        if (h.version === 1 && h.controllers.includes("cpuset"))
          for (const f of ["cpuset.cpus", "cpuset.mems"]) fs.write(`${dir}/${f}`, (fs.read(`${h.own}/${f}`) ?? "").trim());
      }
      const writes = limitWrites(this.layout, this.limits, (h, file) => fs.read(`${this.dirs.get(h)}/${file}`) !== null);
      for (const w of writes) fs.write(`${this.dirs.get(w.hierarchy)}/${w.file}`, w.value);
      if (this.devices) this.restrictDevices(this.devices);
    } catch (e) {
      // the error to report is the one that stopped it; a directory that cannot be removed
      // now is tried again, and reported, by the caller's cleanup
      try {
        this.remove();
      } catch {}
      throw e;
    }
  }

  /** Both where both exist (a hybrid host whose v2 tree the container joins): the kernel
   * asks the v2 programs, then the v1 controller. Allowing all needs no program. The
   * default list's writes and program come from build.ts: in the cold interpreter of a
   * start, making them took longer than the kernel takes to load the program. */
  private restrictDevices(rules: readonly DeviceRule[]) {
    const defaults = rules === DEFAULT_DEVICE_RULES;
    for (const [h, dir] of this.dirs) {
      if (h.version === 1 && h.controllers.includes("devices"))
        for (const w of defaults ? prebuilt.writes : deviceWrites(rules)) this.fs.write(`${dir}/${w.file}`, w.value);
      else if (h.version === 2 && !allowsAll(rules))
        this.fs.attachDeviceFilter(dir, defaults ? Uint8Array.fromBase64(prebuilt.bpf) : compileDeviceFilter(rules));
    }
  }

  binds(shareHost: boolean): CgroupBind[] {
    return cgroupBinds(this.layout, (h) => this.dirs.get(h)!, shareHost);
  }

  /** How the child gets in, without the cost of moving a process (the kernel waits for
   * an RCU grace period, ~10 ms here, when it takes cgroup_threadgroup_rwsem for writing):
   * into a v2 directory it is born (clone3 CLONE_INTO_CGROUP with `v2Dir`); into each v1
   * hierarchy its single thread moves itself by writing "0" to `tasks`, which the kernel
   * does without that lock. */
  get v2Dir(): string | undefined {
    return [...this.dirs].find(([h]) => h.version === 2)?.[1];
  }

  joinOps(): Step[] {
    return [...this.dirs]
      .filter(([h]) => h.version === 1)
      .map(([h, dir]) => write(`${dir}/tasks`, "0", `join the container's cgroup in the ${h.options} hierarchy`));
  }

  /** Whether the kernel's OOM killer killed a process of the container. */
  oomKilled(): boolean {
    for (const [h, dir] of this.dirs) {
      if (!h.controllers.includes("memory")) continue;
      const events = this.fs.read(`${dir}/${h.version === 2 ? "memory.events" : "memory.oom_control"}`) ?? "";
      if (Number(/^oom_kill (\d+)/m.exec(events)?.[1] ?? 0) > 0) return true;
    }
    return false;
  }

  /** Removes the directories (those that exist), each as far as it can; then says which
   * could not be removed. */
  remove() {
    const failed = [...(this.made ?? this.dirs.values())]
      .reverse()
      .map((dir) => [dir, this.removeDir(dir)] as const)
      .filter(([, err]) => err !== 0 && err !== E.ENOENT);
    if (failed.length) throw new MycfsError(`could not remove cgroup ${failed.map(([dir, err]) => `${dir}: ${errnoMessage(err)}`).join("; ")}`);
  }

  /** rmdir, 0 or the errno. A busy cgroup may hold cgroups the container made inside its
   * own (it can, with CAP_SYS_ADMIN or a cgroup file system of its own namespaces'):
   * those go first. It can also stay busy for a moment after its last process. */
  private removeDir(dir: string): number {
    let err = this.fs.rmdir(dir);
    if (err === E.EBUSY) for (const sub of this.fs.subdirs(dir)) this.removeDir(`${dir}/${sub}`);
    for (let i = 0; err === E.EBUSY && i < 100; i++) {
      err = this.fs.rmdir(dir);
      if (err === E.EBUSY) Bun.sleepSync(1);
    }
    return err;
  }
}
