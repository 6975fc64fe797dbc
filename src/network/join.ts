// A network namespace to join (--network container:NAME, ns:PATH), opened by mycfs before
// the clone, so that what is joined is the namespace checked here: the child setns's the
// fd (OP_SETNS) and, as every fd but 0-2, closes it before exec.
import { NAMESPACE_FLAGS, NAMESPACE_WORDS } from "../container/namespaces";
import { MycfsError } from "../errors";
import { close, openNamespace } from "../native/lib";
import { resolve } from "../paths";
import type { Namespace } from "../spec/spec";
import type { StateDir } from "../state/dir";
import { type ContainerState, isAlive, shortId } from "../state/record";
import { loadOne } from "../state/recover";
import type { NetworkMode, NetworkRecord } from "./mode";

export interface JoinedNetwork {
  fd: number;
  /** The namespace file, for the plan's words. */
  path: string;
  record: NetworkRecord;
}

/** The network namespace of another running container: its record's process, checked to be
 * that process (pid and start time) with the fd already open, so a recycled pid is never
 * joined. */
function containerNetns(ref: string, flag: string, state: StateDir): JoinedNetwork {
  let s: ContainerState;
  try {
    s = loadOne(state, ref);
  } catch (e) {
    throw e instanceof MycfsError ? new MycfsError(`--network ${flag}: ${e.message}`, e.exitCode, e) : e;
  }
  const name = s.name ?? shortId(s.id);
  const notRunning = () => new MycfsError(`--network ${flag}: container ${name} is not running; start it first (mycfs ps -a)`);
  if (s.status !== "running") throw notRunning();
  const path = `/proc/${s.container!.pid}/ns/net`;
  const ns = openNamespace(path);
  if (ns === null || !isAlive(s.container, s.bootId)) {
    if (ns) close(ns.fd);
    throw notRunning();
  }
  return { fd: ns.fd, path: `${path} (container ${name})`, record: { mode: "container", id: s.id } };
}

/** "a UTS", "an IPC". */
const aNamespace = (t: Namespace) => `${t === "ipc" ? "an" : "a"} ${NAMESPACE_WORDS[t]}`;

/** A namespace file, refused unless the kernel says it is one of `type` (nsfs's
 * NS_GET_NSTYPE on the opened fd, not its name); `flag`: where it was given, for errors.
 * Its inode and its owning user namespace's come with it. */
export function openNamespaceFile(given: string, type: Namespace, flag: string): { fd: number; path: string; inode: number; owner: number } {
  const path = resolve(given);
  const ns = openNamespace(path);
  const files = type === "network" ? "/var/run/netns/NAME, /proc/PID/ns/net" : `/proc/PID/ns/${PROC_NAMES[type]}, or a bind mount of one`;
  if (ns === null)
    throw new MycfsError(
      `${flag}: ${path} does not exist; give ${aNamespace(type)} namespace file (${type === "network" ? "ip netns add NAME makes /var/run/netns/NAME" : files})`,
    );
  if (ns.type !== NAMESPACE_FLAGS[type]) {
    if (ns.fd >= 0) close(ns.fd);
    const kind = (Object.keys(NAMESPACE_FLAGS) as Namespace[]).find((k) => NAMESPACE_FLAGS[k] === ns.type);
    const is = kind ? `${aNamespace(kind)} namespace, not ${aNamespace(type)} one` : "no namespace file";
    throw new MycfsError(`${flag}: ${path} is ${is}; give ${aNamespace(type)} namespace (${files})`);
  }
  return { fd: ns.fd, path, inode: ns.inode, owner: ns.owner };
}

/** /proc/PID/ns's names. */
const PROC_NAMES: Record<Namespace, string> = {
  pid: "pid",
  network: "net",
  ipc: "ipc",
  uts: "uts",
  mount: "mnt",
  user: "user",
  cgroup: "cgroup",
  time: "time",
};

/** A network namespace file (ip netns add NAME makes /var/run/netns/NAME). */
export function openNetnsFile(given: string, flag: string): JoinedNetwork {
  const { fd, path } = openNamespaceFile(given, "network", flag);
  return { fd, path, record: { mode: "ns", path } };
}

/** The namespace a joined mode names, opened; undefined for the others. */
export function openNetwork(n: NetworkMode, flag: string, state: StateDir): JoinedNetwork | undefined {
  if (n.mode === "container") return containerNetns(n.ref, flag, state);
  if (n.mode === "ns") return openNetnsFile(n.path, `--network ${flag}`);
  return undefined;
}
