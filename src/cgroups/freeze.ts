// Pausing a container (runc's pause/resume, docker's pause/unpause): every process of its
// cgroup stopped by the kernel's freezer, and let go again.
//   - cgroup v2: cgroup.freeze 1; the cgroup is frozen once cgroup.events says "frozen 1"
//     (the kernel stops each task at its next return to user space).
//   - cgroup v1: the freezer controller's freezer.state FROZEN, read back until it says
//     FROZEN rather than FREEZING; as runc does, a cgroup that stays FREEZING (a task in an
//     uninterruptible sleep) is thawed and frozen again, and given up on after `timeoutMs`.
// A container joins only the v1 hierarchies its accounting and limits use (cgroup.ts plan),
// so on a v1 or hybrid host it has no freezer cgroup of its own unless it has a v2 directory
// (born there on hybrid hosts whose v2 tree has controllers). Then freeze makes one for the
// pause: a directory named as its others, below the freezer cgroup its processes are in,
// they are all moved in (round after round until none is left out: a child forked meanwhile
// is born where its parent was, and the next round takes it), and it is frozen; thaw thaws
// it, moves them back and removes the directory. A frozen v1 task does not even die of
// SIGKILL, so whoever kills or deletes a paused container thaws it first, as runc does.
import { MycfsError, SysError } from "../errors";
import { E } from "../errno";
import { ContainerCgroup } from "./cgroup";
import { type Hierarchy, parseLayout } from "./layout";

export type FreezerState = "THAWED" | "FREEZING" | "FROZEN";

interface Freezer {
  version: 1 | 2;
  dir: string;
  /** v1, a freezer cgroup made for the pause: its hierarchy, `own` being where the
   * container's processes were. */
  temporary?: Hierarchy;
}

const procs = (cg: ContainerCgroup, dir: string) => (cg.fs.read(`${dir}/cgroup.procs`) ?? "").split("\n").filter(Boolean);

/** The freezer hierarchy as `pid` sees it: its `own` is the freezer cgroup pid is in. */
function pidFreezer(cg: ContainerCgroup, pid: number): Hierarchy | undefined {
  const of = cg.fs.read(`/proc/${pid}/cgroup`);
  if (of === null) throw new MycfsError(`pause: the container's process ${pid} is gone`);
  return parseLayout(cg.fs.read("/proc/self/mountinfo") ?? "", of, () => []).hierarchies.find((h) => h.version === 1 && h.controllers.includes("freezer"));
}

/** Where the container is frozen: its v2 directory, its v1 freezer cgroup, or one made for it. */
function freezer(cg: ContainerCgroup, pid: number): Freezer {
  const v2 = cg.v2Dir;
  if (v2 !== undefined) return { version: 2, dir: v2 };
  const own = [...cg.dirs].find(([h]) => h.version === 1 && h.controllers.includes("freezer"));
  if (own) return { version: 1, dir: own[1] };
  const h = pidFreezer(cg, pid);
  if (!h) throw new MycfsError(`pause: this host has no cgroup freezer (cgroup ${cg.layout.mode}: no v2 directory for the container, no v1 freezer hierarchy)`);
  // paused already: its processes are in the one made for it
  if (h.own.endsWith(`/${cg.name}`)) return { version: 1, dir: h.own, temporary: { ...h, own: h.own.slice(0, -cg.name.length - 1) } };
  return { version: 1, dir: `${h.own}/${cg.name}`, temporary: h };
}

/** Moves every process listed in `from`'s cgroup.procs into `to`, round after round until
 * `from` lists none that `to` does not (`from` may be `to`'s sibling in another hierarchy). */
function moveAll(cg: ContainerCgroup, from: string, to: string, deadline: number) {
  for (;;) {
    const there = new Set(procs(cg, to));
    const left = procs(cg, from).filter((p) => !there.has(p));
    if (!left.length) return;
    if (performance.now() > deadline) throw new MycfsError(`pause: processes keep appearing in ${from}; could not move them all into ${to}`);
    for (const pid of left)
      try {
        cg.fs.write(`${to}/cgroup.procs`, pid);
      } catch (e) {
        if (!(e instanceof SysError && e.errno === E.ESRCH)) throw e; // gone meanwhile
      }
  }
}

/** Polls until `done` or the deadline; `again` runs every `every` tries (runc's re-freeze). */
function waitFor(done: () => boolean, deadline: number, again?: () => void, every = 1000): boolean {
  for (let i = 1; !done(); i++) {
    if (performance.now() > deadline) return false;
    if (again && i % every === 0) again();
    Bun.sleepSync(1);
  }
  return true;
}

const v1State = (cg: ContainerCgroup, dir: string) => (cg.fs.read(`${dir}/freezer.state`) ?? "").trim() as FreezerState;
const v2Frozen = (cg: ContainerCgroup, dir: string) => /^frozen 1$/m.test(cg.fs.read(`${dir}/cgroup.events`) ?? "");

/** Freezes every process of the container whose first process is `pid`; returns once the
 * kernel says they are all frozen. On failure the container is left running. */
export function freezeContainer(cg: ContainerCgroup, pid: number, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  const f = freezer(cg, pid);
  const { fs } = cg;
  if (f.version === 2) {
    fs.write(`${f.dir}/cgroup.freeze`, "1");
    if (waitFor(() => v2Frozen(cg, f.dir), deadline)) return;
    fs.write(`${f.dir}/cgroup.freeze`, "0");
    throw new MycfsError(`pause: ${f.dir} did not freeze within ${timeoutMs / 1000} s; the container runs on`);
  }
  if (f.temporary) {
    if (!cg.dirs.size) throw new MycfsError("pause: the container has no cgroup (rootless without limits): nothing lists its processes");
    if (fs.read(`${f.dir}/freezer.state`) === null) ContainerCgroup.of(fs, { mode: "v1", hierarchies: [f.temporary] }, cg.name).create();
    try {
      // every hierarchy it has lists all its processes
      moveAll(cg, cg.dirs.values().next().value!, f.dir, deadline);
    } catch (e) {
      thawContainer(cg, pid);
      throw e;
    }
  }
  const frozen = () => v1State(cg, f.dir) === "FROZEN";
  fs.write(`${f.dir}/freezer.state`, "FROZEN");
  const refreeze = () => {
    fs.write(`${f.dir}/freezer.state`, "THAWED");
    fs.write(`${f.dir}/freezer.state`, "FROZEN");
  };
  if (waitFor(frozen, deadline, refreeze)) return;
  thawContainer(cg, pid);
  throw new MycfsError(`pause: ${f.dir} stayed FREEZING for ${timeoutMs / 1000} s (a process in an uninterruptible sleep?); the container runs on`);
}

/** Lets the container's processes run again; a freezer cgroup made for the pause goes. */
export function thawContainer(cg: ContainerCgroup, pid: number, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  const f = freezer(cg, pid);
  const { fs } = cg;
  if (f.version === 2) {
    fs.write(`${f.dir}/cgroup.freeze`, "0");
    if (!waitFor(() => !v2Frozen(cg, f.dir), deadline)) throw new MycfsError(`resume: ${f.dir} still frozen after ${timeoutMs / 1000} s`);
    return;
  }
  if (fs.read(`${f.dir}/freezer.state`) === null) return; // not paused: no cgroup made for it
  fs.write(`${f.dir}/freezer.state`, "THAWED");
  if (!waitFor(() => v1State(cg, f.dir) === "THAWED", deadline)) throw new MycfsError(`resume: ${f.dir} still not THAWED after ${timeoutMs / 1000} s`);
  if (!f.temporary) return;
  moveAll(cg, f.dir, f.temporary.own, deadline);
  ContainerCgroup.of(fs, { mode: "v1", hierarchies: [f.temporary] }, cg.name).remove();
}

/** THAWED, FREEZING or FROZEN, as runc's state reports paused. */
export function freezerState(cg: ContainerCgroup, pid: number): FreezerState {
  const f = freezer(cg, pid);
  if (f.version === 2) {
    if ((cg.fs.read(`${f.dir}/cgroup.freeze`) ?? "0").trim() !== "1") return "THAWED";
    return v2Frozen(cg, f.dir) ? "FROZEN" : "FREEZING";
  }
  return cg.fs.read(`${f.dir}/freezer.state`) === null ? "THAWED" : v1State(cg, f.dir);
}
