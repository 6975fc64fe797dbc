// What mycfs records about a container, and how any mycfs process tells whether it is
// still running: a pid alone could have been recycled, so a process is named by its pid
// and its start time (/proc/PID/stat, clock ticks since boot), within one boot.
import type { Layout } from "../cgroups/layout";
import type { Rlimit } from "../container/rlimits";
import type { ProcessUser } from "../spec/spec";
import type { NetworkRecord } from "../network/mode";
import { processStart, readFile } from "../native/lib";

export interface ProcessRef {
  pid: number;
  /** starttime from /proc/PID/stat */
  start: number;
}

export type Status = "created" | "running" | "exited";

export interface ContainerState {
  id: string;
  name?: string;
  /** The image name, or `--rootfs DIR`. */
  image: string;
  command: string[];
  status: Status;
  /** Started with -d: a supervisor waits for it, its output goes to a log. */
  detached: boolean;
  /** Removed (state and writable layer) as soon as it exits. */
  autoRemove: boolean;
  bootId: string;
  /** The mycfs process that waits for the container: `run` itself, or the supervisor. */
  supervisor: ProcessRef;
  /** The container's first process, as the host sees it. */
  container?: ProcessRef;
  exitCode?: number;
  oomKilled?: boolean;
  /** Why it ended otherwise than by itself. */
  error?: string;
  /** Its cgroup: the hierarchies it has directories in (none: rootless without limits). */
  cgroup?: { name: string; layout: Layout };
  /** A user namespace of its own, which exec joins too; rootless: made by a user, not root. */
  userns?: { rootless: boolean; dropGroups: boolean };
  /** What `stop` sends first: the image's StopSignal or --stop-signal (absent: SIGTERM). */
  stopSignal?: number;
  /** --network (absent in records of an older mycfs: none); on the bridge, its address,
   * host veth and published ports. */
  network?: NetworkRecord;
  /** Its directory in the store (overlay upper layer), if it has one. */
  storeDir?: string;
  /** What `exec` needs to start a process as the container's own are. */
  exec: ExecDefaults;
  created: string;
  started?: string;
  finished?: string;
}

export interface ExecDefaults {
  /** Without HOME where it came from the user's passwd entry: exec -u gets its own user's. */
  env: string[];
  workdir: string;
  /** Its user, resolved when it started (absent in records of an older mycfs: root). */
  user?: ProcessUser;
  /** run's --group-add, which exec -u resolves again for its user, as docker does. */
  groupAdd?: string[];
  rlimits: Rlimit[];
  caps: string[];
  noNewPrivs: boolean;
  /** The compiled seccomp filter, base64, or null for none. */
  seccomp: string | null;
  /** seccomp(2)'s SECCOMP_FILTER_FLAG_*s for it (an OCI container's config chose them). */
  seccompFlags?: number;
  /** The container shares mycfs's own user namespace, where its root could reach mycfs
   * (an OCI container under a rootless engine): exec goes through the enter program. */
  sharesUserns?: boolean;
  /** The namespaces exec joins (CLONE_NEW* flags), where not every one a container of
   * mycfs's own has (an OCI container's config chose them). */
  namespaces?: number;
  /** The process's capability sets as given (runc exec's process file), instead of
   * those mycfs derives from `caps` and the user. */
  capabilities?: { bounding: string[]; permitted: string[]; inheritable: string[]; ambient?: string[] };
}

export function processRef(pid: number): ProcessRef {
  return { pid, start: processStart(pid) ?? 0 };
}

let boot: string | undefined;
export function bootId(): string {
  boot ??= (readFile("/proc/sys/kernel/random/boot_id") ?? "").trim();
  return boot;
}

/** Whether the process is the one recorded (same boot, same pid, same start). */
export function isAlive(ref: ProcessRef | undefined, boot: string): boolean {
  return !!ref && ref.pid > 0 && boot === bootId() && processStart(ref.pid) === ref.start;
}

/** Running or starting, with its supervisor still there to record how it ends. */
export function isSupervised(s: ContainerState): boolean {
  return s.status !== "exited" && isAlive(s.supervisor, s.bootId);
}

export const shortId = (id: string) => id.slice(0, 12);
