// runc's lifecycle over an OCI container's state: what `start`, `state`, `kill`, `delete`
// and `list` need, apart from `create` (create.ts) so that they load no more than this.
// Unlike mycfs's own containers (a supervisor stays, `mycfs rm` cleans up) an engine is
// the container's parent: `create` leaves the container's process waiting on the exec
// fifo in its state directory and exits (the engine, a subreaper such as conmon, inherits
// it); `start` writes one byte to the fifo; `delete` removes the cgroup and the state.
// The state directory (--root, /run/mycfs-oci) is apart from mycfs's own containers'.
import type { Layout } from "../cgroups/layout";
import { MycfsError } from "../errors";
import { log } from "../log";
import { fileType, listDir, ociRemove, ociStart, ociStatus, processStart, readFile, S_IFMT, tryRmdir, writeFile } from "../native/lib";
import { OciStatus } from "../native/protocol";
import type { SeccompListener } from "./config";
import { type HookState, type Hooks, nsenterOptions, runHooks } from "./hooks";

/** runc exits 1 on a bad config or command, and engines read its message. */
export const EXIT_OCI = 1;

export const OCI_VERSION = "1.1.0";

/** The state directory for OCI containers, apart from mycfs's own /run/mycfs: --root, else
 * $MYCFS_OCI_ROOT, else the host's root's /run/mycfs-oci, anyone else's (a rootless
 * engine's namespace too) $XDG_RUNTIME_DIR/mycfs-oci (cli/oci-select.ts looks there too). */
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
  seccompFlags?: number;
  /** Where an exec'd process's notification fd goes too (an action SCMP_ACT_NOTIFY). */
  seccompListener?: SeccompListener;
  /** The hooks run after `start` and after `delete`. */
  hooks?: Partial<Pick<Hooks, "startContainer">> & Pick<Hooks, "poststart" | "poststop">;
  /** mycfs ran in a user namespace of an engine's (rootless podman), which the container shares. */
  inUserns?: boolean;
  /** The namespaces the container has of its own (CLONE_NEW* flags), which exec joins. */
  namespaces?: number;
  /** config.json's memory.checkBeforeUpdate: update refuses a limit below the usage. */
  memoryCheckBeforeUpdate?: true;
}

const ID = /^[\w+\-.]+$/;

export function checkId(id: string | undefined): string {
  if (!id) throw ociError("container id cannot be empty");
  if (!ID.test(id) || id === "." || id === "..") throw ociError(`invalid container id format: ${id}`);
  return id;
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
    return s.pid > 0 && processStart(s.pid) === s.startTime;
  }

  status(s: Saved): Status {
    return STATUS[ociStatus(this.dir(s.id), s.cgroupDirs, s.pid, s.startTime)]!;
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

/** By OciStatus: alive with the exec fifo is created, a frozen cgroup paused (csrc/oci_lifecycle.c). */
const STATUS: Record<number, Status> = {
  [OciStatus.STOPPED]: "stopped",
  [OciStatus.CREATED]: "created",
  [OciStatus.RUNNING]: "running",
  [OciStatus.PAUSED]: "paused",
};

/** runc start: the created container's process goes on to exec its command. */
export function start(state: OciState, id: string) {
  const s = state.load(id);
  const status = state.status(s);
  if (status === "stopped") throw ociError("cannot start a container that has stopped");
  if (status !== "created") throw ociError(`cannot start an already ${status} container`);
  // in the container's namespaces, before its process runs; one failing stops it (the spec)
  const startHooks = s.hooks?.startContainer ?? [];
  const hookFailed = startHooks.length
    ? runHooks("startContainer", startHooks, hookState(s, "created"), { pid: s.pid, namespaces: nsenterOptions(s.namespaces ?? 0) })
    : undefined;
  if (hookFailed) {
    kill(state, s.id, 9, true);
    throw ociError(hookFailed);
  }
  const err = ociStart(state.dir(s.id));
  if (err)
    throw ociError(err === 6 /* ENXIO: no container holds it */ ? "cannot start a container that has stopped" : "cannot start an already running container");
  const failed = s.hooks?.poststart.length ? runHooks("poststart", s.hooks.poststart, hookState(s, "running")) : undefined;
  if (failed) log.warn(failed);
}

export const hookState = (s: Saved, status: string): HookState => ({
  ociVersion: s.ociVersion,
  id: s.id,
  status,
  pid: status === "stopped" ? 0 : s.pid,
  bundle: s.bundle,
  annotations: s.annotations,
});

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

/** The freezer's file and values: v1's freezer.state, or v2's cgroup.freeze. */
function freezer(s: Saved): { file: string; frozen: string; thawed: string } {
  for (const dir of s.cgroupDirs) {
    if (fileType(`${dir}/freezer.state`) !== null) return { file: `${dir}/freezer.state`, frozen: "FROZEN", thawed: "THAWED" };
    if (fileType(`${dir}/cgroup.freeze`) !== null) return { file: `${dir}/cgroup.freeze`, frozen: "1", thawed: "0" };
  }
  throw ociError("the container has no freezer cgroup (it runs without a cgroup); it cannot be paused");
}

/** runc pause and resume: every process of the cgroup stopped, or let go on. */
export function pause(state: OciState, id: string, on: boolean) {
  const s = state.load(id);
  const status = state.status(s);
  if (on && status !== "running") throw ociError(`container not running`);
  if (!on && status !== "paused") throw ociError(`container not paused`);
  const f = freezer(s);
  writeFile(f.file, on ? f.frozen : f.thawed);
  // v1 goes through FREEZING until every task is frozen
  for (let i = 0; on && i < 1000 && (readFile(f.file) ?? "").trim() !== f.frozen; i++) Bun.sleepSync(1);
}

/** runc ps: the pids of the container's cgroup. */
export function pids(state: OciState, id: string): number[] {
  return cgroupPids(state.load(id));
}

/** runc delete: a stopped (or created) container's cgroup and state; --force kills first. */
export function remove(state: OciState, id: string, force: boolean) {
  const s = state.load(id);
  const status = state.status(s);
  if (status !== "stopped" && status !== "created" && !force) throw ociError(`cannot delete container ${id} that is not stopped: ${status}`);
  if (status === "paused") pause(state, id, false); // a frozen process takes no SIGKILL
  ociRemove(state.dir(s.id), s.cgroupDirs, s.cgroupParents ?? [], s.pid, status !== "stopped");
  const failed = s.hooks?.poststop.length ? runHooks("poststop", s.hooks.poststop, hookState(s, "stopped")) : undefined;
  if (failed) log.warn(failed);
}

/** The deepest first; one another container still uses stays (EBUSY, ENOTEMPTY). */
export function removeParents(dirs: string[]) {
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) tryRmdir(dir);
}
