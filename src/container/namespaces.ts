// The namespaces each container gets at clone: the user namespace when asked for
// (created first, it owns the others), and all others but the cgroup namespace, which the child enters once it is in its own cgroup, so
// that the namespace's root is the container's cgroup (plan.ts).
import { fileType } from "../native/lib";

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

/** clone3 flags; the time namespace only where the kernel has it (5.6+). */
export function cloneFlags(userns: boolean, hasTimeNs = fileType("/proc/self/ns/time") !== null): number {
  return (
    (userns ? CLONE.NEWUSER : 0) | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET |
    (hasTimeNs ? CLONE.NEWTIME : 0)
  );
}
