// The namespaces each container gets: the user namespace when asked for (created first,
// it owns the others), mount, UTS, IPC, PID and network. The clone makes only the user
// and PID ones (the child must be born in the PID namespace to be its PID 1); the child
// unshares the others as its first step (plan.ts), so that making them (the network
// namespace alone takes 0.7 ms) is the child's time, while mycfs prepares the container.
// On the bridge, in a plan without Sync.PREPARED, the clone makes the network namespace
// too: mycfs gives it eth0 while the child sets up (plan.ts, clonesNetwork).
// The cgroup namespace the child enters once it is in its own cgroup, so that the
// namespace's root is the container's cgroup. No time namespace, as docker, podman, runc
// and bwrap make none: mycfs sets no clock offsets, so one would change nothing a
// container sees, and only a process with its address space to itself may enter one,
// which would take from `mycfs exec` the shared-memory clone that makes it fast
// (csrc/api.c).

export const CLONE = {
  NEWNS: 0x20000,
  NEWCGROUP: 0x2000000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** Every namespace a container has, but the cgroup one. */
export function containerNamespaces(userns: boolean): number {
  return (userns ? CLONE.NEWUSER : 0) | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET;
}

/** Of those, what clone3 makes; the child unshares the rest. */
export const clonedNamespaces = (userns: boolean, bridge: boolean): number => (userns ? CLONE.NEWUSER : 0) | CLONE.NEWPID | (bridge ? CLONE.NEWNET : 0);
