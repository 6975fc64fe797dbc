// What mycfs does on the host around a container's child — its record, its cgroup, its
// root's layers — as a list of effects, each with its undo. They are made in order (some
// before the clone, the rest while the child sets up: start.ts decides which) and undone
// in reverse once the container is gone, or when a later step failed. An undo that fails
// is said as a warning: it never takes the place of the error that ended the run, nor of
// its exit code.
import { log } from "../log";

export class HostEffects {
  private readonly done: { what: string; undo: () => void }[] = [];

  /** Makes one effect; if `make` throws, nothing is recorded for it (it undoes its own half). */
  make(what: string, make: () => void, undo: () => void) {
    make();
    this.made(what, undo);
  }

  /** Records an effect made elsewhere (the root, which an async step makes). */
  made(what: string, undo: () => void) {
    this.done.push({ what, undo });
  }

  /** Undoes every effect made, the last first. */
  undoAll() {
    for (const e of this.done.splice(0).reverse()) {
      try {
        e.undo();
      } catch (err) {
        log.warn(`${e.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
