// The state directory: one directory per container, shared by every mycfs process.
//   {state}/{id}/state.json   what record.ts describes, replaced atomically (write + rename)
//   {state}/{id}/log.json*    a detached container's output (container/log-file.ts)
//   {state}/names/{name}      a symlink to the id: claiming a name is one atomic symlink(2)
//   {state}/lock              flock'd where two commands could race (recovery, removal)
// Root's lives on /run (a tmpfs on most hosts): a reboot empties it, as it ends every
// container.
import { join, resolve } from "../paths";
import { MycfsError } from "../errors";
import { defaultRoot, ensureDir } from "../images/store";
import {
  chmod,
  close,
  errnoMessage,
  fileType,
  listDir,
  lock,
  mkdir,
  readFile,
  readLink,
  removeTree,
  replaceFile,
  trySymlink,
  tryMkdir,
  tryUnlink,
} from "../native/lib";
import { shortId, type ContainerState } from "./record";
import { E } from "../errno";

export const DEFAULT_STATE = "/run/mycfs";

/** Root's is the system's run directory; anyone else's is in their XDG runtime directory,
 * or beside their store (a reboot is still told apart: records carry the boot id). */
export function defaultStateDir(): string {
  if (process.getuid?.() === 0) return DEFAULT_STATE;
  return process.env.XDG_RUNTIME_DIR ? `${process.env.XDG_RUNTIME_DIR}/mycfs` : `${defaultRoot()}/run`;
}

export class StateDir {
  readonly root: string;
  constructor(root?: string) {
    this.root = resolve(root || process.env.MYCFS_STATE || defaultStateDir());
  }

  dir(id: string) {
    return join(this.root, id);
  }
  logPath(id: string) {
    return join(this.root, id, "log.json");
  }

  /** Creates the container's directory and claims its name; throws if the name is taken. */
  create(s: ContainerState) {
    // the common case is one mkdir; the parents only the first time
    if (tryMkdir(this.dir(s.id)) === E.ENOENT) {
      ensureDir(this.root);
      mkdir(this.dir(s.id), 0o700);
    }
    try {
      if (s.name) this.claimName(s.name, s.id);
      this.write(s);
    } catch (e) {
      removeTree(this.dir(s.id));
      throw e;
    }
  }

  private claimName(name: string, id: string) {
    const link = join(this.root, "names", name);
    let err = trySymlink(id, link);
    if (err === E.ENOENT) {
      ensureDir(join(this.root, "names"));
      err = trySymlink(id, link);
    }
    if (err === 0) return;
    if (err !== E.EEXIST) throw new MycfsError(`could not claim the name '${name}' in ${this.root}: ${errnoMessage(err)}`);
    // Taken: by a container that still exists, or left behind by one whose state is gone.
    const holder = this.nameHolder(name);
    if (holder && this.read(holder))
      throw new MycfsError(`the name '${name}' is already used by container ${shortId(holder)}: remove it (mycfs rm ${name}) or choose another name`);
    const unlock = this.lock();
    try {
      tryUnlink(link);
      if (trySymlink(id, link) === E.EEXIST) throw new MycfsError(`the name '${name}' was just taken by another container; choose another name`);
    } finally {
      unlock();
    }
  }

  private nameHolder(name: string): string | null {
    return readLink(join(this.root, "names", name));
  }

  write(s: ContainerState) {
    replaceFile(join(this.dir(s.id), "state.json"), `${JSON.stringify(s, null, 2)}\n`);
  }

  read(id: string): ContainerState | null {
    const text = readFile(join(this.dir(id), "state.json"));
    if (text === null) return null;
    try {
      return JSON.parse(text) as ContainerState;
    } catch {
      return null;
    }
  }

  exists(): boolean {
    return fileType(this.root) !== null;
  }

  /** Every container's id, sorted. */
  ids(): string[] {
    return (listDir(this.root) ?? []).filter((f) => /^[0-9a-f]{64}$/.test(f)).sort();
  }

  /** Lets every user reach the container's directory and the files in it by name, without
   * listing it or the root: the root of a user namespace root made is such a user on the
   * host, and the container's /etc files are bound from here (its state and log stay 0600). */
  reachable(id: string) {
    chmod(this.root, 0o711);
    chmod(this.dir(id), 0o711);
  }

  /** Removes the container's state, log and name. */
  remove(s: ContainerState) {
    if (s.name && this.nameHolder(s.name) === s.id) tryUnlink(join(this.root, "names", s.name));
    removeTree(this.dir(s.id));
  }

  /** Takes the directory's lock; call the result to release it. */
  lock(): () => void {
    ensureDir(this.root);
    const fd = lock(join(this.root, "lock"), true, true)!;
    return () => close(fd);
  }

  /** A container by name, full id, or unique id prefix. */
  find(ref: string): ContainerState {
    const byName = /^[0-9a-f]{64}$/.test(ref) ? null : this.nameHolder(ref);
    const exact = byName ?? (/^[0-9a-f]{64}$/.test(ref) ? ref : null);
    if (exact) {
      const s = this.read(exact);
      if (s) return s;
    }
    const matches = /^[0-9a-f]+$/.test(ref) ? this.ids().filter((id) => id.startsWith(ref)) : [];
    if (matches.length > 1) throw new MycfsError(`'${ref}' matches ${matches.length} containers (${matches.map(shortId).join(", ")}); give more of the id`);
    const s = matches.length === 1 ? this.read(matches[0]!) : null;
    if (!s) throw new MycfsError(`no such container: ${ref} (see mycfs ps -a)`);
    return s;
  }
}
