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
 * master at TERMINAL; else -1); a returned fd travels to the child with the go-ahead. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that passes nothing back returns nothing, as the terminal's does
export type SyncHooks = Partial<Record<SyncPoint, (fd: number) => number | void>>;

/** Returns null once the child's end closes (the command was exec'd) or the first failure.
 * `prepare` runs while the child works its way to Sync.PREPARED, which waits for it. */
export function handshake(sock: number, plan: Step[], hooks: SyncHooks, onDone?: (step: number, us: number) => void, prepare?: () => void): Failure | null {
  const expected = plan.flatMap((s) => (s.kind === "sync" || s.kind === "pty" ? [s.point] : s.kind === "await" ? [Sync.CREATED] : []));
  let next = 0;
  for (;;) {
    if (expected[next] === Sync.PREPARED && prepare) {
      prepare();
      prepare = undefined;
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
        return { step: m.step, errno: m.err, ...(m.us > 0 ? { syscall: m.us - 1 } : {}) };
      default:
        throw new MycfsError(`sync protocol: unexpected message kind ${m.kind} from the child`);
    }
  }
}
