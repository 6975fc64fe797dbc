// Stale state: a container whose supervisor died (SIGKILL, OOM, a crash) cannot be
// running — the kernel killed it (PR_SET_PDEATHSIG), or mycfs does now — but its cgroup,
// writable layer, on the bridge network its port rules and address, and its pasta process
// are still there
// and its record still says running. Every command that reads the state cleans that up
// first, under the lock, so `ps` never shows a dead container as running. After a reboot (the state directory emptied), a container
// directory in the store that no state refers to is removed too.
import { join } from "../paths";
import { ContainerCgroup, hostCgroupFs } from "../cgroups/cgroup";
import type { Store } from "../images/store";
import { MycfsError } from "../errors";
import { close, errnoMessage, fileType, listDir, pidfdOpen, pidfdSignal, readLink, removeTree, trySymlink } from "../native/lib";
import type { StateDir } from "./dir";
import { isAlive, isSupervised, type ContainerState } from "./record";
import { retireBridge } from "../network/bridge";
import { endProcess } from "../container/control";

const SIGKILL = 9;

/** The container's record after recovery; null if it was removed (--rm). */
export function recover(dir: StateDir, s: ContainerState): ContainerState | null {
  if (s.status === "exited" || isSupervised(s)) return s;
  if (isAlive(s.container, s.bootId)) {
    const fd = pidfdOpen(s.container!.pid);
    if (fd !== null) {
      pidfdSignal(fd, SIGKILL);
      close(fd);
    }
  }
  let error = "its supervisor died; mycfs cleaned up after it";
  for (const undo of [
    () => s.cgroup && ContainerCgroup.of(hostCgroupFs, s.cgroup.layout, s.cgroup.name).remove(),
    () => s.network?.mode === "bridge" && retireBridge(dir.root, s.id, s.network.ports),
    // pasta outlives a namespace it joined by pid (slirp4netns ended with mycfs's exit fd)
    () => s.network && "helper" in s.network && s.network.helper && endProcess(s.network.helper, s.bootId, 1000),
  ]) {
    try {
      undo();
    } catch (e) {
      error += ` (${(e as Error).message})`;
    }
  }
  if (s.autoRemove) {
    if (s.storeDir) removeTree(s.storeDir);
    dir.remove(s);
    return null;
  }
  const done: ContainerState = { ...s, status: "exited", exitCode: s.exitCode ?? 137, error, finished: new Date().toISOString() };
  dir.write(done);
  return done;
}

/** Every container, recovered, and the store swept; under the lock. Without a state
 * directory there is nothing to recover, and a listing does not make one. */
export function loadAll(dir: StateDir, store?: Store): ContainerState[] {
  const unlock = dir.exists() ? dir.lock() : () => {};
  try {
    const all = dir.ids().flatMap((id) => {
      const s = dir.read(id);
      const r = s && recover(dir, s);
      return r ? [r] : [];
    });
    if (store) sweepStore(store);
    return all;
  } finally {
    unlock();
  }
}

/** One container by reference, recovered. */
export function loadOne(dir: StateDir, ref: string): ContainerState {
  const s = dir.find(ref);
  if (s.status === "exited" || isSupervised(s)) return s; // nothing to recover: no lock needed
  const unlock = dir.lock();
  try {
    const r = recover(dir, dir.read(s.id) ?? s);
    if (!r) throw new MycfsError(`container ${ref} is gone: its supervisor died and it was started with --rm`);
    return r;
  } finally {
    unlock();
  }
}

const OWNER = "state-dir";

/** Records which state directory a container's store directory belongs to: a symlink,
 * made in one step, so that a sweep never reads half of it. */
export function claimStoreDir(storeDir: string, stateDir: StateDir) {
  const err = trySymlink(stateDir.root, join(storeDir, OWNER));
  if (err) throw new MycfsError(`could not record the owner of ${storeDir}: ${errnoMessage(err)}`);
}

/** Removes container directories whose state is gone (a reboot, a deleted run dir). A
 * directory that names no state directory yet is being set up, and is left alone. */
export function sweepStore(store: Store) {
  const containers = join(store.root, "containers");
  for (const id of listDir(containers) ?? []) {
    const owner = readLink(join(containers, id, OWNER));
    if (owner !== null && fileType(join(owner, id, "state.json")) === null) removeTree(join(containers, id));
  }
}
