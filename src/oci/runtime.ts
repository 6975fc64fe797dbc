// runc's lifecycle over a bundle: create, start, state, kill, delete, list, run. Unlike
// mycfs's own containers (a supervisor stays, `mycfs rm` cleans up) an engine is the
// container's parent here: `create` leaves the container's process waiting on the exec
// fifo in its state directory and exits (the engine, a subreaper such as conmon, inherits
// it); `start` writes one byte to the fifo; `delete` removes the cgroup and the state.
// The state directory (--root, /run/mycfs-oci) is apart from mycfs's own containers'.
import { ContainerCgroup, hostCgroupFs, readLayout } from "../cgroups/cgroup";
import type { Layout } from "../cgroups/layout";
import { hostRootWithoutParent } from "../container/initramfs";
import { CLONE } from "../container/namespaces";
import { buildPlan, type HostFacts } from "../container/plan";
import { directoryRootfs } from "../container/rootfs";
import { exitCode, exitOf, failureError, withCgroupFd } from "../container/run";
import { handshake } from "../container/handshake";
import { writeMaps } from "../container/userns";
import { E } from "../errno";
import { MycfsError } from "../errors";
import { ensureDir } from "../images/store";
import { debugging, log } from "../log";
import {
  close,
  fileMode,
  fileType,
  listDir,
  mkdir,
  mkfifo,
  openFifo,
  readFile,
  reap,
  removeTree,
  replaceFile,
  S_IFMT,
  sendConsole,
  setDumpable,
  spawn,
  tryRmdir,
  tryUnlink,
  writeBytes,
} from "../native/lib";
import { PlanFlag, Sync } from "../native/protocol";
import { openNetwork } from "../network/join";
import { encodePlan } from "../plan/encode";
import { hasNamespace } from "../spec/spec";
import type { StateDir } from "../state/dir";
import { EXIT_OCI, type OciContainer, readConfig } from "./config";

export const OCI_VERSION = "1.1.0";

/** The state directory for OCI containers, apart from mycfs's own /run/mycfs: --root, else
 * $MYCFS_OCI_ROOT (for engines that pass no --root, as podman), else root's /run/mycfs-oci
 * (cli/oci-select.ts looks there too). */
export { ociRoot as defaultOciRoot } from "../cli/oci-select";

/** An error as runc reports it: one line, exit 1. */
export const ociError = (message: string) => new MycfsError(message, EXIT_OCI);

export type Status = "created" | "running" | "paused" | "stopped";

/** What state.json keeps: the spec's state fields and what delete and kill need. */
export interface Saved {
  ociVersion: string;
  id: string;
  pid: number;
  /** The process's start time in clock ticks (/proc/PID/stat), so a recycled pid is never taken for it. */
  startTime: number;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
  /** The cgroup's directories, one per hierarchy, absolute; the parents create made for
   * them (a cgroupsPath of several names), removed by delete once no other uses them. */
  cgroupDirs: string[];
  cgroupParents: string[];
  owner: number;
  /** What `exec` needs: the cgroup as ContainerCgroup.of takes it, the user namespace,
   * the compiled seccomp filter (base64) the container's processes get. */
  cgroup?: { name: string; layout: Layout };
  userns?: { rootless: boolean; dropGroups: boolean };
  seccomp: string | null;
}

const ID = /^[\w+\-.]+$/;

export function checkId(id: string | undefined): string {
  if (!id) throw ociError("container id cannot be empty");
  if (!ID.test(id) || id === "." || id === "..") throw ociError(`invalid container id format: ${id}`);
  return id;
}

/** The process's start time, or null if it is gone or a zombie. */
function startTimeOf(pid: number): number | null {
  const stat = readFile(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return null;
  return Number(fields[19]);
}

export class OciState {
  constructor(readonly root: string) {}

  dir(id: string) {
    return `${this.root}/${id}`;
  }
  fifo(id: string) {
    return `${this.dir(id)}/exec.fifo`;
  }

  load(id: string): Saved {
    const text = readFile(`${this.dir(checkId(id))}/state.json`);
    if (text === null) throw ociError(`container does not exist`);
    return JSON.parse(text) as Saved;
  }

  ids(): string[] {
    return (listDir(this.root) ?? []).filter((n) => fileType(`${this.dir(n)}/state.json`) === S_IFMT.REG).sort();
  }

  alive(s: Saved): boolean {
    return s.pid > 0 && startTimeOf(s.pid) === s.startTime;
  }

  status(s: Saved): Status {
    if (!this.alive(s)) return "stopped";
    if (fileType(this.fifo(s.id)) !== null) return "created";
    return frozen(s) ? "paused" : "running";
  }

  /** The state as runtime-spec defines it (runc's `state`, with its `created`). */
  view(s: Saved) {
    const status = this.status(s);
    return {
      ociVersion: s.ociVersion,
      id: s.id,
      pid: status === "stopped" ? 0 : s.pid,
      status,
      bundle: s.bundle,
      rootfs: s.rootfs,
      created: s.created,
      owner: "",
      ...(Object.keys(s.annotations).length ? { annotations: s.annotations } : {}),
    };
  }
}

function frozen(s: Saved): boolean {
  for (const dir of s.cgroupDirs) {
    const v1 = readFile(`${dir}/freezer.state`);
    if (v1 !== null) return v1.trim() === "FROZEN";
    const v2 = readFile(`${dir}/cgroup.freeze`);
    if (v2 !== null) return v2.trim() === "1";
  }
  return false;
}

/** Where cgroupsPath puts the cgroup, below the caller's own cgroup in each hierarchy (a
 * path is the caller's cgroup's sub-path, never the host's root: an engine's absolute
 * path lands below the cgroup the engine runs in); systemd's "slice:prefix:name" form as
 * the path systemd would give it, without systemd. */
export function cgroupPath(given: string | undefined, id: string): string {
  if (!given) return `mycfs-oci-${id}`;
  const systemd = /^([^:/]*):([^:/]*):([^:/]+)$/.exec(given);
  const path = systemd ? `${systemd[1] || "system.slice"}/${systemd[2] ? `${systemd[2]}-` : ""}${systemd[3]}.scope` : given;
  const parts = path.split("/").filter(Boolean);
  if (!parts.length || parts.some((p) => p === "." || p === ".."))
    throw ociError(`config.json: linux.cgroupsPath: ${given}: expected a path of names, or slice:prefix:name`);
  return parts.join("/");
}

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  noPivot: boolean;
  debug: boolean;
}

/** Reads the bundle, makes the cgroup, clones the container's process and walks its plan
 * up to the exec fifo. Returns the state; the process waits for `start`. */
export function create(state: OciState, o: CreateOptions): Saved {
  const id = checkId(o.id);
  const bundle = o.bundle.replace(/\/+$/, "") || "/";
  const json = readFile(`${bundle}/config.json`, 16 << 20);
  if (json === null) throw ociError(`cannot read ${bundle}/config.json; give the bundle's directory with --bundle`);
  const c: OciContainer = readConfig(json, bundle, {
    isDir: (path) => {
      const mode = fileMode(path);
      return mode === null ? undefined : (mode & 0o170000) === S_IFMT.DIR;
    },
    compileSeccomp: (profile) => {
      const { compileProfile } = require("../seccomp/compile") as typeof import("../seccomp/compile");
      const { hostArch } = require("../seccomp/filter") as typeof import("../seccomp/filter");
      return compileProfile(profile, { arch: hostArch(), caps: new Set() });
    },
  });
  for (const w of c.warnings) log.warn(w);
  if (c.terminal && !o.consoleSocket) throw ociError("cannot allocate tty if mycfs will detach without setting console socket");
  if (!c.terminal && o.consoleSocket) throw ociError("cannot use console socket if mycfs will not detach or allocate tty");
  const spec = o.noPivot ? { ...c.spec, mycfs: { ...c.spec.mycfs, pivot: false } } : c.spec;
  const rootless = process.getuid?.() !== 0;

  ensureDir(state.root);
  const dir = state.dir(id);
  const made = (() => {
    try {
      mkdir(dir, 0o711);
      return true;
    } catch {
      return false;
    }
  })();
  if (!made) throw ociError(`container with id exists: ${id}`);
  const undo: (() => void)[] = [() => removeTree(dir)];
  try {
    const layout = readLayout(hostCgroupFs);
    const name = cgroupPath(c.cgroupsPath, id);
    const cgroup = ContainerCgroup.plan(hostCgroupFs, layout, name, c.limits, rootless ? undefined : c.deviceRules);
    const parents = [...cgroup.dirs].flatMap(([h, d]) => {
      const rel = d.slice(h.own.length + 1).split("/");
      return rel.slice(0, -1).map((_, i) => `${h.own}/${rel.slice(0, i + 1).join("/")}`);
    });
    const blocked = cgroup.unwritable();
    const withCgroup = !blocked || !rootless;
    const madeParents: string[] = [];
    if (withCgroup) {
      for (const p of parents)
        if (fileType(p) === null) {
          mkdir(p, 0o755, true);
          madeParents.push(p);
        }
      undo.push(() => removeParents(madeParents));
      cgroup.create();
      undo.push(() => cgroup.remove());
    } else log.warn(`the container's cgroup cannot be made (${blocked.path}): it runs without one`);
    const fifo = state.fifo(id);
    mkfifo(fifo, 0o600);
    const fifoFd = openFifo(fifo, false) as number;
    undo.push(() => close(fifoFd));
    const rootfs = directoryRootfs(c.rootfs);
    undo.push(() => rootfs.cleanup(false));
    const net = spec.linux.namespaces.find((n) => n.type === "network" && n.path);
    const joined = net?.path ? openNetwork({ mode: "ns", path: net.path }, net.path, undefined as unknown as StateDir) : undefined;
    if (joined) undo.push(() => close(joined.fd));
    const host: HostFacts = {
      rootfs,
      cgroups: withCgroup
        ? { join: cgroup.joinOps(), binds: cgroup.binds(!hasNamespace(spec, "cgroup")), v2Only: layout.mode === "v2" }
        : { join: [], binds: [], v2Only: layout.mode === "v2" },
      rootWithoutParent: spec.mycfs.pivot && hostRootWithoutParent(),
      dropGroups: true,
      ...(joined ? { netns: joined.fd } : {}),
      awaitStart: { fd: fifoFd, keepFds: o.preserveFds },
    };
    const plan = buildPlan(spec, host, { fds: [-1, -1, -1], ctty: c.terminal });
    const flags = (c.userns ? CLONE.NEWUSER : 0) | (hasNamespace(spec, "pid") ? CLONE.NEWPID : 0);
    setDumpable(true);
    const spawned = withCgroupFd(withCgroup ? cgroup : undefined, (v2) => spawn(encodePlan(plan, o.debug ? PlanFlag.TIMINGS : 0), flags, v2));
    const pid = spawned.pid;
    let failure: ReturnType<typeof handshake>;
    try {
      failure = handshake(
        spawned.sock,
        plan,
        {
          [Sync.NAMESPACES]: () => {
            if (c.userns) writeMaps(pid, c.userns);
          },
          [Sync.TERMINAL]: (fd: number) => {
            try {
              sendConsole(o.consoleSocket!, fd, "/dev/ptmx");
            } finally {
              close(fd);
            }
          },
        },
        (step, us) => log.debug(`${plan[step]!.what}: ${(us / 1000).toFixed(2)} ms`),
      );
    } catch (e) {
      process.kill(pid, "SIGKILL");
      waitGone(pid);
      throw e;
    } finally {
      close(spawned.sock);
    }
    if (failure) {
      waitGone(pid);
      const f = failureError(plan, failure);
      throw ociError(f.message);
    }
    const startTime = startTimeOf(pid);
    if (startTime === null) throw ociError("the container's process ended before it was created");
    const saved: Saved = {
      ociVersion: OCI_VERSION,
      id,
      pid,
      startTime,
      bundle,
      rootfs: c.rootfs,
      created: new Date().toISOString(),
      annotations: c.annotations,
      cgroupDirs: withCgroup ? [...cgroup.dirs.values()] : [],
      cgroupParents: madeParents,
      owner: process.getuid?.() ?? 0,
      ...(withCgroup ? { cgroup: { name: cgroup.name, layout: cgroup.layout } } : {}),
      ...(c.userns ? { userns: { rootless, dropGroups: true } } : {}),
      seccomp: spec.linux.seccomp?.toBase64() ?? null,
    };
    replaceFile(`${dir}/state.json`, JSON.stringify(saved), 0o600);
    if (o.pidFile) replaceFile(o.pidFile, String(pid), 0o644);
    // what the child holds now, the parent lets go of
    close(fifoFd);
    rootfs.cleanup(false);
    if (joined) close(joined.fd);
    if (debugging) log.debug(`container ${id} created: pid ${pid}, waiting for start`);
    return saved;
  } catch (e) {
    for (const u of undo.reverse())
      try {
        u();
      } catch {}
    throw e;
  }
}

/** Reaps pid if it is ours; then waits (briefly) until it is gone. */
function waitGone(pid: number) {
  for (let i = 0; i < 1000; i++) {
    try {
      if (reap(pid) !== null) return;
    } catch {
      // not our child (an engine's): it is gone once /proc says so
      if (startTimeOf(pid) === null) return;
    }
    Bun.sleepSync(1);
  }
}

/** runc start: the created container's process goes on to exec its command. */
export function start(state: OciState, id: string) {
  const s = state.load(id);
  const status = state.status(s);
  if (status === "stopped") throw ociError("cannot start a container that has stopped");
  if (status !== "created") throw ociError(`cannot start an already ${status} container`);
  const fd = openFifo(state.fifo(s.id), true);
  if (typeof fd !== "number")
    throw ociError(
      fd.errno === 6 /* ENXIO: no container holds it */ ? "cannot start a container that has stopped" : "cannot start an already running container",
    );
  try {
    writeBytes(fd, new Uint8Array([0x30]));
  } finally {
    close(fd);
    tryUnlink(state.fifo(s.id));
  }
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** A signal as runc takes it: a number, TERM or SIGTERM. */
export function signalOf(text: string): number {
  if (/^\d+$/.test(text) && Number(text) > 0 && Number(text) <= 64) return Number(text);
  const n = SIGNALS[text.toUpperCase().replace(/^SIG/, "")];
  if (n === undefined) throw ociError(`unknown signal "${text}"`);
  return n;
}

/** The pids in the container's cgroup (for kill --all). */
function cgroupPids(s: Saved): number[] {
  const pids = new Set<number>();
  for (const dir of s.cgroupDirs) {
    const text = readFile(`${dir}/cgroup.procs`);
    if (text === null) continue;
    for (const l of text.split("\n")) if (l) pids.add(Number(l));
    if (pids.size) break; // one hierarchy lists them all
  }
  return [...pids];
}

export function kill(state: OciState, id: string, signal: number, all: boolean) {
  const s = state.load(id);
  if (!state.alive(s)) throw ociError("container not running");
  const pids = all ? [s.pid, ...cgroupPids(s).filter((p) => p !== s.pid)] : [s.pid];
  for (const pid of pids)
    try {
      process.kill(pid, signal);
    } catch (e) {
      if ((e as { code?: string }).code !== "ESRCH") throw e;
    }
}

/** runc delete: a stopped (or created) container's cgroup and state; --force kills first. */
export function remove(state: OciState, id: string, force: boolean) {
  const s = state.load(id);
  const status = state.status(s);
  if (status !== "stopped" && status !== "created" && !force) throw ociError(`cannot delete container ${id} that is not stopped: ${status}`);
  if (status !== "stopped") {
    for (const pid of [s.pid, ...cgroupPids(s)])
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    waitGone(s.pid);
  }
  // its processes have left the cgroup once they ended (zombies too)
  for (const dir of [...s.cgroupDirs].reverse()) {
    let err = tryRmdir(dir);
    for (let i = 0; err === E.EBUSY && i < 200; i++) {
      for (const pid of cgroupPids({ ...s, cgroupDirs: [dir] }))
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      Bun.sleepSync(5);
      err = tryRmdir(dir);
    }
    if (err !== 0 && err !== E.ENOENT) log.warn(`could not remove the cgroup ${dir}: errno ${err}`);
  }
  removeParents(s.cgroupParents ?? []);
  removeTree(state.dir(s.id));
}

/** The deepest first; one another container still uses stays (EBUSY, ENOTEMPTY). */
function removeParents(dirs: string[]) {
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) tryRmdir(dir);
}

/** runc run: create, start, and (in the foreground) wait, forward signals, delete. */
export async function run(state: OciState, o: CreateOptions & { detach: boolean }): Promise<number> {
  const s = create(state, o);
  const forward = (sig: NodeJS.Signals) => process.kill(s.pid, sig);
  const exited = o.detach ? undefined : exitOf(s.pid);
  const sigs = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
  try {
    start(state, s.id);
    if (!exited) return 0;
    for (const sig of sigs) process.on(sig, forward);
    return exitCode(await exited);
  } finally {
    for (const sig of sigs) process.off(sig, forward);
    if (exited) remove(state, s.id, true);
  }
}
