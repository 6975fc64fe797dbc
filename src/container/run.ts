// Runs one container in the foreground: clone, answer the child's sync points, relay
// signals and terminal, and return the exit code as docker would.
import { EXIT_MYCFS, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, MycfsError } from "../errors";
import { debugging, log } from "../log";
import { close, errnoMessage, spawn, watch } from "../native/lib";
import { OpCode, PlanFlag } from "../native/protocol";
import { encodePlan } from "../plan/encode";
import type { Op } from "../plan/ops";
import { handshake, type Failure } from "./handshake";
import { cloneFlags } from "./namespaces";
import { buildPlan, type ContainerConfig } from "./plan";
import { openIo } from "./stdio";

/** Signals a user sends to mycfs that are meant for the container. */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/** The 4-byte wait status that the watcher thread writes into a pipe when pid ends. */
async function waitStatus(fd: number): Promise<number> {
  try {
    const b = await Bun.file(fd).arrayBuffer();
    if (b.byteLength !== 4) throw new MycfsError("lost the container's exit status");
    return new DataView(b).getInt32(0, true);
  } finally {
    close(fd);
  }
}

/** Exit code from a wait status: the code itself, or 128+N for death by signal N. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

const ENOENT = 2, EACCES = 13, EPERM = 1, ENOEXEC = 8;

/** A step of the plan failed; which one, for callers that can try another way. */
export class StepFailed extends MycfsError {
  constructor(message: string, exitCode: number, readonly op: Op | undefined, readonly errno: number) {
    super(message, exitCode);
  }
}

/** The user's view of a failed step: which step, why, and the exit code docker uses. */
export function failureError(plan: Op[], f: Failure): StepFailed {
  const op = plan[f.step];
  const fail = (message: string, code: number) => new StepFailed(message, code, op, f.errno);
  if (op?.code === OpCode.EXEC) {
    const cmd = op.strs[1];
    if (f.errno === ENOENT)
      return fail(`${cmd}: executable file not found${cmd?.includes("/") ? "" : " in $PATH"} inside the container`, EXIT_NOT_FOUND);
    if ([EACCES, EPERM, ENOEXEC].includes(f.errno))
      return fail(`${cmd}: cannot execute: ${errnoMessage(f.errno)}`, EXIT_NOT_EXECUTABLE);
  }
  return fail(`step ${f.step + 1}, ${op?.what ?? "unknown step"}: ${errnoMessage(f.errno)}`, EXIT_MYCFS);
}

export async function runContainer(config: ContainerConfig, debug = false): Promise<number> {
  const io = await openIo();
  let pid = 0;
  const forward = (sig: NodeJS.Signals) => {
    if (pid > 0) process.kill(pid, sig);
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  try {
    const plan = buildPlan(config, io);
    const t0 = performance.now();
    const spawned = spawn(encodePlan(plan, debug ? PlanFlag.TIMINGS : 0), cloneFlags());
    pid = spawned.pid;
    io.afterSpawn();
    if (debugging) log.debug(`clone: child ${pid} in new mount, UTS, IPC, PID, network and cgroup namespaces`);
    // The child is waiting at its first sync point: answer it before anything else.
    // Its exit is watched only afterwards; until then, its death shows as EOF here.
    let failure: Failure | null = null;
    let broken: unknown;
    try {
      failure = handshake(spawned.sock, plan, {}, (step, us) =>
        log.debug(`${plan[step]!.what}: ${(us / 1000).toFixed(2)} ms`)); // only sent when debugging
    } catch (e) {
      broken = e;
      process.kill(pid, "SIGKILL");
    }
    close(spawned.sock);
    const exited = waitStatus(watch(pid));
    if (broken) {
      await exited;
      throw broken;
    }
    if (failure) {
      await exited;
      throw failureError(plan, failure);
    }
    if (debugging) log.debug(`container running ${(performance.now() - t0).toFixed(2)} ms after clone`);
    io.start();
    const status = await exited;
    await io.drained();
    return exitCode(status);
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    io.restore();
  }
}
