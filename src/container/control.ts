// Acting on a running container from another mycfs process: signals and waiting, through
// pidfds, so that a pid recycled since the state was written is never signalled.
import { MycfsError } from "../errors";
import { close, pidfdOpen, pidfdSignal, pidfdWait } from "../native/lib";
import { isAlive, isSupervised, shortId, type ContainerState, type ProcessRef } from "../state/record";

/** A pidfd for the recorded process, or null if it is gone. */
function open(ref: ProcessRef | undefined, boot: string): number | null {
  if (!isAlive(ref, boot)) return null;
  const fd = pidfdOpen(ref!.pid);
  // checked again with the pidfd held: the pid cannot be recycled under it now
  if (fd !== null && !isAlive(ref, boot)) {
    close(fd);
    return null;
  }
  return fd;
}

/** Signal numbers by name ("TERM", "SIGTERM") or number; `what` says where it was given. */
export function signalNumber(spec: string, what?: string): number {
  const { constants } = require("node:os") as typeof import("node:os");
  const name = spec.toUpperCase().replace(/^SIG/, "");
  const n = /^\d+$/.test(spec) ? Number(spec) : (constants.signals as Record<string, number>)[`SIG${name}`];
  if (n === undefined || n < 1 || n > 64)
    throw new MycfsError(`${what ? `${what}: ` : ""}unknown signal '${spec}': use a name such as TERM, KILL, HUP, or a number`);
  return n;
}

/** Sends sig to the container's first process; throws if it is not running. */
export function signalContainer(s: ContainerState, sig: number) {
  const fd = s.status === "running" ? open(s.container, s.bootId) : null;
  if (fd === null) throw new MycfsError(`container ${s.name ?? shortId(s.id)} is not running`);
  try {
    pidfdSignal(fd, sig);
  } finally {
    close(fd);
  }
}

/** Whether the process is gone within ms (-1: wait for ever). */
export function waitGone(ref: ProcessRef | undefined, boot: string, ms: number): boolean {
  const fd = open(ref, boot);
  if (fd === null) return true;
  try {
    return pidfdWait(fd, ms);
  } finally {
    close(fd);
  }
}

/** Ends the recorded process (never a pid recycled since): SIGTERM, SIGKILL once `ms` have
 * passed; returns once it is gone, or `ms` after the SIGKILL. */
export function endProcess(ref: ProcessRef, boot: string, ms: number) {
  const fd = open(ref, boot);
  if (fd === null) return;
  try {
    pidfdSignal(fd, 15);
    if (!pidfdWait(fd, ms)) {
      pidfdSignal(fd, 9);
      pidfdWait(fd, ms);
    }
  } finally {
    close(fd);
  }
}

/** Waits until the container has ended and its supervisor has recorded it and cleaned up. */
export function waitSettled(s: ContainerState, ms = -1): boolean {
  return waitGone(s.container, s.bootId, ms) && waitGone(s.supervisor, s.bootId, ms);
}

/** Its stop signal (SIGTERM unless its image or --stop-signal said otherwise), then SIGKILL
 * once `seconds` have passed; returns once it is settled. */
export function stopContainer(s: ContainerState, seconds: number) {
  if (!isSupervised(s)) return;
  if (s.status === "created") throw new MycfsError(`container ${s.name ?? shortId(s.id)} is still starting; try again`);
  const send = (sig: number) => {
    try {
      signalContainer(s, sig);
    } catch {
      // it has just ended by itself
    }
  };
  send(s.stopSignal ?? 15); // SIGTERM
  if (!waitGone(s.container, s.bootId, seconds * 1000)) send(9); // SIGKILL
  if (!waitSettled(s, 10_000)) throw new MycfsError(`container ${s.name ?? shortId(s.id)} did not stop within 10 s of SIGKILL`);
}
