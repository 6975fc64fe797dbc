// `mycfs exec`: a new process inside a running container, as the container's own are. A
// second kind of plan, walked by the same child code. The process that enters must hold
// nothing the container could use against the host while the container can reach it (runc
// CVE-2019-5736, CVE-2016-9962). Without CAP_SYS_PTRACE in the initial user namespace, a
// container cannot reach a non-dumpable process whose memory belongs to that namespace
// (the kernel refuses ptrace and /proc/PID/exe, mem and fd): mycfs makes itself
// non-dumpable and clones the child straight into the container, sharing its memory, the
// fast way. A container that holds CAP_SYS_PTRACE (no user namespace: --cap-add, or
// --privileged) could, and so could a rootless one's own user, whose namespace it is: then
// the enter program (csrc/enter/main.c), run from a sealed memfd, clones a copy of itself
// into the container, with nothing of mycfs's memory, binary or fds.
// Either way the process moves itself into the v1 cgroups while the host's paths are still
// there, is born in the cgroup v2 directory, joins the other namespaces with one setns on a
// pidfd (the user namespace first, when it has one), and gets the container's working
// directory (resolved inside its root, CVE-2024-21626), rlimits, user, capabilities,
// no_new_privs and seccomp filter before exec.
import { ContainerCgroup, hostCgroupFs } from "../cgroups/cgroup";
import { MycfsError } from "../errors";
import { close, pidfdOpen, setDumpable, spawnInto, spawnJoined } from "../native/lib";
import { Sync } from "../native/protocol";
import * as op from "../plan/ops";
import { isAlive, shortId, type ContainerState } from "../state/record";
import { CLONE, containerNamespaces } from "./namespaces";
import { DEFAULT_PATH } from "./options";
import { privileges, type Stdio, withHome } from "./plan";
import { processCaps } from "./caps";
import { type Accounts, checkOneId, containerAccounts, resolveUser, withGroups } from "./user";
import type { ProcessUser } from "../spec/spec";
import { runPlan, withCgroupFd } from "./run";
import { type ContainerIo, openIo, type IoMode } from "./stdio";

export interface ExecOptions extends IoMode {
  argv: string[];
  /** KEY=VALUE entries over the container's environment. */
  env: string[];
  workdir?: string;
  /** -u NAME|UID[:GROUP|GID], resolved in the container's own files (default: its user). */
  user?: string;
  /** --group-add: groups beside the user's. */
  groupAdd: string[];
  debug: boolean;
  /** runc exec -d (the OCI front end): the process outlives mycfs, which returns 0 once it runs. */
  detach?: boolean;
  /** The process runs: its pid (runc exec --pid-file). */
  started?(pid: number): void;
  /** The notification fd of the process's seccomp filter (an OCI container's
   * SCMP_ACT_NOTIFY), and the process's pid: the callee closes it. */
  seccompListener?(fd: number, pid: number): void;
}

/** Every namespace the container has but the PID one, which the clone itself enters. */
const joinFlags = (userns: boolean) => (containerNamespaces(userns) & ~CLONE.NEWPID) | CLONE.NEWCGROUP;

/** The container's environment, with -e entries replacing variables of the same name. */
export function execEnv(base: string[], overrides: string[]): string[] {
  const env = new Map(base.map((e) => [e.slice(0, e.indexOf("=")), e] as const));
  for (const e of overrides) env.set(e.slice(0, e.indexOf("=")), e);
  return [...env.values()];
}

/** The fds of ours the plan uses: a pidfd of the container's first process, and its
 * cgroup v2 directory (-1: none). */
export interface Joined {
  pidfd: number;
  cgroup: number;
}

/** Whether the container could reach the process that enters it (see above), or has a
 * time namespace, which only a process with its memory to itself may join: then exec
 * goes through the enter program. */
export const throughEnterProgram = (s: ContainerState) =>
  ((s.exec.namespaces ?? 0) & CLONE.NEWTIME) !== 0 || (s.userns ? s.userns.rootless : s.exec.sharesUserns === true || s.exec.caps.includes("SYS_PTRACE"));

/** The user a container's record names (one written before mycfs recorded it: root). */
export const recordedUser = (s: ContainerState): ProcessUser => s.exec.user ?? { uid: 0, gid: 0, additionalGids: [], home: "/root" };

/** exec's user: -u resolved in the container's own account files, as they are now, with
 * run's --group-add (as docker does) and exec's; else the container's user, with exec's
 * --group-add. `accounts`: read only when needed. */
export function execUser(s: ContainerState, o: Pick<ExecOptions, "user" | "groupAdd">, accounts: () => Accounts): ProcessUser {
  if (o.user === undefined && o.groupAdd.length === 0) return recordedUser(s);
  const a = accounts();
  const user =
    o.user === undefined ? withGroups(recordedUser(s), o.groupAdd, a) : resolveUser(o.user, [...(s.exec.groupAdd ?? []), ...o.groupAdd], a, `-u ${o.user}`);
  // (the maps are not recorded: an id outside them fails at its step, EINVAL)
  if (s.userns?.dropGroups === false) checkOneId(user, o.groupAdd, o.user === undefined ? "the container's user" : `-u ${o.user}`);
  return user;
}

export function buildExecPlan(s: ContainerState, o: ExecOptions, fds: Joined, io: Stdio, user: ProcessUser, join: op.Step[] = []): op.Step[] {
  const env = execEnv(withHome(s.exec.env, user.home), [...(o.tty ? [`TERM=${process.env.TERM ?? "xterm"}`] : []), ...o.env]);
  const workdir = o.workdir ?? s.exec.workdir;
  const pathVar = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  const security = {
    capabilities: s.exec.capabilities ?? processCaps(s.exec.caps, user.uid),
    noNewPrivileges: s.exec.noNewPrivs,
    seccomp: s.exec.seccomp === null ? null : Uint8Array.fromBase64(s.exec.seccomp),
    ...(s.exec.seccompFlags ? { seccompFlags: s.exec.seccompFlags } : {}),
    user,
  };
  // rootless: only a process with CAP_SYS_ADMIN in the container's user namespace may clone
  // into its PID namespace, so the enter program joins that one first
  const rootless = s.userns?.rootless === true;
  const flags = (s.exec.namespaces ?? joinFlags(!!s.userns)) & ~CLONE.NEWPID & ~(rootless ? CLONE.NEWUSER : 0);
  const names = ["user", "mount", "UTS", "IPC", "network", "cgroup", "time"].filter(
    (_, i) => flags & [CLONE.NEWUSER, CLONE.NEWNS, CLONE.NEWUTS, CLONE.NEWIPC, CLONE.NEWNET, CLONE.NEWCGROUP, CLONE.NEWTIME][i]!,
  );
  const pid = s.container!.pid;
  // in the enter program, which nothing in the container can see, these come before it enters
  const enter = throughEnterProgram(s)
    ? [
        ...(rootless ? [op.setns(fds.pidfd, CLONE.NEWUSER, `join the user namespace of ${pid}, whose root alone may clone into its PID namespace`)] : []),
        op.prctl(op.PR.SET_DUMPABLE, 0, "make the enter program non-dumpable, and so its clone"),
        op.enter(fds.pidfd, fds.cgroup, pid),
      ]
    : [];
  return [
    ...join, // the host's cgroup files
    ...enter,
    op.setns(fds.pidfd, flags, `join the container's ${names.join(", ")} namespaces (setns on a pidfd of ${pid})`),
    ...(s.userns ? [op.setid(0, 0, s.userns.dropGroups ? [] : null, "root of the container's user namespace, which it joined")] : []),
    // the mount namespace's root, which setns made this process's: the container's own
    op.root("/"),
    op.chdir(workdir),
    op.stdio(io.fds),
    ...(io.ctty ? [op.pty(user.uid, user.gid)] : []),
    ...s.exec.rlimits.map((l) => op.rlimit(l.resource, l.soft, l.hard, l.name)),
    ...(o.detach ? [op.prctl(op.PR.SET_PDEATHSIG, 0, "outlive mycfs: the engine that called it waits for this process")] : []),
    ...privileges(security, s.userns?.dropGroups !== false),
    op.exec({ argv: o.argv, env, path: pathVar, init: false, ctty: io.ctty }),
  ];
}

/** `io`: the OCI front end's (the engine's stdio, its console socket); else mycfs's own. */
export async function execIn(s: ContainerState, o: ExecOptions, ownIo?: ContainerIo): Promise<number> {
  const notRunning = () => new MycfsError(`container ${s.name ?? shortId(s.id)} is not running`);
  if (s.status !== "running") throw notRunning();
  const pidfd = pidfdOpen(s.container!.pid);
  // alive, and the same process, checked with the pidfd held: a recycled pid cannot be joined
  if (pidfd === null || !isAlive(s.container, s.bootId)) throw notRunning();
  const cgroup = s.cgroup && ContainerCgroup.of(hostCgroupFs, s.cgroup.layout, s.cgroup.name);
  try {
    const user = execUser(s, o, () => containerAccounts(s.container!.pid, pidfd));
    const io = ownIo ?? (await openIo(o));
    return await withCgroupFd(cgroup, (v2) => {
      const fds = { pidfd, cgroup: v2 };
      const viaEnter = throughEnterProgram(s);
      // the child shares our memory, and with it our dumpability
      if (!viaEnter) setDumpable(false);
      return runPlan({
        plan: buildExecPlan(s, o, fds, io, user, cgroup?.joinOps() ?? []),
        spawn: (plan) => (viaEnter ? spawnJoined(plan, [...io.fds, pidfd, v2]) : spawnInto(plan, pidfd, v2)),
        hooks: (pid) => {
          const listener = o.seccompListener;
          return listener ? { [Sync.SECCOMP]: (fd: number) => listener(fd, pid) } : {};
        },
        io,
        debug: o.debug,
        drainMs: 200,
        detach: o.detach === true,
        started: o.started,
      });
    });
  } finally {
    close(pidfd);
  }
}
