// The namespaces each container gets: the user namespace when asked for (created first,
// it owns the others), mount, UTS, IPC, PID and network. The clone makes only the user
// and PID ones (the child must be born in the PID namespace to be its PID 1); the child
// unshares the others as its first step (plan.ts), so that making them (the network
// namespace alone takes 0.7 ms) is the child's time, while mycfs prepares the container.
// On the bridge, in a plan without Sync.PREPARED, the clone makes the network namespace
// too: mycfs gives it eth0 while the child sets up (plan.ts, clonesNetwork).
// The cgroup namespace the child enters once it is in its own cgroup, so that the
// namespace's root is the container's cgroup. mycfs's own containers have no time
// namespace, as docker's, podman's and bwrap's: mycfs sets no clock offsets, so one would
// change nothing a container sees, and only a process with its address space to itself
// may join one, which would take from `mycfs exec` the shared-memory clone that makes it
// fast (csrc/api.c). config.json may ask for one, or join namespaces by path: plan.ts's
// namespaceSetup says what the clone makes then and what the child does.
import { MycfsError } from "../errors";
import { close, openNamespace } from "../native/lib";
import { resolve } from "../paths";
import type { Namespace } from "../spec/spec";

export const CLONE = {
  NEWTIME: 0x80,
  NEWNS: 0x20000,
  NEWCGROUP: 0x2000000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** The spec's namespace types as CLONE_NEW* flags. */
export const NAMESPACE_FLAGS: Record<Namespace, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  mount: CLONE.NEWNS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** Their names in words. */
export const NAMESPACE_WORDS: Record<Namespace, string> = {
  pid: "PID",
  network: "network",
  ipc: "IPC",
  uts: "UTS",
  mount: "mount",
  user: "user",
  cgroup: "cgroup",
  time: "time",
};

/** Every namespace a container has, but the cgroup one. */
export function containerNamespaces(userns: boolean): number {
  return (userns ? CLONE.NEWUSER : 0) | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET;
}

/** Of those, what clone3 makes; the child unshares the rest. */
export const clonedNamespaces = (userns: boolean, bridge: boolean): number => (userns ? CLONE.NEWUSER : 0) | CLONE.NEWPID | (bridge ? CLONE.NEWNET : 0);

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
