// Runs one container, or one process exec'd into a container: clone, answer the child's
// sync points, relay signals and terminal, and return the exit code as docker would.
import { EXIT_MYCFS, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, MycfsError } from "../errors";
import { debugging, log } from "../log";
import { close, errnoMessage, openDir, reap, setDumpable, spawn } from "../native/lib";
import type { ContainerCgroup } from "../cgroups/cgroup";
import { PlanFlag, Sync } from "../native/protocol";
import { encodePlan } from "../plan/encode";
import type { Step } from "../plan/ops";
import { handshake, type Failure, type Meanwhile, type SyncHooks } from "./handshake";
import { clonedNamespaces } from "./namespaces";
import type { ContainerIo } from "./stdio";
import { type Userns, writeMaps } from "./userns";
import { E } from "../errno";

/** Signals a user sends to mycfs that are meant for the container. */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/** pid's wait status once it ends. No fd becomes readable when a child exits, and a
 * thread to wait for it costs more than the start of a container: so a non-blocking
 * reap at each SIGCHLD, with a timer that keeps the event loop alive meanwhile. */
export function exitOf(pid: number): Promise<number> & { stop(): void } {
  let stop = () => {};
  const exited = new Promise<number>((resolve, reject) => {
    const alive = setInterval(() => {}, 1 << 30);
    const check = () => {
      try {
        const status = reap(pid);
        if (status === null) return;
        resolve(status);
      } catch (e) {
        reject(e);
      }
      stop();
    };
    stop = () => {
      process.off("SIGCHLD", check);
      clearInterval(alive);
    };
    process.on("SIGCHLD", check);
    check(); // it may have ended before the listener was there
  });
  return Object.assign(exited, { stop: () => stop() });
}

/** Exit code from a wait status: the code itself, or 128+N for death by signal N. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

/** A step of the plan failed; which one, for callers that can try another way. */
export class StepFailed extends MycfsError {
  constructor(
    message: string,
    exitCode: number,
    readonly op: Step | undefined,
    readonly errno: number,
  ) {
    super(message, exitCode);
  }
}

/** A system call's name on this machine, from the seccomp tables (loaded only on failure). */
function syscallName(nr: number): string {
  const { ARCHES } = require("../seccomp/arch") as typeof import("../seccomp/arch");
  const table = ARCHES[process.arch === "arm64" ? "aarch64" : "x86_64"].syscalls;
  for (const [name, n] of table) if (n === nr) return name;
  return `system call ${nr}`;
}

/** The user's view of a failed step: which step, why, and the exit code docker uses. */
export function failureError(plan: Step[], f: Failure): StepFailed {
  const op = plan[f.step];
  const fail = (message: string, code: number) => new StepFailed(message, code, op, f.errno);
  if (op?.kind === "chdir" && f.errno === E.EXDEV)
    return fail(`step ${f.step + 1}, ${op.what}: it leads outside the container's root; refused (runc CVE-2024-21626)`, EXIT_MYCFS);
  if (op?.kind === "exec") {
    const cmd = op.argv[0];
    if (f.errno === E.ENOENT) return fail(`${cmd}: executable file not found${cmd?.includes("/") ? "" : " in $PATH"} inside the container`, EXIT_NOT_FOUND);
    if (([E.EACCES, E.EPERM, E.ENOEXEC] as number[]).includes(f.errno)) return fail(`${cmd}: cannot execute: ${errnoMessage(f.errno)}`, EXIT_NOT_EXECUTABLE);
  }
  const call = f.syscall === undefined ? "" : `${syscallName(f.syscall)}: `;
  return fail(`step ${f.step + 1}, ${op?.what ?? "unknown step"}: ${call}${errnoMessage(f.errno)}`, EXIT_MYCFS);
}

/** Waits for p, or ms at most (the timer is cleared, so it keeps no one waiting). */
async function within(p: Promise<void>, ms: number) {
  let timer: Timer | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** One process to start from a plan and wait for: a container, or a process exec'd into one. */
export interface Launch {
  plan: Step[];
  spawn(plan: Uint8Array): { pid: number; sock: number };
  /** What mycfs does at the child's sync points, given the child's pid. */
  hooks(pid: number): SyncHooks;
  io: ContainerIo;
  debug: boolean;
  /** What mycfs makes while the child sets up, given the child's pid, for the sync points that wait for it. */
  meanwhile?(pid: number): Meanwhile;
  /** The command runs (it was exec'd): the pid, for the container's record. */
  started?(pid: number): void;
  /** How long to wait for output once the process has ended (default: until EOF). An
   * exec'd process may leave a child behind that holds its output open. */
  drainMs?: number;
  /** Return 0 once the command runs, without waiting for it (runc exec -d: the engine
   * that called mycfs inherits it). */
  detach?: boolean;
}

/** Spawns, answers the child's sync points, relays signals and terminal; returns the
 * exit code as docker would. */
export async function runPlan(l: Launch): Promise<number> {
  const { plan, io } = l;
  let pid = 0;
  const forward = (sig: NodeJS.Signals) => {
    if (pid > 0) process.kill(pid, sig);
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  try {
    const t0 = performance.now();
    const spawned = l.spawn(encodePlan(plan, l.debug ? PlanFlag.TIMINGS : 0));
    pid = spawned.pid;
    const exited = exitOf(pid); // from the start: the child may fail, or die, at any step
    io.afterSpawn();
    let failure: Failure | null = null;
    let broken: unknown;
    try {
      const hooks = { ...l.hooks(pid), [Sync.TERMINAL]: (fd: number) => io.terminal?.(fd) };
      failure = handshake(spawned.sock, plan, hooks, (step, us) => log.debug(`${plan[step]!.what}: ${(us / 1000).toFixed(2)} ms`), l.meanwhile?.(pid)); // only sent when debugging
    } catch (e) {
      broken = e;
      process.kill(pid, "SIGKILL");
    }
    close(spawned.sock);
    if (broken) {
      await exited;
      throw broken;
    }
    if (failure) {
      await exited;
      throw failureError(plan, failure);
    }
    if (debugging) log.debug(`container running ${(performance.now() - t0).toFixed(2)} ms after clone`);
    try {
      l.started?.(pid);
      if (l.detach) {
        exited.stop();
        return 0;
      }
      io.start();
    } catch (e) {
      // the container runs, but nothing would watch over it: end it before giving up
      process.kill(pid, "SIGKILL");
      await exited;
      throw e;
    }
    const status = await exited;
    await (l.drainMs === undefined ? io.drained() : within(io.drained(), l.drainMs));
    return exitCode(status);
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    io.restore();
  }
}

/** The parent's part while the child waits at its first sync point. Returns the fd of an
 * id-mapped root for the child to attach, if it needs one. */
function atFirstSync(ns: Namespaces, pid: number): number | undefined {
  if (!ns.userns) return undefined;
  writeMaps(pid, ns.userns);
  return ns.idmap?.(`/proc/${pid}/ns/user`);
}

/** What the parent does for the child's user namespace: the maps it writes, and the
 * root's id-mapped tree it makes (Rootfs.idmap). */
export interface Namespaces {
  userns?: Userns;
  idmap?: (userns: string) => number;
}

/** Calls f with an fd of the cgroup's v2 directory (-1 if it has none), for a child to be
 * born there (CLONE_INTO_CGROUP). */
export function withCgroupFd<T>(cgroup: ContainerCgroup | undefined, f: (v2: number) => T): T {
  const v2 = cgroup?.v2Dir === undefined ? -1 : openDir(cgroup.v2Dir);
  try {
    return f(v2);
  } finally {
    if (v2 >= 0) close(v2);
  }
}

export interface RunOptions {
  debug: boolean;
  io: ContainerIo;
  /** Made while the child sets up; config.prepared says which steps wait for it. */
  prepare?(): void;
  started?(pid: number): void;
  /** What mycfs makes in the child's network namespace: on the bridge while the child sets
   * up (`meanwhile`), before Sync.NETWORK; else (pasta, slirp4netns) at Sync.NETWORK, the
   * child waiting. `cloned`: the clone makes the namespace, else the child. */
  network?: { attach(pid: number): void; meanwhile: boolean; cloned: boolean };
}

/** Runs `plan` (start.ts: the same plan --dry-run prints). */
export function runContainer(plan: Step[], ns: Namespaces, cgroup: ContainerCgroup | undefined, o: RunOptions): Promise<number> {
  return runPlan({
    plan,
    spawn: (plan) => {
      // The child shares this process's memory, and with it its dumpability, which an
      // earlier child turned off (a retry on a copy of the image): mycfs without root
      // writes the new child's maps through /proc/PID, so it must start dumpable again.
      setDumpable(true);
      return withCgroupFd(cgroup, (v2) => spawn(plan, clonedNamespaces(ns.userns !== undefined, o.network?.cloned === true), v2));
    },
    hooks: (pid) => {
      const net = o.network;
      if (debugging) log.debug(`clone: child ${pid} in a new PID${ns.userns ? ", user" : ""}${net?.cloned ? " and network" : ""} namespace`);
      return { [Sync.NAMESPACES]: () => atFirstSync(ns, pid), ...(net && !net.meanwhile ? { [Sync.NETWORK]: () => net.attach(pid) } : {}) };
    },
    meanwhile: (pid) => {
      const net = o.network;
      return { [Sync.PREPARED]: o.prepare, ...(net?.meanwhile ? { [Sync.NETWORK]: () => net.attach(pid) } : {}) };
    },
    debug: o.debug,
    io: o.io,
    started: o.started,
  });
}
