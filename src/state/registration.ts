// A container's record from creation to exit, kept by the mycfs process that waits for it
// (`mycfs run` in the foreground, the supervisor for `run -d`).
import { debugging, log } from "../log";
import type { StateDir } from "./dir";
import { bootId, processRef, type ContainerState } from "./record";

export type NewContainer = Omit<ContainerState, "status" | "bootId" | "supervisor" | "created">;

export class Registration {
  private constructor(
    private readonly dir: StateDir,
    readonly state: ContainerState,
  ) {}

  /** Records the container as created, claiming its name: before anything else is made. */
  static create(dir: StateDir, c: NewContainer): Registration {
    const state: ContainerState = { ...c, status: "created", bootId: bootId(), supervisor: processRef(process.pid), created: new Date().toISOString() };
    dir.create(state);
    return new Registration(dir, state);
  }

  /** Records what became known while the container starts. */
  update(fields: Partial<ContainerState>) {
    Object.assign(this.state, fields);
    this.dir.write(this.state);
  }

  running(pid: number) {
    Object.assign(this.state, { status: "running", container: processRef(pid), started: new Date().toISOString() });
    this.dir.write(this.state);
  }

  /** Records how it ended; a container that never started, or --rm, leaves no record. */
  exited(exitCode: number | undefined, oomKilled: boolean) {
    try {
      if (this.state.status === "created" || this.state.autoRemove) return this.dir.remove(this.state);
      Object.assign(this.state, { status: "exited", exitCode, oomKilled, finished: new Date().toISOString() });
      this.dir.write(this.state);
    } catch (e) {
      // the state directory was removed under us (a simulated reboot): nothing to record
      if (debugging) log.debug(`could not record the exit: ${(e as Error).message}`);
    }
  }
}
