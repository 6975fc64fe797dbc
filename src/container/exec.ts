// `mycfs exec`: a new process inside a running container, as the container's own are. A
// second kind of plan, walked by the same child code: the child is cloned into the
// container's PID namespace (mycfs_spawn_joined) and its cgroup v2 directory, moves itself
// into its v1 cgroups while the host's paths are still there, joins the other namespaces
// with one setns on a pidfd (the user namespace first, when it has one), and gets the
// container's working directory, rlimits, capabilities, no_new_privs and seccomp filter
// before exec. mycfs makes itself non-dumpable first, and the child shares that: until
// the exec, nothing in the container can open it through /proc/PID/exe or /proc/PID/mem
// (runc CVE-2019-5736).
import { ContainerCgroup, hostCgroupFs } from "../cgroups/cgroup";
import { MycfsError } from "../errors";
import { close, pidfdOpen, setDumpable, spawnJoined } from "../native/lib";
import * as op from "../plan/ops";
import { isAlive, shortId, type ContainerState } from "../state/record";
import { CLONE, containerNamespaces } from "./namespaces";
import { DEFAULT_PATH } from "./options";
import { privileges, type Stdio } from "./plan";
import { runPlan, withCgroupFd } from "./run";
import { openIo, type IoMode } from "./stdio";

export interface ExecOptions extends IoMode {
  argv: string[];
  /** KEY=VALUE entries over the container's environment. */
  env: string[];
  workdir?: string;
  debug: boolean;
}

/** Every namespace the container has but the PID one, which the clone itself enters. */
export const joinFlags = (userns: boolean) => (containerNamespaces(userns) & ~CLONE.NEWPID) | CLONE.NEWCGROUP;

/** The container's environment, with -e entries replacing variables of the same name. */
export function execEnv(base: string[], overrides: string[]): string[] {
  const env = new Map(base.map((e) => [e.slice(0, e.indexOf("=")), e] as const));
  for (const e of overrides) env.set(e.slice(0, e.indexOf("=")), e);
  return [...env.values()];
}

export function buildExecPlan(s: ContainerState, o: ExecOptions, pidfd: number, io: Stdio, join: op.Op[] = [], flags = joinFlags(!!s.userns)): op.Op[] {
  const env = execEnv(s.exec.env, [...(o.tty ? [`TERM=${process.env.TERM ?? "xterm"}`] : []), ...o.env]);
  const workdir = o.workdir ?? s.exec.workdir;
  const pathVar = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  const security = {
    caps: new Set(s.exec.caps),
    noNewPrivs: s.exec.noNewPrivs,
    seccomp: s.exec.seccomp === null ? null : Uint8Array.fromBase64(s.exec.seccomp),
    maskPaths: false,
  };
  const names = ["user", "mount", "UTS", "IPC", "network", "cgroup"].filter((_, i) =>
    flags & [CLONE.NEWUSER, CLONE.NEWNS, CLONE.NEWUTS, CLONE.NEWIPC, CLONE.NEWNET, CLONE.NEWCGROUP][i]!);
  return [
    ...join,
    op.setns(pidfd, flags, `join the container's ${names.join(", ")} namespaces (setns on a pidfd of ${s.container!.pid})`),
    ...(s.userns ? [op.setid(0, 0, s.userns.dropGroups)] : []),
    op.chdir(workdir),
    op.stdio(io.fds),
    ...(io.ctty ? [op.pty()] : []),
    ...s.exec.rlimits.map((l) => op.rlimit(l.resource, l.soft, l.hard, l.name)),
    ...privileges(security),
    op.exec({ argv: o.argv, env, path: pathVar, init: false, ctty: io.ctty }),
  ];
}

export async function execIn(s: ContainerState, o: ExecOptions): Promise<number> {
  const notRunning = () => new MycfsError(`container ${s.name ?? shortId(s.id)} is not running`);
  if (s.status !== "running") throw notRunning();
  const rootless = s.userns?.rootless === true;
  setDumpable(false);
  const pidfd = pidfdOpen(s.container!.pid);
  // alive, and the same process, checked with the pidfd held: a recycled pid cannot be joined
  if (pidfd === null || !isAlive(s.container, s.bootId)) throw notRunning();
  const cgroup = s.cgroup && ContainerCgroup.of(hostCgroupFs, s.cgroup.layout, s.cgroup.name);
  try {
    const io = await openIo(o);
    return await runPlan({
      // rootless: the child is already in the user namespace (spawnJoined), so not again
      plan: buildExecPlan(s, o, pidfd, io, cgroup?.joinOps() ?? [], rootless ? joinFlags(true) & ~CLONE.NEWUSER : undefined),
      spawn: (plan) => withCgroupFd(cgroup, (v2) => spawnJoined(plan, pidfd, v2, rootless)),
      hooks: () => ({}),
      io,
      debug: o.debug,
      drainMs: 200,
    });
  } finally {
    close(pidfd);
  }
}
