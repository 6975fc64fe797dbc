// Capabilities: docker's default set, --cap-add/--cap-drop with ALL, as bit masks for the
// child's OP_CAPS step.
import { MycfsError } from "../errors";

/** Capability names, indexed by number (linux/capability.h). */
export const CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
] as const;

/** Docker's default: what most programs need, none of what reaches beyond the container. */
export const DEFAULT_CAPS = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
];

function capName(input: string, flag: string): string {
  const name = input.toUpperCase().replace(/^CAP_/, "");
  if (name !== "ALL" && !(CAPABILITIES as readonly string[]).includes(name))
    throw new MycfsError(`${flag} ${input}: unknown capability; use a name from capabilities(7), e.g. NET_ADMIN, or ALL`);
  return name;
}

/** The set a container keeps: docker's default, minus --cap-drop, plus --cap-add (adds win). */
export function resolveCaps(add: string[], drop: string[], privileged: boolean): Set<string> {
  const adds = add.map((c) => capName(c, "--cap-add"));
  const drops = drop.map((c) => capName(c, "--cap-drop"));
  if (privileged || adds.includes("ALL")) return new Set(CAPABILITIES.filter((c) => privileged || !drops.includes(c)));
  const kept = new Set(drops.includes("ALL") ? [] : DEFAULT_CAPS.filter((c) => !drops.includes(c)));
  for (const c of adds) kept.add(c);
  return kept;
}

/** The capabilities mycfs itself may pass on: its bounding set. A container cannot be
 * given more (capset fails), e.g. where a sandbox has removed CAP_SYS_RESOURCE. */
export function capsFromMask(hex: string): Set<string> {
  // two 32-bit halves, not a BigInt: this runs on every start, where BigInt is slow
  const lo = parseInt(hex.slice(-8) || "0", 16),
    hi = parseInt(hex.slice(0, -8) || "0", 16);
  return new Set(CAPABILITIES.filter((_, i) => ((i < 32 ? lo >>> i : hi >>> (i - 32)) & 1) === 1));
}

/** A bit mask of capability numbers; exact in a double, since numbers stay below 53. */
export function capMask(caps: Iterable<string>): number {
  let mask = 0;
  for (const c of caps) mask += 2 ** (CAPABILITIES as readonly string[]).indexOf(c);
  return mask;
}

/** A process's sets from the capabilities a container keeps. Docker gives a user other than
 * root none permitted or effective, only the bounding set, so that setuid programs and file
 * capabilities work up to it (moby oci/oci.go SetCapabilities: "Do not set Effective and
 * Permitted capabilities for non-root users, to match what execve does"). */
export const processCaps = (caps: string[], uid: number) => ({ bounding: caps, permitted: uid === 0 ? caps : [], inheritable: [] as string[] });
