// The parent's side of the sync channel: answers the child's numbered sync points in the
// order the plan lists them (a typed protocol: what was expected vs what arrived), logs
// step timings, and returns the first failure the child reports.
import { MycfsError } from "../errors";
import { close, recv, send } from "../native/lib";
import { MsgKind, Sync, type SyncPoint } from "../native/protocol";
import type { Step } from "../plan/ops";

export interface Failure {
  step: number;
  errno: number;
  /** The number of the system call that failed with errno, if one did. */
  syscall?: number;
}

/** What the parent does at a sync point, given the fd the child passed along (the pty
 * master at TERMINAL, the seccomp notification fd at SECCOMP; else -1); a returned fd travels to the child with the go-ahead. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that passes nothing back returns nothing, as the terminal's does
export type SyncHooks = Partial<Record<SyncPoint, (fd: number) => number | void>>;

const failureOf = (m: { step: number; err: number; us: number }): Failure => ({ step: m.step, errno: m.err, ...(m.us > 0 ? { syscall: m.us - 1 } : {}) });

/** What the parent makes while the child works its way to a sync point that waits for
 * it: run once the sync points before it are answered, before the child gets there. */
export type Meanwhile = Partial<Record<SyncPoint, () => void>>;

/** Returns null once the child's end closes (the command was exec'd) or the first failure. */
export function handshake(
  sock: number,
  plan: Step[],
  hooks: SyncHooks,
  onDone?: (step: number, us: number) => void,
  meanwhile: Meanwhile = {},
): Failure | null {
  const expected = plan.flatMap((s) => {
    if (s.kind === "sync" || s.kind === "pty") return [s.point];
    if (s.kind === "seccomp" || s.kind === "enter") return s.point ? [s.point] : [];
    return s.kind === "await" ? [Sync.CREATED] : [];
  });
  const pending = { ...meanwhile };
  let next = 0;
  for (;;) {
    const point = expected[next];
    const work = point === undefined ? undefined : pending[point];
    if (work) {
      delete pending[point!];
      try {
        work();
      } catch (e) {
        const first = childFailure(sock, onDone);
        if (first) return first;
        throw e;
      }
    }
    const m = recv(sock);
    if (m === null) {
      if (next < expected.length) throw new MycfsError(`the container's setup stopped before sync point ${expected[next]}`);
      return null;
    }
    switch (m.kind) {
      case MsgKind.SYNC: {
        if (m.step !== expected[next]) {
          if (m.fd >= 0) close(m.fd);
          throw new MycfsError(`sync protocol: expected sync point ${expected[next] ?? "(none)"}, the child reached ${m.step}`);
        }
        next++;
        const passed = hooks[m.step as SyncPoint]?.(m.fd) ?? undefined;
        try {
          send(sock, MsgKind.GO, m.step, passed);
        } finally {
          if (passed !== undefined) close(passed); // the child has its own copy now
        }
        // OCI create: the container waits for `start`, its sync socket open until its exec
        if (m.step === Sync.CREATED) return null;
        break;
      }
      case MsgKind.DONE:
        onDone?.(m.step, m.us);
        break;
      case MsgKind.ERROR:
        return failureOf(m);
      default:
        throw new MycfsError(`sync protocol: unexpected message kind ${m.kind} from the child`);
    }
  }
}

/** After the parent's work meanwhile failed: the child's own failure, if it reports one
 * before its next sync point (the child that died first took away what the work was
 * making: its network namespace), which is then the error to show. */
function childFailure(sock: number, onDone?: (step: number, us: number) => void): Failure | null {
  for (;;) {
    const m = recv(sock);
    if (m === null) return null;
    if (m.kind === MsgKind.ERROR) return failureOf(m);
    if (m.kind === MsgKind.DONE) onDone?.(m.step, m.us);
    else {
      if (m.fd >= 0) close(m.fd);
      return null;
    }
  }
}
