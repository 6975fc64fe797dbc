// Steps mycfs takes on the host while it plans, on a thread of libmycfs's (csrc/host.c),
// so that their system calls run beside the JavaScript: root's containers' network
// namespace. (The record and the cgroup's directories were tried there too, measured side
// by side: no gain on this 2-CPU VM, where the JavaScript thread's own work is the cost.)
import { MycfsError } from "../errors";
import { close, errnoMessage, hostStart, hostWait } from "../native/lib";
import { encodePlan } from "../plan/encode";
import type { Op } from "../plan/ops";

/** A host step failed: which, and why (the errno, for callers that explain some). */
export class HostStepFailed extends MycfsError {
  constructor(readonly step: Op, readonly errno: number) {
    super(`${step.what}: ${errnoMessage(errno)}`);
  }
}

export class HostSteps {
  private handle: number | undefined;

  private constructor(private readonly steps: Op[], handle: number) {
    this.handle = handle;
  }

  static start(steps: Op[]): HostSteps {
    return new HostSteps(steps, hostStart(encodePlan(steps)));
  }

  /** Waits for the steps, once: the fd one of them kept (-1: none); throws the first failure. */
  wait(): number {
    if (this.handle === undefined) throw new MycfsError("internal: host steps waited for twice");
    const r = hostWait(this.handle);
    this.handle = undefined;
    if (r.failed < 0) return r.fd;
    if (r.fd >= 0) close(r.fd);
    throw new HostStepFailed(this.steps[r.failed]!, r.errno);
  }

  /** Waits for steps whose result is no longer wanted, and lets go of their fd. */
  discard() {
    if (this.handle === undefined) return;
    const { fd } = hostWait(this.handle);
    this.handle = undefined;
    if (fd >= 0) close(fd);
  }
}
