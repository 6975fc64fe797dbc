// config.json's hooks (runtime-spec 1.1, config.md#posix-platform-hooks, runtime.md): each
// hook { path, args, env, timeout } is run with the container's state JSON on stdin, in the
// order given, the next only after the last has exited. Where each kind runs, and when (the
// core calls runHooks at these points; `enter` says which namespaces):
//   - prestart (deprecated, as createRuntime): the runtime's namespaces, during create,
//     after the container's namespaces exist, before pivot_root;
//   - createRuntime: the runtime's namespaces, at the same point; path resolved there;
//   - createContainer: the CONTAINER's namespaces (enter: its pid), after createRuntime, before
//     pivot_root: its mount namespace still has the host's root, so the path resolves as in
//     the runtime's (as the spec says);
//   - startContainer: the CONTAINER's namespaces, during start, before the user's process
//     is executed: after pivot_root, so the path resolves in the container's root;
//   - poststart: the runtime's namespaces, after the user's process started, before start returns;
//   - poststop: the runtime's namespaces, after the container is deleted, before delete returns.
// A hook that exits non-zero, dies of a signal, outlives its timeout (then SIGKILLed) or
// cannot be started is an error naming the kind, index, path and why; for prestart,
// createRuntime, createContainer and startContainer the caller then stops the container and
// fails (the spec's MUST), while a failing poststart or poststop hook is a warning and the
// rest go on, as the spec says. As runc does, the hook's output is captured, not passed on
// (the CLI's stdout is its data), and the last line of its stderr ends the error.
// Into the container's namespaces a hook goes the way `mycfs exec` goes (exec.ts): a child
// cloned into its PID namespace (libmycfs spawnInto, on a pidfd), setns on the pidfd into
// its mount, UTS, IPC, network, cgroup (and user, if it has its own) namespaces, its root as
// the mount namespace's, then execve. The hook keeps mycfs's user, capabilities and cgroup
// (v2: `cgroupFd`, the container's directory, to be born there), and its argv[0] is its
// path: the child's exec step takes argv[0] as the file. mycfs makes itself non-dumpable
// first, as exec does. Unlike exec, hooks do not go through the enter program (exec.ts
// throughEnterProgram), as they run before the user's program is executed: nothing of the
// container runs yet that could reach the child before it execs, even with CAP_SYS_PTRACE.
// A rootless container's user owns its namespaces and could: mycfs without root refuses.
// (The core must not run them into namespaces other containers share, a pod's, whose
// processes may run.)
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MycfsError } from "../errors";
import { log } from "../log";
import { CLONE } from "../container/namespaces";

export const HOOK_KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

export interface Hook {
  path: string;
  /** argv, argv[0] included (execv's semantics) */
  args?: string[];
  /** KEY=VALUE: the whole environment (none when absent) */
  env?: string[];
  /** seconds; > 0 */
  timeout?: number;
}

/** runtime-spec's state of a container (runtime.md#state). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: "creating" | "created" | "running" | "stopped";
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export interface HookOptions {
  /** The container's first process: createContainer and startContainer run in its namespaces. */
  enter?: { pid: number; cgroupFd?: number };
}

/** Kinds the spec runs in the container's namespaces. */
const IN_CONTAINER: ReadonlySet<HookKind> = new Set(["createContainer", "startContainer"]);
/** Kinds whose failure is a warning, the rest going on. */
const WARN_ONLY: ReadonlySet<HookKind> = new Set(["poststart", "poststop"]);

/** Checks hooks.KIND from config.json: an error names the first bad field. */
export function checkHooks(kind: HookKind, hooks: unknown): Hook[] {
  if (hooks == null) return [];
  const where = `hooks.${kind}`;
  if (!Array.isArray(hooks)) throw new MycfsError(`${where}: expected an array of hooks`);
  return hooks.map((h, i) => {
    const at = `${where}[${i}]`;
    if (typeof h !== "object" || h === null || Array.isArray(h)) throw new MycfsError(`${at}: expected an object with path, args, env, timeout`);
    for (const key of Object.keys(h))
      if (!["path", "args", "env", "timeout"].includes(key)) throw new MycfsError(`${at}: unknown field '${key}' (known: path, args, env, timeout)`);
    const { path, args, env, timeout } = h as Record<string, unknown>;
    if (typeof path !== "string" || !path.startsWith("/")) throw new MycfsError(`${at}.path: expected an absolute path`);
    const strings = (v: unknown, field: string) => {
      if (v == null) return undefined;
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw new MycfsError(`${at}.${field}: expected an array of strings`);
      return v as string[];
    };
    const e = strings(env, "env");
    const bad = e?.find((kv) => !kv.includes("="));
    if (bad !== undefined) throw new MycfsError(`${at}.env: ${JSON.stringify(bad)} is not KEY=VALUE`);
    if (timeout != null && (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout <= 0))
      throw new MycfsError(`${at}.timeout: expected a whole number of seconds above 0`);
    return { path, args: strings(args, "args"), env: e, timeout: timeout ?? undefined };
  });
}

/** Runs the hooks of one kind in order; throws on the first failure (poststart and
 * poststop: warns and goes on). */
export async function runHooks(kind: HookKind, hooks: readonly Hook[] | undefined, state: OciState, opts: HookOptions = {}): Promise<void> {
  if (!hooks?.length) return;
  if (IN_CONTAINER.has(kind) && !opts.enter) throw new MycfsError(`hooks.${kind}: run in the container's namespaces, they need its pid`);
  const json = JSON.stringify(state);
  for (const [i, hook] of hooks.entries()) {
    const why = await runHook(hook, json, IN_CONTAINER.has(kind) ? opts.enter : undefined);
    if (why === null) continue;
    const message = `hooks.${kind}[${i}] ${hook.path}: ${why}`;
    if (!WARN_ONLY.has(kind)) throw new MycfsError(message);
    log.warn(message);
  }
}

/** null, or why the hook failed. */
async function runHook(hook: Hook, state: string, enter: HookOptions["enter"]): Promise<string | null> {
  // stdin, stdout and stderr are files: a hook that leaves a child holding its output
  // open is not waited for, and a large state is not stuck in a pipe
  const dir = mkdtempSync(join(tmpdir(), "mycfs-hook-"));
  const file = (name: string) => openSync(join(dir, name), "wx+", 0o600);
  const [stdin, stdout, stderr] = [file("stdin"), file("stdout"), file("stderr")];
  try {
    writeSync(stdin, state, 0);
    const started = enter ? await startInside(hook, enter, [stdin, stdout, stderr]) : startHere(hook, [stdin, stdout, stderr]);
    if (typeof started === "string") return started;
    let timedOut = false;
    const timer =
      hook.timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            started.kill();
          }, hook.timeout * 1000);
    const status = await started.exited;
    clearTimeout(timer);
    if (typeof status === "string") return status;
    if (timedOut) return `timed out after ${hook.timeout} s, killed`;
    if (status.code === 0) return null;
    const last = readFileSync(join(dir, "stderr"), "utf8").trimEnd().split("\n").at(-1)?.trim();
    return `${status.signal ? `killed by ${status.signal}` : `exit status ${status.code}`}${last ? `: ${last}` : ""}`;
  } finally {
    for (const fd of [stdin, stdout, stderr]) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Started {
  kill(): void;
  /** its exit, or why it could not be started */
  exited: Promise<{ code: number; signal?: string } | string>;
}

function startHere(hook: Hook, fds: [number, number, number]): Started | string {
  try {
    const p = Bun.spawn([hook.path, ...(hook.args ?? []).slice(1)], {
      argv0: hook.args?.[0] ?? hook.path,
      env: Object.fromEntries((hook.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
      stdio: fds,
    });
    return { kill: () => p.kill("SIGKILL"), exited: p.exited.then((code) => ({ code, signal: p.signalCode == null ? undefined : String(p.signalCode) })) };
  } catch (e) {
    return `cannot be started (${(e as Error).message})`;
  }
}

/** Through exec's machinery: a plan walked by a child cloned into the container. */
async function startInside(hook: Hook, enter: NonNullable<HookOptions["enter"]>, fds: [number, number, number]): Promise<Started | string> {
  const [{ pidfdOpen, close, setDumpable, spawnInto }, op, { runPlan }] = await Promise.all([
    import("../native/lib"),
    import("../plan/ops"),
    import("../container/run"),
  ]);
  const pidfd = pidfdOpen(enter.pid);
  if (pidfd === null) return `the container's process ${enter.pid} is gone`;
  // its own user namespace is joined too; joining one's own is an error (EINVAL)
  const ns = (pid: number | "self", name: string) => readlinkSync(`/proc/${pid}/ns/${name}`);
  const userns = ns(enter.pid, "user") !== ns("self", "user") ? CLONE.NEWUSER : 0;
  if (process.getuid?.() !== 0) {
    close(pidfd);
    return "refused: mycfs runs hooks in a container's namespaces only as root (a rootless container's user could reach the hook's process before it starts)";
  }
  const flags = userns | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWCGROUP;
  let pid = 0;
  const plan = [
    op.setns(pidfd, flags, `join the namespaces of the container's process ${enter.pid} (setns on a pidfd)`),
    op.root("/"),
    op.stdio(fds),
    op.exec({ argv: [hook.path, ...(hook.args ?? []).slice(1)], env: hook.env ?? [], path: "", init: false, ctty: false }),
  ];
  // the child shares our memory, and with it our dumpability, until it execs (exec.ts)
  setDumpable(false);
  const io = { fds, ctty: false, afterSpawn() {}, start() {}, drained: async () => {}, restore() {} };
  const exited = runPlan({
    plan,
    spawn: (p) => spawnInto(p, pidfd, enter.cgroupFd ?? -1),
    hooks: () => ({}),
    io,
    debug: false,
    started: (p) => {
      pid = p;
    },
  })
    .then(
      // runPlan answers as docker does: 128+N for a signal
      (code) => ({ code }),
      (e: Error) => `cannot be started in the container (${e.message})`,
    )
    .finally(() => close(pidfd));
  return {
    kill: () => {
      if (pid > 0) process.kill(pid, "SIGKILL");
    },
    exited,
  };
}
